"""Bids close at the deadline without anything running: the history shows "bids closed" from
the deadline itself, and the poster is told once, by `flask bids notify-closed` (cron). Reading a
page writes nothing: a crawler visiting a job after its deadline changes no row and sends nothing."""
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.core.time import frozen_now
from marketplace.extensions import db
from marketplace.jobs.models import Job
from marketplace.mail import outbox
from marketplace.notifications.models import Notification

from ..factories import make_job
from .conftest import after_deadline, bid_data, client_for, make_open_job


def closed_notes(job):
    return db.session.scalars(select(Notification).where(
        Notification.kind == "bids_closed", Notification.job_id == job.id)).all()


def closed_events(job):
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "job.bids_closed", AuditEvent.target_id == job.id)).all()


def _rows():
    return (db.session.scalar(select(func.count(Notification.id))),
            db.session.scalar(select(func.count(AuditEvent.id))))


def test_visits_after_the_deadline_write_nothing_and_the_command_tells_the_poster_once(
        app, client, runner, job, poster, alpha_user):
    mail_outbox = outbox(app)
    client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(job))
    before, sent = _rows(), len(mail_outbox)
    with after_deadline(job):
        # A crawler, the bidder and the poster read the pages: nothing is written or sent.
        assert client.get(f"/jobs/{job.id}").status_code in (200, 404)
        client_for(app, alpha_user).get(f"/jobs/{job.id}")
        client_for(app, poster).get(f"/jobs/{job.id}")
        client_for(app, poster).get(f"/jobs/{job.id}/bids")
        db.session.expire_all()
        assert _rows() == before and len(mail_outbox) == sent
        assert db.session.get(Job, job.id).bids_closed_notified_at is None
        assert "Told the posters of 1 job" in runner.invoke(args=["bids", "notify-closed"]).output
    [note] = closed_notes(job)
    assert note.user_id == poster.id and "1 bid to review" in note.message
    assert note.url == f"/jobs/{job.id}/bids"
    [event] = closed_events(job)
    assert event.data == {"bids": 1} and not event.public


@pytest.mark.postgres_only
def test_two_runs_of_the_command_at_once_tell_the_poster_once(app, poster_coop, poster):
    """Two cron runs overlapping (a slow one and the next), as separate processes."""
    jobs = [make_job(poster_coop, "cotech", "closed", user=poster, title=f"Closed {n}") for n in range(5)]
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": app.config["SECRET_KEY"], "MAIL_BACKEND": "memory"}
    command = [sys.executable, "-m", "flask", "--app", "marketplace", "bids", "notify-closed"]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
    outputs = [run.communicate(timeout=120)[0].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    db.session.expire_all()
    assert [len(closed_notes(job)) for job in jobs] == [1] * 5
    assert [len(closed_events(job)) for job in jobs] == [1] * 5


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
    client_for(app, poster).post(f"/jobs/{job.id}/withdraw", data={"reason": "", "confirmed": "yes"})
    with frozen_now(job.bids_deadline + timedelta(hours=1)):
        result = runner.invoke(args=["bids", "notify-closed"])
        client_for(app, poster).get(f"/jobs/{job.id}")
    assert "0 jobs" in result.output and closed_notes(job) == []
