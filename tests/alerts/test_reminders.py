"""Reminders (`flask alerts remind`): each given once, to the co-op it concerns, in the app and
by email, and only to members who may still see the job."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.bids import services as bids
from marketplace.core.time import frozen_now, utcnow
from marketplace.extensions import db
from marketplace.jobs import services as jobs
from marketplace.notifications.models import Notification
from marketplace.questions import services as questions

from ..factories import make_coop, make_job, make_user


@pytest.fixture
def remind(runner):
    def run():
        result = runner.invoke(args=["alerts", "remind"])
        assert result.exit_code == 0, result.output
        return result.output
    return run


@pytest.fixture
def site(networks):
    cotech, workers = networks["cotech"], networks["workers-coop"]
    poster = make_coop("Poster", {cotech: "active", workers: "active"})
    bidder = make_coop("Bidder", {workers: "active"})
    return {"poster": poster, "bidder": bidder, "poster_user": make_user(coops=[poster]),
            "bidder_user": make_user(coops=[bidder])}


def _told(user):
    return [(n.kind, n.message) for n in db.session.scalars(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))]


def test_an_interest_about_to_lapse_and_bids_about_to_close(site, remind):
    now = utcnow()
    job = make_job(site["poster"], "public", "open", title="Orchard website",
                   questions_deadline=now + timedelta(hours=12), bids_deadline=now + timedelta(days=1, hours=12))
    later = make_job(site["poster"], "public", "open", title="Housing website")
    bids.register_interest(job, site["bidder"], site["bidder_user"], (now + timedelta(days=1)).date())
    bids.register_interest(later, site["bidder"], site["bidder_user"], (now + timedelta(days=12)).date())
    db.session.commit()
    assert "Gave 2 reminders" in remind()
    kinds = [kind for kind, _ in _told(site["bidder_user"])]
    assert sorted(kinds) == ["deadline_near", "interest_lapsing"]
    assert all("Orchard website" in message for _, message in _told(site["bidder_user"]))
    assert "Gave 0 reminders" in remind()  # once


def test_no_bid_reminder_once_the_coop_has_bid(site, remind):
    now = utcnow()
    job = make_job(site["poster"], "public", "open", title="Orchard website",
                   questions_deadline=now + timedelta(hours=12), bids_deadline=now + timedelta(days=1, hours=12))
    bids.register_interest(job, site["bidder"], site["bidder_user"], now.date() + timedelta(days=1))
    values = bids.BidValues(amount=1000, available_from=now.date() + timedelta(days=30), proposal="We can.",
                            answers={})
    bids.save_bid(job, site["bidder"], site["bidder_user"], values, submit=True)
    db.session.commit()
    remind()
    assert [k for k, _ in _told(site["bidder_user"])] == []


def test_questions_waiting_for_the_poster(site, remind):
    job = make_job(site["poster"], "public", "open", title="Orchard website")
    with frozen_now(utcnow() - timedelta(days=2)):
        questions.ask_question(job, site["bidder"], site["bidder_user"], "Is hosting included?")
        db.session.commit()
    remind()
    assert [k for k, _ in _told(site["poster_user"])] == ["question_asked", "questions_waiting"]
    assert "1 question on “Orchard website” waits" in _told(site["poster_user"])[-1][1]
    remind()
    assert len(_told(site["poster_user"])) == 2
    with frozen_now(utcnow() - timedelta(days=2)):
        questions.ask_question(job, site["bidder"], site["bidder_user"], "And the domain?")
        db.session.commit()
    remind()
    assert "2 questions on “Orchard website” wait" in _told(site["poster_user"])[-1][1]


def test_a_poster_is_asked_to_decide_a_week_and_four_weeks_after_bids_closed(site, remind):
    now = utcnow()
    closed = make_job(site["poster"], "public", "closed", title="Orchard website",
                      questions_deadline=now - timedelta(days=12), bids_deadline=now - timedelta(days=8))
    make_job(site["poster"], "public", "closed", title="Just closed")
    remind()
    told = _told(site["poster_user"])
    assert [k for k, _ in told] == ["award_due"] and "Orchard website" in told[0][1] and "7 days" in told[0][1]
    with frozen_now(now + timedelta(days=21)):
        remind()
    assert [m for k, m in _told(site["poster_user"]) if "28 days" in m]
    jobs.cancel_job(closed, site["poster_user"], "No budget after all.")
    db.session.commit()
    before = len(_told(site["poster_user"]))
    with frozen_now(now + timedelta(days=60)):
        remind()
    assert not [m for _k, m in _told(site["poster_user"])[before:] if "Orchard website" in m]


def test_a_coop_that_may_no_longer_see_the_job_is_not_reminded(site, remind):
    """The bidder (a workers.coop member) registered interest; the job is narrowed to CoTech."""
    now = utcnow()
    job = make_job(site["poster"], "federation", "open", title="Orchard website",
                   questions_deadline=now + timedelta(hours=12), bids_deadline=now + timedelta(days=1, hours=12))
    bids.register_interest(job, site["bidder"], site["bidder_user"], now.date() + timedelta(days=1))
    jobs.update_job(job, site["poster_user"], {"visibility": "cotech"}, None)
    db.session.commit()
    remind()
    assert [k for k, _ in _told(site["bidder_user"]) if k in ("interest_lapsing", "deadline_near")] == []
