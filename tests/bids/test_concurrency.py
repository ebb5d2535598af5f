"""Simultaneous submits over real HTTP: many at once for the same co-op's bid, and for
different co-ops' bids. Afterwards each co-op has exactly one live bid and nothing is lost.

Meant for PostgreSQL (several connections write at once; the unique index turns the losers
of a race into IntegrityErrors that are retried as edits). It runs on SQLite too, where
WAL and busy_timeout let one writer in at a time.
"""
import random
import time

from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.bids.models import Bid
from marketplace.core.time import utcnow
from marketplace.extensions import db

from ..factories import make_coop, make_user
from . import load
from .conftest import make_open_job


def test_simultaneous_submits(app, networks, poster_coop, poster):
    job = make_open_job(poster_coop, poster)
    coops = [make_coop(f"Racing {n}", {networks["cotech"]: "active"}) for n in range(6)]
    # Two members per co-op, so that the same bid is submitted by different people too.
    cookies = {c.id: [load.session_cookie(app, make_user(coops=[c])) for _ in range(2)] for c in coops}
    sent, requests = {}, []
    for coop in coops:
        for n in range(8):
            price = 1000 + 100 * coop.id + n
            sent.setdefault(coop.id, []).append(price)
            requests.append((f"/jobs/{job.id}/bid", load.bid_form(job, price), cookies[coop.id][n % 2]))
    random.Random(7).shuffle(requests)
    with load.serve(app) as base_url:
        started = time.perf_counter()
        results = load.fire(base_url, requests, workers=12)
        elapsed = time.perf_counter() - started
    print(load.summary(results, elapsed))
    assert {status for status, _ in results} == {302}, load.summary(results, elapsed)
    assert load.check(job, sent) == []


def test_simultaneous_first_submits_of_one_bid(app, networks, poster_coop, poster):
    """The hardest case: no bid yet, and many first submits of the same co-op's bid race
    for the unique index; the losers find the winner's bid and edit it."""
    job = make_open_job(poster_coop, poster)
    coop = make_coop("Racing", {networks["cotech"]: "active"})
    cookie = load.session_cookie(app, make_user(coops=[coop]))
    prices = [2000 + n for n in range(24)]
    requests = [(f"/jobs/{job.id}/bid", load.bid_form(job, price), cookie) for price in prices]
    with load.serve(app) as base_url:
        results = load.fire(base_url, requests, workers=12)
    assert [status for status, _ in results] == [302] * len(prices)
    assert load.check(job, {coop.id: prices}) == []


def test_simultaneous_withdrawals_of_one_bid_withdraw_it_once(app, networks, poster_coop, poster):
    """Members of the bidding co-op all press "Withdraw" at once: the bid is withdrawn once,
    with one audit event; the others are told it was already withdrawn."""
    job = make_open_job(poster_coop, poster)
    coop = make_coop("Withdrawing", {networks["cotech"]: "active"})
    cookies = [load.session_cookie(app, make_user(coops=[coop])) for _ in range(4)]
    bid = Bid(job=job, coop=coop, status="submitted", amount=1000, available_from=utcnow().date(),
              submitted_at=utcnow())
    db.session.add(bid)
    db.session.commit()
    for round_ in range(5):  # a race is not lost every time: several rounds
        requests = [(f"/bids/{bid.id}/withdraw", {}, cookies[n % len(cookies)]) for n in range(12)]
        with load.serve(app) as base_url:
            results = load.fire(base_url, requests, workers=12)
        assert {status for status, _ in results} == {302}
        db.session.expire_all()
        events = db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "bid.withdrawn", AuditEvent.target_id == bid.id))
        assert events == round_ + 1, f"round {round_}: {events} bid.withdrawn events"
        bid.status, bid.withdrawn_at = "submitted", None  # the co-op's next bid, for the next round
        db.session.commit()
