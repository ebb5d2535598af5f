"""Drafting, submitting, editing and withdrawing bids through the real pages; the rules
that refuse bad bids; one live bid per co-op per job, in the database."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from marketplace.audit.models import AuditEvent
from marketplace.bids.models import Bid, BidAnswer
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.notifications.models import Notification

from ..factories import make_coop, make_user
from .conftest import after_deadline, bid_data, client_for


def bids():
    return db.session.scalars(select(Bid).order_by(Bid.id)).all()


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def bid_actions():
    return [e.action for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.target_type == "bid").order_by(AuditEvent.id))]


def test_submit_a_bid(app, job, alpha, alpha_user, poster):
    alpha_client = client_for(app, alpha_user)
    form = alpha_client.get(f"/jobs/{job.id}/bid").get_data(as_text=True)
    assert "Accessibility audits" in form and "Python 3" in form and "Bidding for <strong>Alpha Co-op" in form
    response = alpha_client.post(f"/jobs/{job.id}/bid", data=bid_data(job))
    [bid] = bids()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/bids/{bid.id}")
    assert (bid.status, bid.coop_id, bid.amount, bid.total) == ("submitted", alpha.id, 9000, 9000)
    assert bid.submitted_at is not None
    assert "<strong>do it well</strong>" in bid.proposal_html and "<script>" not in bid.proposal_html
    assert sorted(a.answer for a in bid.answers) == ["Yes: Accessibility audits", "Yes: Python 3"]
    assert bid_actions() == ["bid.submitted"]
    page = alpha_client.get(f"/bids/{bid.id}").get_data(as_text=True)
    assert "£9,000" in page and "Yes: Python 3" in page and "only your co-op sees this bid" in page
    # The poster is told that a bid came, and nothing else about it.
    [note] = db.session.scalars(select(Notification)).all()
    assert note.user_id == poster.id and note.kind == "bid_received"
    assert "1 so far" in note.message and "9,000" not in note.message and "Alpha" not in note.message
    assert "1 received" in client_for(app, poster).get(f"/jobs/{job.id}").get_data(as_text=True)


def test_day_rate_bid(app, job, alpha_user):
    client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(
        job, price_type="day_rate", price="", day_rate="450", days="20"))
    [bid] = bids()
    assert (bid.price_type, bid.amount, bid.days, bid.total) == ("day_rate", 450, 20, 9000)
    assert bid.price_label == "£450 a day × 20 days"


def test_draft_then_submit(app, job, alpha_user):
    alpha_client = client_for(app, alpha_user)
    draft = bid_data(job, submit=False, proposal="", available_from="")
    assert alpha_client.post(f"/jobs/{job.id}/bid", data=draft).status_code == 302
    [bid] = bids()
    assert bid.status == "draft" and bid.submitted_at is None
    # A draft is incomplete; submitting it asks for what is missing, and keeps it a draft.
    response = alpha_client.post(f"/jobs/{job.id}/bid", data={**draft, "bid_id": str(bid.id),
                                                               "submit": "Submit bid"})
    assert response.status_code == 422
    assert "Say when your co-op can start" in response.get_data(as_text=True)
    db.session.refresh(bid)
    assert bid.status == "draft"
    response = alpha_client.post(f"/jobs/{job.id}/bid", data=bid_data(job, bid_id=str(bid.id)))
    assert response.status_code == 302
    db.session.refresh(bid)
    assert bid.status == "submitted" and len(bids()) == 1
    assert bid_actions() == ["bid.created", "bid.submitted"]


def test_every_requirement_must_be_answered(app, job, alpha_user):
    first = job.requirements[0]
    response = client_for(app, alpha_user).post(
        f"/jobs/{job.id}/bid", data=bid_data(job, **{f"answer_{first.id}": "  "}))
    assert response.status_code == 422
    assert "Answer the requirement “Accessibility audits”" in response.get_data(as_text=True)
    assert count(Bid) == 0


def test_a_second_submit_edits_the_first(app, job, alpha, alpha_user):
    """Two tabs, or two members of the co-op: the second submit edits the one live bid."""
    other_member = make_user("Al Alpha", coops=[alpha])
    client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(job))
    response = client_for(app, other_member).post(f"/jobs/{job.id}/bid", data=bid_data(job, price="8500"))
    assert response.status_code == 302
    [bid] = bids()
    assert bid.amount == 8500 and bid.status == "submitted"
    assert bid_actions() == ["bid.submitted", "bid.updated"]
    # The poster heard about one bid, once.
    assert count(Notification) == 1


def test_the_form_shows_the_saved_bid(app, job, alpha_user):
    alpha_client = client_for(app, alpha_user)
    alpha_client.post(f"/jobs/{job.id}/bid", data=bid_data(job, price="7777"))
    html = alpha_client.get(f"/jobs/{job.id}/bid").get_data(as_text=True)
    assert 'value="7777"' in html and "Yes: Python 3" in html and f'value="{bids()[0].id}"' in html


def test_one_live_bid_per_coop_in_the_database(job, alpha):
    db.session.add(Bid(job=job, coop=alpha, status="submitted"))
    db.session.commit()
    db.session.add(Bid(job=job, coop=alpha, status="draft"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # Withdrawn bids are kept as records beside the live one.
    db.session.add_all([Bid(job=job, coop=alpha, status="withdrawn"), Bid(job=job, coop=alpha, status="withdrawn")])
    db.session.commit()
    assert count(Bid) == 3


def test_withdraw_then_edit_is_refused_then_a_new_bid(app, job, alpha_user):
    alpha_client = client_for(app, alpha_user)
    alpha_client.post(f"/jobs/{job.id}/bid", data=bid_data(job))
    [bid] = bids()
    assert alpha_client.post(f"/bids/{bid.id}/withdraw").status_code == 302
    db.session.refresh(bid)
    assert bid.status == "withdrawn" and bid.withdrawn_at is not None
    # A form opened before the withdrawal cannot edit (or revive) the withdrawn bid.
    response = alpha_client.post(f"/jobs/{job.id}/bid", data=bid_data(job, price="1", bid_id=str(bid.id)))
    assert response.status_code == 422
    assert "was withdrawn" in response.get_data(as_text=True)
    db.session.refresh(bid)
    assert bid.amount == 9000 and bid.status == "withdrawn" and count(Bid) == 1
    # A second withdrawal is refused with a message.
    again = alpha_client.post(f"/bids/{bid.id}/withdraw", follow_redirects=True)
    assert "already withdrawn" in again.get_data(as_text=True)
    # Starting again makes a new bid; the withdrawn one stays as it was.
    assert "Start a new bid" in alpha_client.get(f"/jobs/{job.id}").get_data(as_text=True)
    alpha_client.post(f"/jobs/{job.id}/bid", data=bid_data(job, price="8000"))
    assert [(b.status, b.amount) for b in bids()] == [("withdrawn", 9000), ("submitted", 8000)]
    assert bid_actions() == ["bid.submitted", "bid.withdrawn", "bid.submitted"]


def test_cannot_bid_on_own_job(app, job, poster):
    poster_client = client_for(app, poster)
    assert poster_client.get(f"/jobs/{job.id}/bid").status_code == 403
    response = poster_client.post(f"/jobs/{job.id}/bid", data=bid_data(job))
    assert response.status_code == 403 and "cannot bid on its own job" in response.get_data(as_text=True)
    assert count(Bid) == 0


def test_cannot_bid_on_a_job_it_may_not_see(app, job, networks):
    """A workers.coop-only co-op cannot see a CoTech-only job: 404, as for a job that does not exist."""
    outsider = make_user(coops=[make_coop("Workers Only", {networks["workers-coop"]: "active"})])
    outsider_client = client_for(app, outsider)
    assert outsider_client.get(f"/jobs/{job.id}/bid").status_code == 404
    assert outsider_client.post(f"/jobs/{job.id}/bid", data=bid_data(job)).status_code == 404
    assert count(Bid) == 0


def test_a_member_of_two_coops_bids_only_for_one_that_can_see(app, job, alpha, networks):
    hidden = make_coop("Workers Only", {networks["workers-coop"]: "active"})
    user = make_user(coops=[alpha, hidden])
    response = client_for(app, user).post(f"/jobs/{job.id}/bid", data=bid_data(job, coop=str(hidden.id)))
    assert response.status_code == 422 and "Choose one of your co-ops" in response.get_data(as_text=True)
    assert count(Bid) == 0


def test_anonymous_is_sent_to_sign_in_or_told_nothing(client, job, poster_coop):
    from .conftest import make_open_job

    public_job = make_open_job(poster_coop, visibility="public")
    response = client.get(f"/jobs/{public_job.id}/bid")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    # A members-only job is not confirmed to exist.
    assert client.get(f"/jobs/{job.id}/bid").status_code == 404


@pytest.mark.parametrize("change, message", [
    ({"price": "-5"}, "Must be between 1 and 100,000,000"),
    ({"price": "0"}, "Must be between 1 and 100,000,000"),
    ({"price": "100000001"}, "Must be between 1 and 100,000,000"),
    ({"price": "99999999999999999999999"}, "Must be between 1 and 100,000,000"),
    ({"price": "lots"}, "Not a valid integer value"),
    ({"price": ""}, "Give a price before submitting"),
    ({"price_type": "day_rate", "day_rate": "50001", "days": "2"}, "Must be between 1 and 50,000"),
    ({"price_type": "day_rate", "day_rate": "500", "days": "0"}, "Must be between 1 and 1,000 days"),
    ({"price_type": "day_rate", "day_rate": "500", "days": "1001"}, "Must be between 1 and 1,000 days"),
    ({"price_type": "day_rate", "day_rate": "-500", "days": "10"}, "Must be between 1 and 50,000"),
    ({"price_type": "day_rate", "day_rate": "500", "days": ""}, "Say how many days"),
    ({"price_type": "barter"}, "Not a valid choice"),
    ({"available_from": "2001-01-01"}, "cannot be in the past"),
    ({"available_from": "2099-01-01"}, "more than five years away"),
    ({"available_from": "soon"}, "Not a valid date value"),
    ({"proposal": "   "}, "Write your proposal before submitting"),
    ({"proposal": "x" * 20001}, "longer than 20000"),
    ({"answer_999999": "Yes"}, "answers a requirement this job does not have"),
])
def test_bad_bids_are_refused_and_nothing_is_saved(app, job, alpha_user, change, message):
    response = client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(job, **change))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and message.lower() in html.lower()
    assert count(Bid) == 0 and count(BidAnswer) == 0 and count(AuditEvent) == 0 and count(Notification) == 0


def test_an_unknown_requirement_is_refused_by_the_rules_too(job, alpha, alpha_user):
    """The rules check what the form checks, for callers other than the form."""
    from marketplace.bids import services

    values = services.BidValues(amount=100, available_from=utcnow().date(), proposal="p",
                                answers={job.requirements[0].id: "a", 424242: "b"})
    with pytest.raises(services.BidRuleError, match="does not have"):
        services.save_bid(job, alpha, alpha_user, values, submit=True)
    db.session.rollback()
    assert count(Bid) == 0


def test_bids_after_the_deadline_are_refused(app, job, alpha_user):
    alpha_client = client_for(app, alpha_user)
    with after_deadline(job):
        response = alpha_client.post(f"/jobs/{job.id}/bid", data=bid_data(job))
        assert response.status_code == 422
        assert "Bids closed on" in response.get_data(as_text=True)
        page = alpha_client.get(f"/jobs/{job.id}/bid", follow_redirects=True).get_data(as_text=True)
        assert "It takes no more bids" in page
    assert count(Bid) == 0 and bid_actions() == []


def test_a_submitted_bid_cannot_be_withdrawn_after_the_deadline(app, job, alpha_user):
    alpha_client = client_for(app, alpha_user)
    alpha_client.post(f"/jobs/{job.id}/bid", data=bid_data(job))
    [bid] = bids()
    with after_deadline(job):
        page = alpha_client.post(f"/bids/{bid.id}/withdraw", follow_redirects=True).get_data(as_text=True)
        assert "can no longer be withdrawn" in page
    db.session.refresh(bid)
    assert bid.status == "submitted"


def test_no_bids_on_a_withdrawn_job(app, job, poster, alpha_user):
    client_for(app, poster).post(f"/jobs/{job.id}/withdraw", data={"reason": "Client went away", "confirmed": "yes"})
    response = client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(job))
    assert response.status_code == 422 and "This job was withdrawn" in response.get_data(as_text=True)
    assert count(Bid) == 0


def test_sealed_until_the_deadline(app, job, poster, alpha_user, beta_user):
    client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(job, proposal="SECRET PROPOSAL"))
    [bid] = bids()
    poster_client, beta_client = client_for(app, poster), client_for(app, beta_user)
    for viewer in (poster_client, beta_client):
        assert viewer.get(f"/bids/{bid.id}").status_code == 404
        review = viewer.get(f"/jobs/{job.id}/bids").get_data(as_text=True)
        assert "1 bid received" in review and "SECRET" not in review and "Alpha" not in review
        page = viewer.get(f"/jobs/{job.id}").get_data(as_text=True)
        assert "1 bid received" in page and "SECRET" not in page and "Alpha Co-op" not in page
    with after_deadline(job):
        assert poster_client.get(f"/bids/{bid.id}").status_code == 200
        assert "SECRET PROPOSAL" in poster_client.get(f"/jobs/{job.id}/bids").get_data(as_text=True)
        # Other bidders never see it.
        assert beta_client.get(f"/bids/{bid.id}").status_code == 404
        assert "SECRET" not in beta_client.get(f"/jobs/{job.id}/bids").get_data(as_text=True)


def test_drafts_stay_with_their_coop_after_the_deadline(app, job, poster, alpha_user):
    client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(job, submit=False, proposal="DRAFT TEXT"))
    [bid] = bids()
    with after_deadline(job):
        poster_client = client_for(app, poster)
        assert poster_client.get(f"/bids/{bid.id}").status_code == 404
        review = poster_client.get(f"/jobs/{job.id}/bids").get_data(as_text=True)
        assert "DRAFT TEXT" not in review and "no bid was received" in review


def test_our_bids_page(app, job, alpha, alpha_user, poster_coop, poster):
    from .conftest import make_open_job

    public_job = make_open_job(poster_coop, poster, "public", title="Another job", requirements=())
    alpha_client = client_for(app, alpha_user)
    alpha_client.post(f"/jobs/{job.id}/bid", data=bid_data(job))
    alpha_client.post(f"/jobs/{public_job.id}/bid", data=bid_data(public_job, submit=False))
    html = alpha_client.get("/bids").get_data(as_text=True)
    assert job.title in html and "Another job" in html and "Draft" in html and "Submitted" in html
    # Once the co-op's CoTech membership ends, the CoTech-only job drops out of the list.
    alpha.memberships[0].until = date(2020, 6, 1)
    db.session.commit()
    html = alpha_client.get("/bids").get_data(as_text=True)
    assert job.title not in html and "Another job" in html


def test_bid_forms_need_csrf(app, csrf, job, alpha_user):
    response = client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(job))
    assert response.status_code == 400
    assert count(Bid) == 0


def test_start_date_may_be_today(app, job, alpha_user):
    today = utcnow().date().isoformat()
    response = client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(job, available_from=today))
    assert response.status_code == 302
    assert bids()[0].available_from.isoformat() == today


def test_absurd_dates_do_not_reach_the_database(app, job, alpha_user):
    far = (utcnow() + timedelta(days=6 * 366)).date().isoformat()
    response = client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(job, available_from=far))
    assert response.status_code == 422 and count(Bid) == 0
