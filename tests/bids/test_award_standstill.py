"""An award as in a real tender: confirmed on a page that says what it will do, intended
during a standstill period (``AWARD_STANDSTILL_DAYS``) when unsuccessful bidders may ask for
feedback and the poster may withdraw it with a reason, then final; and the bids' spreadsheet."""
import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from marketplace.audit.models import AuditEvent
from marketplace.core.time import frozen_now
from marketplace.extensions import db
from marketplace.jobs.models import Job
from marketplace.notifications.models import Notification

from .conftest import after_deadline, award_data, bid_data, client_for, notes_for


@pytest.fixture
def standstill(app, monkeypatch):
    monkeypatch.setitem(app.config, "AWARD_STANDSTILL_DAYS", 10)
    return 10


def _carried(html):
    """The confirmation page's hidden fields, as its "Yes" button posts them."""
    return MultiDict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


def test_the_award_is_confirmed_on_a_page_that_says_what_it_will_do(app, job, poster, two_bids):
    alpha_bid, beta_bid = two_bids
    poster_client = client_for(app, poster)
    with after_deadline(job):
        asked = poster_client.post(f"/bids/{alpha_bid.id}/award", data=award_data(
            alpha_bid, confirmed=False, others_feedback="Close call.", publish_outcome="y"))
        page = asked.get_data(as_text=True)
        assert asked.status_code == 200 and "Yes, award" in page
        for said in ("Alpha Co-op", "£8,500", "Beta Co-op: unsuccessful", "Alpha Co-op: they won", "Close call.",
                     "At once: an award cannot be taken back.", "Everyone who can see the job, signed in or not",
                     f'href="/jobs/{job.id}/bids#bid-{alpha_bid.id}">Cancel</a>'):
            assert said in page, said
        db.session.expire_all()
        assert job.status == "published" and {b.status for b in two_bids} == {"submitted"}
        # Its "Yes, award" posts the same fields again, confirmed.
        done = poster_client.post(f"/bids/{alpha_bid.id}/award", data=_carried(page))
        assert done.status_code == 302
    db.session.expire_all()
    assert (job.state, job.outcome_public, alpha_bid.status, beta_bid.status) == (
        "awarded", True, "awarded", "unsuccessful")


def test_a_refused_award_says_why_before_any_confirmation(app, job, poster, two_bids):
    alpha_bid, _ = two_bids
    response = client_for(app, poster).post(f"/bids/{alpha_bid.id}/award", data=award_data(alpha_bid, confirmed=False))
    assert response.status_code == 422 and "Bids are sealed until" in response.get_data(as_text=True)
    assert "Yes, award" not in response.get_data(as_text=True)


def test_intended_award_feedback_and_then_final(app, job, poster, alpha_user, beta_user, two_bids, standstill):
    alpha_bid, beta_bid = two_bids
    with after_deadline(job):
        asked = client_for(app, poster).post(f"/bids/{alpha_bid.id}/award", data=award_data(alpha_bid, confirmed=False))
        assert "Intended until" in asked.get_data(as_text=True)
        assert client_for(app, poster).post(f"/bids/{alpha_bid.id}/award", data=award_data(alpha_bid)).status_code == 302
        db.session.expire_all()
        final = job.awarded_at + timedelta(days=10)
        final_text = f"{final.day} {final:%b %Y}"
        page = client_for(app, beta_user).get(f"/jobs/{job.id}").get_data(as_text=True)
        assert "Intended award, made on" in page and "final on" in page and final_text in page
        assert "Intended award to <strong>Alpha Co-op</strong> for £8,500." in page
        assert f"final on {final_text}" in notes_for(alpha_user)[0].message
        assert f"The award is intended, final on {final_text}" in notes_for(beta_user)[0].message
        # The unsuccessful bidder asks why, once; the poster is told.
        beta = client_for(app, beta_user)
        assert "Ask the poster for feedback" in beta.get(f"/bids/{beta_bid.id}").get_data(as_text=True)
        empty = beta.post(f"/bids/{beta_bid.id}/feedback-request", data={"request": "  "})
        assert empty.status_code == 422 and "Say what you would like feedback on." in empty.get_data(as_text=True)
        assert beta.post(f"/bids/{beta_bid.id}/feedback-request",
                         data={"request": "Was it the price?"}).status_code == 302
        again = beta.post(f"/bids/{beta_bid.id}/feedback-request", data={"request": "And?"})
        assert again.status_code == 422 and "already asked" in again.get_data(as_text=True)
        # The winner has nothing to ask; another co-op's bid is not theirs to ask about.
        assert client_for(app, alpha_user).post(f"/bids/{beta_bid.id}/feedback-request",
                                                data={"request": "x"}).status_code == 404
        seen = client_for(app, poster).get(f"/bids/{beta_bid.id}").get_data(as_text=True)
        assert "Feedback asked for" in seen and "Was it the price?" in seen
    db.session.expire_all()
    assert beta_bid.feedback_request == "Was it the price?" and beta_bid.feedback_requested_at is not None
    told = db.session.scalars(select(Notification).where(Notification.kind == "feedback_requested")).all()
    assert {n.user_id for n in told} == {poster.id}
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "bid.feedback_requested")).all()
    # Once the standstill ends the award is final: no more requests, no withdrawing.
    with frozen_now(final):
        page = client_for(app, beta_user).get(f"/jobs/{job.id}").get_data(as_text=True)
        assert "This job was awarded on" in page and "Intended" not in page
        assert "Awarded to <strong>Alpha Co-op</strong>" in page
        late = client_for(app, poster).post(f"/jobs/{job.id}/award/withdraw", data={"reason": "x", "confirmed": "yes"})
        assert late.status_code == 422 and "The award is final" in late.get_data(as_text=True)


def test_the_poster_answers_a_request_for_feedback(app, job, poster, alpha_user, beta_user, two_bids, standstill):
    alpha_bid, beta_bid = two_bids
    poster_client, beta = client_for(app, poster), client_for(app, beta_user)
    with after_deadline(job):
        poster_client.post(f"/bids/{alpha_bid.id}/award", data=award_data(alpha_bid, others_feedback="Close call."))
        # Nothing to answer before the bidder asks.
        assert "Answer Beta Co-op" not in poster_client.get(f"/bids/{beta_bid.id}").get_data(as_text=True)
        early = poster_client.post(f"/bids/{beta_bid.id}/feedback", data={"feedback": "Unasked."})
        assert early.status_code == 422 and "has not asked for feedback" in early.get_data(as_text=True)
        beta.post(f"/bids/{beta_bid.id}/feedback-request", data={"request": "Was it the price?"})
        page = poster_client.get(f"/bids/{beta_bid.id}").get_data(as_text=True)
        assert "Answer Beta Co-op's request for feedback" in page and "Close call." in page
        empty = poster_client.post(f"/bids/{beta_bid.id}/feedback", data={"feedback": " "})
        assert empty.status_code == 422 and "Write your feedback to the bidder." in empty.get_data(as_text=True)
        # Only the poster's co-op answers: the bidder may see its bid but not answer for the poster.
        assert beta.post(f"/bids/{beta_bid.id}/feedback", data={"feedback": "x"}).status_code == 403
        assert client_for(app, alpha_user).post(f"/bids/{beta_bid.id}/feedback",
                                                data={"feedback": "x"}).status_code == 404
        answered = poster_client.post(f"/bids/{beta_bid.id}/feedback",
                                      data={"feedback": "Your price was 20% above the winner's."})
        assert answered.status_code == 302
        assert "Your price was 20% above the winner&#39;s." in beta.get(f"/bids/{beta_bid.id}").get_data(as_text=True)
    db.session.expire_all()
    assert beta_bid.feedback == "Your price was 20% above the winner's." and beta_bid.status == "unsuccessful"
    assert "The poster answered your request for feedback" in notes_for(beta_user)[-1].message
    assert not any("answered your request" in n.message for n in notes_for(alpha_user))
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "bid.feedback_given")).all()


def test_the_poster_withdraws_an_intended_award(app, job, poster, alpha_user, beta_user, two_bids, standstill):
    alpha_bid, beta_bid = two_bids
    poster_client = client_for(app, poster)
    with after_deadline(job):
        poster_client.post(f"/bids/{alpha_bid.id}/shortlist")
        poster_client.post(f"/bids/{alpha_bid.id}/award", data=award_data(alpha_bid, others_feedback="Sorry."))
        review = poster_client.get(f"/jobs/{job.id}/bids").get_data(as_text=True)
        assert "Withdraw the intended award" in review
        empty = poster_client.post(f"/jobs/{job.id}/award/withdraw", data={"reason": ""})
        assert empty.status_code == 422 and "Give the reason" in empty.get_data(as_text=True)
        asked = poster_client.post(f"/jobs/{job.id}/award/withdraw", data={"reason": "The client changed the scope."})
        page = asked.get_data(as_text=True)
        assert asked.status_code == 200 and "Yes, withdraw the award" in page and "Alpha Co-op, £8,500" in page
        db.session.expire_all()
        assert job.status == "awarded"
        assert poster_client.post(f"/jobs/{job.id}/award/withdraw", data=_carried(page)).status_code == 302
        db.session.expire_all()
        assert job.state == "closed" and job.awarded_at is None
        # The bids the award decided are back in the running, as they were.
        assert (alpha_bid.status, alpha_bid.agreed_value, beta_bid.status, beta_bid.feedback) == (
            "shortlisted", None, "submitted", "")
        for user in (alpha_user, beta_user):
            assert "The client changed the scope." in notes_for(user)[-1].message
        # The poster may decide again.
        assert poster_client.post(f"/bids/{beta_bid.id}/award", data=award_data(beta_bid)).status_code == 302
    db.session.expire_all()
    assert (job.state, beta_bid.status, alpha_bid.status) == ("awarded", "awarded", "unsuccessful")
    assert "job.award_withdrawn" in db.session.scalars(select(AuditEvent.action)).all()


def test_no_withdrawing_without_a_standstill(app, job, poster, two_bids):
    alpha_bid, _ = two_bids
    poster_client = client_for(app, poster)
    with after_deadline(job):
        poster_client.post(f"/bids/{alpha_bid.id}/award", data=award_data(alpha_bid))
        assert "Withdraw the intended award" not in poster_client.get(f"/jobs/{job.id}/bids").get_data(as_text=True)
        refused = poster_client.post(f"/jobs/{job.id}/award/withdraw", data={"reason": "x", "confirmed": "yes"})
        assert refused.status_code == 422 and "The award is final" in refused.get_data(as_text=True)
    assert db.session.get(Job, job.id).status == "awarded"


def test_the_bids_spreadsheet(app, job, poster, alpha_user, beta_user):
    client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(job, price="9000"))
    beta_answers = {f"answer_{r.id}": "=HYPERLINK(\"http://evil\")" for r in job.requirements}
    client_for(app, beta_user).post(f"/jobs/{job.id}/bid", data=bid_data(job, price="7000", **beta_answers))
    poster_client = client_for(app, poster)
    assert poster_client.get(f"/jobs/{job.id}/bids.csv").status_code == 404  # sealed until bids close
    with after_deadline(job):
        assert 'bids.csv" download>Download the bids' in poster_client.get(f"/jobs/{job.id}/bids").get_data(as_text=True)
        response = poster_client.get(f"/jobs/{job.id}/bids.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="job-{job.id}-bids.csv"'
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    header, *rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert header == ["Bidder", "Consortium members", "Price", "Price type", "Total", "Currency", "Can start",
                      "Status", "Submitted at (UTC)", "Accessibility audits", "Python 3"]
    assert [r[:6] + r[7:8] for r in rows] == [["Alpha Co-op", "", "9000", "Fixed price", "9000", "GBP", "Submitted"],
                                              ["Beta Co-op", "", "7000", "Fixed price", "7000", "GBP", "Submitted"]]
    assert rows[0][9:] == ["Yes: Accessibility audits", "Yes: Python 3"]
    assert rows[1][9:] == ["'=HYPERLINK(\"http://evil\")"] * 2  # never a formula in a spreadsheet


def test_the_cached_job_page_turns_final_by_the_clock(app, job, poster, alpha_user, two_bids, standstill):
    """No write happens when the standstill ends: the shared job page is not kept past it."""
    alpha_bid, _ = two_bids
    alpha = client_for(app, alpha_user)
    with after_deadline(job):
        client_for(app, poster).post(f"/bids/{alpha_bid.id}/award", data=award_data(alpha_bid))
        assert "Intended award, made on" in alpha.get(f"/jobs/{job.id}").get_data(as_text=True)
    db.session.expire_all()
    with frozen_now(job.awarded_at + timedelta(days=10)):
        assert "This job was awarded on" in alpha.get(f"/jobs/{job.id}").get_data(as_text=True)
