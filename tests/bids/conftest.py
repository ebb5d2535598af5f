"""A small world for bidding tests: a poster co-op with an open job that lists essential
requirements, two other co-ops that can bid, and helpers to post bid forms."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.bids.models import Bid
from marketplace.core.time import frozen_now, utcnow
from marketplace.extensions import db
from marketplace.jobs.models import JobRequirement
from marketplace.notifications.models import Notification

from ..conftest import login
from ..factories import make_coop, make_job, make_user


@pytest.fixture
def poster_coop(networks):
    return make_coop("Poster Co-op", {networks["cotech"]: "active"})


@pytest.fixture
def poster(poster_coop):
    return make_user("Pat Poster", coops={poster_coop: "admin"})


@pytest.fixture
def job(poster_coop, poster):
    return make_open_job(poster_coop, poster)


def make_open_job(coop, user=None, visibility="cotech", requirements=("Accessibility audits", "Python 3"),
                  **fields):
    job = make_job(coop, visibility, "open", user=user, **fields)
    for position, text in enumerate(requirements):
        db.session.add(JobRequirement(job=job, position=position, text=text))
    db.session.commit()
    return job


@pytest.fixture
def alpha(networks):
    return make_coop("Alpha Co-op", {networks["cotech"]: "active"})


@pytest.fixture
def beta(networks):
    return make_coop("Beta Co-op", {networks["cotech"]: "active"})


@pytest.fixture
def alpha_user(alpha):
    return make_user("Ada Alpha", coops=[alpha])


@pytest.fixture
def beta_user(beta):
    return make_user("Bo Beta", coops=[beta])


def client_for(app, user):
    """A fresh client signed in as ``user`` (several people act in one test)."""
    return login(app.test_client(), user)


def bid_data(job, submit=True, **changes):
    """A complete bid form for ``job``; tests change one thing at a time."""
    data = {
        "price_type": "fixed", "price": "9000", "day_rate": "", "days": "",
        "available_from": (utcnow() + timedelta(days=30)).date().isoformat(),
        "proposal": "We will **do it well**.\n\n<script>alert(1)</script>",
    }
    for requirement in job.requirements:
        data[f"answer_{requirement.id}"] = f"Yes: {requirement.text}"
    data["submit" if submit else "save_draft"] = "Submit bid" if submit else "Save draft"
    if submit:
        data["confirmed"] = "yes"  # as the "check your answers" page sends it (tests/bids/test_check_answers.py)
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def after_deadline(job, minutes=1):
    return frozen_now(job.bids_deadline + timedelta(minutes=minutes))


@pytest.fixture
def two_bids(app, job, alpha_user, beta_user):
    client_for(app, alpha_user).post(f"/jobs/{job.id}/bid", data=bid_data(job, price="9000", proposal="ALPHA PLAN"))
    client_for(app, beta_user).post(f"/jobs/{job.id}/bid", data=bid_data(job, price="7000", proposal="BETA PLAN"))
    alpha_bid, beta_bid = db.session.scalars(select(Bid).order_by(Bid.id)).all()
    db.session.execute(Notification.__table__.delete())
    db.session.commit()
    return alpha_bid, beta_bid


def award_data(bid, value="8500", start=None, confirmed=True, **extra):
    """The award form as the confirmation page's "Yes, award" posts it (``confirmed=False``:
    as the review page's form first posts it, to see that page)."""
    start = start if start is not None else (bid.job.bids_deadline + timedelta(days=10)).date().isoformat()
    data = {f"award-{bid.id}-agreed_value": value, f"award-{bid.id}-agreed_start": start}
    if confirmed:
        data["confirmed"] = "yes"
    data.update({f"award-{bid.id}-{k}": v for k, v in extra.items()})
    return data


def notes_for(user):
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.id)).all()
