"""Interest: "we intend to bid by this date". The poster sees who; it lapses by itself (no
cron) when its date passes without a bid; it never blocks anyone else."""
from datetime import timedelta

from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.bids.models import Bid, Interest, InterestState
from marketplace.core.time import frozen_now, utcnow
from marketplace.extensions import db

from .conftest import bid_data, client_for


def interests():
    return db.session.scalars(select(Interest)).all()


def sql_state(interest):
    return db.session.scalar(select(Interest.state).where(Interest.id == interest.id))


def register(app, user, job, bid_by):
    return client_for(app, user).post(f"/jobs/{job.id}/interest", data={"bid_by": bid_by.isoformat()})


def test_register_interest_and_the_poster_sees_who(app, job, alpha, alpha_user, beta_user, poster):
    bid_by = (utcnow() + timedelta(days=5)).date()
    assert register(app, alpha_user, job, bid_by).status_code == 302
    [interest] = interests()
    assert (interest.coop_id, interest.bid_by, interest.state) == (alpha.id, bid_by, "active")
    poster_page = client_for(app, poster).get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Alpha Co-op" in poster_page and "Intends to bid" in poster_page
    # Others see how many, not who.
    beta_page = client_for(app, beta_user).get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "1 co-op intends to bid" in beta_page and "Alpha Co-op" not in beta_page
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.target_type == "interest")) == \
        "interest.registered"


def test_once_registered_the_form_gives_way_to_the_interest(app, job, alpha_user):
    page = client_for(app, alpha_user).get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Say that your co-op intends to bid" in page and 'value="Register interest"' in page
    bid_by = (utcnow() + timedelta(days=5)).date()
    register(app, alpha_user, job, bid_by)
    page = client_for(app, alpha_user).get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Say that your co-op intends to bid" not in page and 'value="Register interest"' not in page
    assert "Alpha Co-op registered its interest" in page and "Withdraw Alpha Co-op's interest" in page
    # once it has lapsed, the co-op may say so again
    with frozen_now(utcnow() + timedelta(days=6)):
        page = client_for(app, alpha_user).get(f"/jobs/{job.id}").get_data(as_text=True)
        assert "interest lapsed" in page and 'value="Register interest"' in page


def test_registering_again_moves_the_date(app, job, alpha_user):
    register(app, alpha_user, job, (utcnow() + timedelta(days=2)).date())
    later = (utcnow() + timedelta(days=6)).date()
    register(app, alpha_user, job, later)
    [interest] = interests()
    assert interest.bid_by == later


def test_interest_lapses_by_itself(app, job, alpha_user, poster):
    bid_by = (utcnow() + timedelta(days=2)).date()
    register(app, alpha_user, job, bid_by)
    [interest] = interests()
    the_day_after = utcnow() + timedelta(days=3)
    with frozen_now(the_day_after):
        assert interest.state == InterestState.LAPSED == sql_state(interest)
        poster_page = client_for(app, poster).get(f"/jobs/{job.id}").get_data(as_text=True)
        assert "Lapsed: no bid by that date" in poster_page
        alpha_page = client_for(app, alpha_user).get(f"/jobs/{job.id}").get_data(as_text=True)
        assert "interest lapsed" in alpha_page and "0 co-ops intend to bid" in alpha_page
    # Nothing was written: the state is derived from the date and the clock.
    db.session.refresh(interest)
    assert interest.bid_by == bid_by
    with frozen_now(utcnow()):
        assert interest.state == InterestState.ACTIVE == sql_state(interest)


def test_a_bid_fulfils_the_interest_even_late(app, job, alpha_user):
    register(app, alpha_user, job, (utcnow() + timedelta(days=1)).date())
    [interest] = interests()
    with frozen_now(utcnow() + timedelta(days=3)):
        client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(job))
        db.session.expire_all()
        assert interest.state == InterestState.BID == sql_state(interest)


def test_an_interest_never_blocks_anyone_else(app, job, alpha_user, beta_user):
    register(app, alpha_user, job, (utcnow() + timedelta(days=5)).date())
    assert client_for(app, beta_user).post(f"/jobs/{job.id}/bid", data=bid_data(job)).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Bid)) == 1


def test_bad_dates_are_refused(app, job, alpha_user):
    yesterday = (utcnow() - timedelta(days=1)).date()
    response = register(app, alpha_user, job, yesterday)
    assert response.status_code == 422 and "today or later" in response.get_data(as_text=True)
    after = (job.bids_deadline + timedelta(days=1)).date()
    response = register(app, alpha_user, job, after)
    assert response.status_code == 422 and "on or before the bids deadline" in response.get_data(as_text=True)
    response = client_for(app, alpha_user).post(f"/jobs/{job.id}/interest", data={"bid_by": "whenever"})
    assert response.status_code == 422 and "Not a valid date value" in response.get_data(as_text=True)
    assert interests() == []


def test_the_poster_cannot_register_interest_in_its_own_job(app, job, poster):
    assert register(app, poster, job, utcnow().date()).status_code == 403
    assert interests() == []


def test_withdraw_interest(app, job, alpha, alpha_user):
    register(app, alpha_user, job, utcnow().date())
    response = client_for(app, alpha_user).post(f"/jobs/{job.id}/interest/withdraw", data={"coop": alpha.id})
    assert response.status_code == 302
    assert interests() == []
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "interest")
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["interest.registered", "interest.withdrawn"]
    again = client_for(app, alpha_user).post(f"/jobs/{job.id}/interest/withdraw", data={"coop": alpha.id},
                                             follow_redirects=True)
    assert "has not registered an interest" in again.get_data(as_text=True)
