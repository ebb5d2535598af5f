"""Bids close at the deadline without anything running: the history shows "bids closed" from
the deadline itself, and the poster is told once — by the first visit after the deadline or
by `flask bids notify-closed` (cron), whichever comes first."""
from datetime import timedelta

from sqlalchemy import select

from marketplace.audit.models import AuditEvent
from marketplace.core.time import frozen_now
from marketplace.extensions import db
from marketplace.jobs.models import Job
from marketplace.notifications.models import Notification

from .conftest import after_deadline, bid_data, client_for, make_open_job


def closed_notes(job):
    return db.session.scalars(select(Notification).where(
        Notification.kind == "bids_closed", Notification.job_id == job.id)).all()


def closed_events(job):
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "job.bids_closed", AuditEvent.target_id == job.id)).all()


def test_the_first_visit_after_the_deadline_tells_the_poster_once(app, client, job, poster, alpha_user):
    client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(job))
    assert client_for(app, poster).get(f"/jobs/{job.id}").status_code == 200
    assert closed_notes(job) == []
    with after_deadline(job):
        # Anyone's visit counts: here the bidder's.
        client_for(app, alpha_user).get(f"/jobs/{job.id}")
        client_for(app, alpha_user).get(f"/jobs/{job.id}")
        client_for(app, poster).get(f"/jobs/{job.id}/bids")
    [note] = closed_notes(job)
    assert note.user_id == poster.id and "1 bid to review" in note.message
    assert note.url == f"/jobs/{job.id}/bids"
    [event] = closed_events(job)
    assert event.data == {"bids": 1} and not event.public


def test_history_shows_bids_closed_at_the_deadline(app, client, poster_coop):
    job = make_open_job(poster_coop, visibility="public")
    assert "bids closed" not in client.get(f"/jobs/{job.id}").get_data(as_text=True)
    with after_deadline(job, minutes=90):
        html = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    history = html.split("<h2>History</h2>")[1]
    deadline = job.bids_deadline.replace(tzinfo=None)
    assert "bids closed" in history
    # Shown at the deadline itself, not at the visit 90 minutes later.
    from marketplace.core.templating import format_datetime

    assert format_datetime(deadline) + "</time>: bids closed" in history
    # The poster's notice is not public history.
    assert "poster told" not in history


def test_cli_tells_posters_once(app, runner, poster_coop, poster):
    due = make_open_job(poster_coop, poster, title="Due")
    not_yet = make_open_job(poster_coop, poster, title="Not yet",
                            bids_deadline=due.bids_deadline + timedelta(days=5))
    with after_deadline(due):
        first = runner.invoke(args=["bids", "notify-closed"])
        second = runner.invoke(args=["bids", "notify-closed"])
        client_for(app, poster).get(f"/jobs/{due.id}")
    assert first.exit_code == 0 and "Told the posters of 1 job that bids closed" in first.output
    assert "Told the posters of 0 jobs" in second.output
    db.session.expire_all()
    assert len(closed_notes(due)) == 1 and closed_notes(not_yet) == []
    assert len(closed_events(due)) == 1
    assert db.session.get(Job, due.id).bids_closed_notified_at is not None
    assert closed_notes(due)[0].url == f"/jobs/{due.id}/bids"


def test_withdrawn_jobs_are_not_noticed(app, runner, poster_coop, poster):
    job = make_open_job(poster_coop, poster)
    client_for(app, poster).post(f"/jobs/{job.id}/withdraw", data={"reason": ""})
    with frozen_now(job.bids_deadline + timedelta(hours=1)):
        result = runner.invoke(args=["bids", "notify-closed"])
        client_for(app, poster).get(f"/jobs/{job.id}")
    assert "0 jobs" in result.output and closed_notes(job) == []
