"""Requests that race each other across gunicorn's worker processes, through the API, as two
members of one co-op (or two of their scripts) do: each state change happens once, with one
audit event and one notification, and no request answers with something that did not happen.

Each worker process keeps its own session; a row it loaded before waiting for a lock must be
read again once it holds the lock (the lost-update and stale-read cases below).
"""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.api.services import create_token
from marketplace.audit.models import AuditEvent
from marketplace.bids.models import LIVE_STATUSES, Bid, status_values
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.notifications.models import Notification

from ..factories import make_coop, make_user
from ..servers import at_once, gunicorn
from .conftest import make_open_job

ROUNDS = 8


@pytest.fixture
def bidders(networks):
    """A co-op with two members, each with an API token."""
    coop = make_coop("Racing Co-op", {networks["cotech"]: "active"})
    tokens = []
    for name in ("Ana", "Ben"):
        _, plain = create_token(make_user(name, coops=[coop]), "script")
        tokens.append(plain)
    db.session.commit()
    return coop, tokens


def _bid(job, coop, status):
    bid = Bid(job=job, coop=coop, status=status, price_type="fixed", amount=1000,
              available_from=(utcnow() + timedelta(days=30)).date(), proposal="Our proposal",
              submitted_at=utcnow() if status == "submitted" else None)
    db.session.add(bid)
    db.session.commit()
    return bid


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _body(job, **fields):
    return {"price_type": "fixed", "amount": 1200, "proposal": "Edited proposal",
            "available_from": (utcnow() + timedelta(days=30)).date().isoformat(),
            "answers": [{"requirement_id": r.id, "answer": "Yes"} for r in job.requirements], **fields}


def test_an_edit_racing_a_withdrawal_never_makes_a_new_bid(app, tmp_path, poster_coop, poster, bidders):
    """One member edits the bid while the other withdraws it: the edit lands before the
    withdrawal (200, the same bid) or is refused after it (409), never a new submitted bid."""
    coop, (ana, ben) = bidders
    job = make_open_job(poster_coop, poster)
    problems = []
    with gunicorn(app, tmp_path) as base:
        for round_ in range(ROUNDS):
            bid = _bid(job, coop, "submitted")
            edit, withdraw = at_once(base, [
                ("PATCH", f"/api/v1/bids/{bid.id}", _body(job, proposal=f"Edit {round_}"), ana),
                ("POST", f"/api/v1/bids/{bid.id}/withdraw", None, ben),
            ])
            assert withdraw[0] == 200, withdraw
            if edit[0] == 200 and edit[1]["id"] != bid.id:
                problems.append(f"round {round_}: the edit answered with another bid, {edit[1]['id']}")
            elif edit[0] not in (200, 409):
                problems.append(f"round {round_}: the edit answered {edit}")
            db.session.expire_all()
            live = _count(Bid, Bid.job_id == job.id, Bid.status.in_(status_values(LIVE_STATUSES)))
            if live:
                problems.append(f"round {round_}: {live} live bids after the withdrawal")
                db.session.execute(Bid.__table__.update().where(Bid.job_id == job.id).values(status="withdrawn"))
                db.session.commit()
    assert problems == []


def test_two_first_submits_of_a_draft_submit_it_once(app, tmp_path, poster_coop, poster, bidders):
    """Both members press "submit" on the co-op's draft at once: one submits it; the poster is
    told once; the other's request edits the submitted bid."""
    coop, (ana, ben) = bidders
    problems = []
    with gunicorn(app, tmp_path) as base:
        for round_ in range(ROUNDS):
            job = make_open_job(poster_coop, poster)
            bid = _bid(job, coop, "draft")
            answers = at_once(base, [("PATCH", f"/api/v1/bids/{bid.id}", _body(job, submit=True), token)
                                     for token in (ana, ben)])
            if [status for status, _ in answers] != [200, 200] or {b["id"] for _, b in answers} != {bid.id}:
                problems.append(f"round {round_}: answers {answers}")
            db.session.expire_all()
            submitted = _count(AuditEvent, AuditEvent.action == "bid.submitted", AuditEvent.target_id == bid.id)
            told = _count(Notification, Notification.job_id == job.id, Notification.kind == "bid_received")
            if (submitted, told) != (1, 1):
                problems.append(f"round {round_}: {submitted} bid.submitted events, poster told {told} times")
    assert problems == []


def test_two_first_bids_of_a_coop_create_one(app, tmp_path, poster_coop, poster, bidders):
    """No bid yet, and both members post the co-op's bid at once: one creates it (201); the
    other is told it edited that bid (200, the same id). One submission, one notice."""
    coop, (ana, ben) = bidders
    problems = []
    with gunicorn(app, tmp_path) as base:
        for round_ in range(ROUNDS):
            job = make_open_job(poster_coop, poster)
            answers = at_once(base, [("POST", f"/api/v1/jobs/{job.id}/bids", _body(job, submit=True), token)
                                     for token in (ana, ben)])
            statuses = sorted(status for status, _ in answers)
            if statuses != [200, 201] or len({b["id"] for _, b in answers}) != 1:
                problems.append(f"round {round_}: answers {[(s, b and b.get('id')) for s, b in answers]}")
            db.session.expire_all()
            submitted = _count(AuditEvent, AuditEvent.action == "bid.submitted",
                               AuditEvent.target_id.in_(select(Bid.id).where(Bid.job_id == job.id)))
            told = _count(Notification, Notification.job_id == job.id, Notification.kind == "bid_received")
            if (submitted, told) != (1, 1):
                problems.append(f"round {round_}: {submitted} bid.submitted events, poster told {told} times")
    assert problems == []
