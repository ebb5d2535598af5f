"""After the deadline: the poster's co-op reviews the bids side by side, shortlists, awards
one (recording the agreed value and start) and the rest become unsuccessful, or cancels the
job. At most one award per job, in the database."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from marketplace.audit.models import AuditEvent
from marketplace.bids.models import Bid
from marketplace.extensions import db
from marketplace.jobs.models import Job

from ..factories import make_user
from .conftest import after_deadline, award_data, client_for, notes_for


def test_review_side_by_side(app, job, poster, two_bids):
    with after_deadline(job):
        html = client_for(app, poster).get(f"/jobs/{job.id}/bids").get_data(as_text=True)
    assert "The bids side by side" in html and "ALPHA PLAN" in html and "BETA PLAN" in html
    assert "£9,000" in html and "£7,000" in html
    assert html.count("Yes: Accessibility audits") >= 2  # each bid's answer, in the table


def test_award(app, job, poster, alpha_user, beta_user, two_bids):
    alpha_bid, beta_bid = two_bids
    poster_client = client_for(app, poster)
    with after_deadline(job):
        response = poster_client.post(f"/bids/{alpha_bid.id}/award", data=award_data(
            alpha_bid, others_feedback="Close call: your price was great."))
        assert response.status_code == 302
    db.session.expire_all()
    assert job.state == "awarded" and job.awarded_at is not None
    assert (alpha_bid.status, alpha_bid.agreed_value) == ("awarded", 8500)
    assert alpha_bid.agreed_start == (job.bids_deadline + timedelta(days=10)).date()
    assert (beta_bid.status, beta_bid.feedback) == ("unsuccessful", "Close call: your price was great.")
    assert [n.kind for n in notes_for(alpha_user)] == ["bid_awarded"]
    assert "£8,500" in notes_for(alpha_user)[0].message
    assert [n.kind for n in notes_for(beta_user)] == ["bid_unsuccessful"]
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert {"bid.awarded", "job.awarded", "bid.unsuccessful"} <= set(actions)
    # The award is in the public history; who won is shown to the job's audience (the
    # start date to the reviewers alone).
    with after_deadline(job):
        beta_page = client_for(app, beta_user).get(f"/jobs/{job.id}").get_data(as_text=True)
        assert ": awarded" in beta_page and "Awarded to <strong>Alpha Co-op</strong> for £8,500." in beta_page
        poster_page = poster_client.get(f"/jobs/{job.id}").get_data(as_text=True)
        assert "Awarded to <strong>Alpha Co-op</strong> for £8,500" in poster_page
        assert "Close call" in client_for(app, beta_user).get(f"/bids/{beta_bid.id}").get_data(as_text=True)


def test_award_before_the_deadline_is_refused(app, job, poster, two_bids):
    alpha_bid, _ = two_bids
    response = client_for(app, poster).post(f"/bids/{alpha_bid.id}/award", data=award_data(alpha_bid))
    assert response.status_code == 422
    assert "Bids are sealed until" in response.get_data(as_text=True)
    db.session.expire_all()
    assert alpha_bid.status == "submitted" and job.state == "open"


def test_a_second_award_is_refused(app, job, poster, two_bids):
    alpha_bid, beta_bid = two_bids
    poster_client = client_for(app, poster)
    with after_deadline(job):
        poster_client.post(f"/bids/{alpha_bid.id}/award", data=award_data(alpha_bid))
        response = poster_client.post(f"/bids/{beta_bid.id}/award", data=award_data(beta_bid))
    assert response.status_code == 422
    assert "already been awarded" in response.get_data(as_text=True)
    assert db.session.scalars(select(Bid.coop_id).where(Bid.status == "awarded")).all() == [alpha_bid.coop_id]


def test_at_most_one_awarded_bid_in_the_database(job, two_bids):
    for bid in two_bids:
        bid.status = "awarded"
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("value, start, message", [
    ("-1", None, "Must be between 0 and 100,000,000"),
    ("100000001", None, "Must be between 0 and 100,000,000"),
    ("much", None, "Not a valid integer value"),
    ("", None, "Give the agreed value"),
    ("8000", "", "Give the agreed start date"),
    ("8000", "2001-01-01", "after bids closed"),
])
def test_bad_award_input(app, job, poster, two_bids, value, start, message):
    alpha_bid, _ = two_bids
    with after_deadline(job):
        response = client_for(app, poster).post(f"/bids/{alpha_bid.id}/award",
                                                data=award_data(alpha_bid, value, start))
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.session.expire_all()
    assert job.status == "published" and {b.status for b in two_bids} == {"submitted"}
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.in_(["bid.awarded", "job.awarded", "bid.unsuccessful"]))) == 0


def test_shortlist_and_turn_down(app, job, poster, alpha_user, beta_user, two_bids):
    alpha_bid, beta_bid = two_bids
    poster_client = client_for(app, poster)
    with after_deadline(job):
        assert poster_client.post(f"/bids/{alpha_bid.id}/shortlist").status_code == 302
        again = poster_client.post(f"/bids/{alpha_bid.id}/shortlist", follow_redirects=True)
        assert "already shortlisted" in again.get_data(as_text=True)
        response = poster_client.post(f"/bids/{beta_bid.id}/reject",
                                      data={f"reject-{beta_bid.id}-feedback": "Over budget."})
        assert response.status_code == 302
        # An unsuccessful bid cannot then be awarded.
        response = poster_client.post(f"/bids/{beta_bid.id}/award", data=award_data(beta_bid))
        assert response.status_code == 422 and "This bid is unsuccessful" in response.get_data(as_text=True)
    db.session.expire_all()
    assert (alpha_bid.status, beta_bid.status, beta_bid.feedback) == ("shortlisted", "unsuccessful", "Over budget.")
    assert [n.kind for n in notes_for(alpha_user)] == ["bid_shortlisted"]
    assert [n.kind for n in notes_for(beta_user)] == ["bid_unsuccessful"]


def test_only_the_poster_decides(app, job, networks, alpha_user, two_bids):
    alpha_bid, beta_bid = two_bids
    coordinator = make_user("Cora Ordinator", coordinates=[networks["cotech"]])
    with after_deadline(job):
        coordinator_client = client_for(app, coordinator)
        # Coordinators of the job's networks review the bids but do not decide.
        assert "ALPHA PLAN" in coordinator_client.get(f"/jobs/{job.id}/bids").get_data(as_text=True)
        assert coordinator_client.post(f"/bids/{alpha_bid.id}/shortlist").status_code == 403
        # A bidder cannot even see the other bid, let alone decide on it.
        assert client_for(app, alpha_user).post(f"/bids/{beta_bid.id}/shortlist").status_code == 404
        assert client_for(app, alpha_user).post(f"/bids/{alpha_bid.id}/award",
                                                data=award_data(alpha_bid)).status_code == 403
    db.session.expire_all()
    assert {b.status for b in two_bids} == {"submitted"}


def test_cancel_the_job(app, job, poster, alpha_user, beta_user, two_bids):
    poster_client = client_for(app, poster)
    # Before the deadline, a job is withdrawn, not cancelled.
    page = poster_client.post(f"/jobs/{job.id}/cancel", data={"reason": "No budget", "confirmed": "yes"},
                              follow_redirects=True)
    assert "withdraw the job instead" in page.get_data(as_text=True)
    with after_deadline(job):
        page = poster_client.post(f"/jobs/{job.id}/cancel", data={"reason": "  ", "confirmed": "yes"},
                                  follow_redirects=True)
        assert "Give the reason for cancelling" in page.get_data(as_text=True)
        assert db.session.get(Job, job.id).status == "published"
        # After the deadline, withdrawing is refused: cancel instead.
        page = poster_client.post(f"/jobs/{job.id}/withdraw", data={"reason": "x", "confirmed": "yes"},
                                  follow_redirects=True)
        assert "cancel the job with a reason" in page.get_data(as_text=True)
        cancelled = poster_client.post(f"/jobs/{job.id}/cancel",
                                       data={"reason": "The client lost its funding.", "confirmed": "yes"})
        assert cancelled.status_code == 302
        db.session.expire_all()
        assert job.state == "cancelled" and job.cancelled_reason == "The client lost its funding."
        public = client_for(app, beta_user).get(f"/jobs/{job.id}").get_data(as_text=True)
        assert "cancelled" in public and "The client lost its funding." in public
        assert "Cancelled job" not in public
        listed = client_for(app, beta_user).get("/jobs?state=cancelled").get_data(as_text=True)
        assert job.title in listed
        # Nothing can be awarded any more.
        alpha_bid = two_bids[0]
        response = poster_client.post(f"/bids/{alpha_bid.id}/award", data=award_data(alpha_bid))
        assert response.status_code == 422 and "This job was cancelled" in response.get_data(as_text=True)
    for user in (alpha_user, beta_user):
        assert [n.kind for n in notes_for(user)] == ["job_withdrawn"]
        assert "lost its funding" in notes_for(user)[0].message
