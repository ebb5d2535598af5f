"""Hand-built networks for the coordinator's tests: co-ops with known skills, capacity and
history, so that the right ranking is known in advance."""
from datetime import date, timedelta

import pytest

from marketplace.bids.models import Bid
from marketplace.coordinator.models import CoopCapacity, Invitation
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.federation.models import Visibility
from marketplace.federation.policy import Viewer

from ..conftest import login
from ..factories import make_coop, make_job, make_skills, make_user

# Sees every published job: rankings built for it count every past bid, award and referral.
EVERY_JOB = Viewer(visibilities=frozenset(v.value for v in Visibility), is_site_admin=True)


@pytest.fixture
def many_skills():
    return make_skills(("Python", "Web design", "Accessibility", "DevOps", "Rust", "Welsh translation",
                        "Facilitation", "Branding"))


@pytest.fixture
def poster_coop(networks):
    return make_coop("Poster Co-op", {networks["cotech"]: "active", networks["workers-coop"]: "active"})


@pytest.fixture
def poster(poster_coop):
    return make_user("Pat Poster", coops={poster_coop: "admin"})


def member_coop(name, networks, skills, network="cotech", status="active", **fields):
    return make_coop(name, {networks[network]: status}, skills=skills, **fields)


def set_capacity(coop, people=(2, 3, 4), rates=(None, None)):
    db.session.add(CoopCapacity(coop_id=coop.id, people_1m=people[0], people_3m=people[1], people_6m=people[2],
                                day_rate_min=rates[0], day_rate_max=rates[1]))
    db.session.commit()


def award_history(coop, poster_coop, skills, awards=0, bids=0, days_ago=30):
    """``bids`` received bids and ``awards`` awarded ones by ``coop`` on closed jobs with ``skills``."""
    for n in range(awards + bids):
        job = make_job(poster_coop, "public", "closed", skills=skills)
        status = "awarded" if n < awards else "submitted"
        db.session.add(Bid(job=job, coop=coop, status=status, amount=1000, submitted_at=utcnow(),
                           decided_at=utcnow() - timedelta(days=days_ago) if status == "awarded" else None,
                           available_from=date.today()))
    db.session.commit()


def invite_history(coop, poster_coop, count, days_ago=30):
    for _ in range(count):
        job = make_job(poster_coop, "public", "closed")
        db.session.add(Invitation(job=job, coop=coop, created_at=utcnow() - timedelta(days=days_ago)))
    db.session.commit()


def client_for(app, user):
    client = app.test_client()
    if user is not None:
        login(client, user)
    return client
