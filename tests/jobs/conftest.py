from datetime import timedelta

import pytest

from marketplace.core.time import to_local, utcnow

from ..conftest import login
from ..factories import make_coop, make_user


@pytest.fixture
def poster_coop(networks, skills):
    return make_coop("Outlandish Bytes", {networks["cotech"]: "active"}, skills=[skills["python"]])


@pytest.fixture
def poster(poster_coop):
    return make_user("Pat Poster", coops={poster_coop: "admin"})


@pytest.fixture
def poster_client(client, poster):
    return login(client, poster)


def local(moment):
    """A UTC moment as the site's datetime-local input value."""
    return to_local(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def job_form(skills):
    """Valid form data for a new job; tests change one thing at a time."""
    now = utcnow()
    return {
        "title": "Accessible booking system",
        "summary": "A booking system for a community energy co-op.",
        "description": "We need **WCAG 2.2 AA**.\n\n<script>alert(1)</script>",
        "kind": "tender",
        "skills": [str(skills["python"].id), str(skills["accessibility"].id)],
        "budget_type": "fixed",
        "budget_min": "8000",
        "budget_max": "12000",
        "currency": "GBP",
        "work_mode": "remote",
        "location": "",
        "questions_deadline": local(now + timedelta(days=7)),
        "bids_deadline": local(now + timedelta(days=14)),
        "start_date": (now + timedelta(days=30)).date().isoformat(),
        "visibility": "cotech",
        "publish": "Publish",
        "confirmed": "yes",  # as the "check your answers" page sends it (tests/jobs/test_check_answers.py)
    }
