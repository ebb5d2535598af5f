"""Many simultaneous bid submits over real HTTP, and the checks that nothing was lost.

Used by tests/bids/test_concurrency.py and, at a larger scale, by bench/bench_bids.py.
"""
import contextlib
import http.client
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from sqlalchemy import func, select

from marketplace.bids.models import LIVE_STATUSES, Bid, BidAnswer, status_values
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.notifications.models import Notification

from ..servers import threaded_app


serve = threaded_app  # the app over real HTTP, one thread per request


def session_cookie(app, user):
    """A signed session cookie for ``user``, as signing in would set."""
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({"_user_id": user.get_id(), "_fresh": True})


def bid_form(job, price):
    data = {"price_type": "fixed", "price": str(price),
            "available_from": (utcnow() + timedelta(days=30)).date().isoformat(),
            "proposal": f"Proposal at {price}", "submit": "Submit bid", "confirmed": "yes"}
    for requirement in job.requirements:
        data[f"answer_{requirement.id}"] = f"Answer at {price}"
    return data


def post(base_url, path, data, cookie):
    """POST a form; returns (HTTP status, seconds taken)."""
    parts = urlsplit(base_url)
    started = time.perf_counter()
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        conn.request("POST", path, urlencode(data), {
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"session={cookie}"})
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


def fire(base_url, requests, workers):
    """Send ``requests`` ((path, data, cookie) tuples) from ``workers`` threads that start
    together; returns [(status, seconds)] in the order given."""
    barrier = threading.Barrier(min(workers, len(requests)))

    def send(request):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=0.5)  # the first wave leaves at once; the rest follow
        return post(base_url, *request)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(send, requests))


def live_bids_by_coop(job_id):
    return dict(db.session.execute(
        select(Bid.coop_id, func.count(Bid.id))
        .where(Bid.job_id == job_id, Bid.status.in_(status_values(LIVE_STATUSES)))
        .group_by(Bid.coop_id)
    ).all())


def check(job, sent):
    """``sent``: {coop id: [prices it submitted]}. Returns a list of problems (empty: all
    well): exactly one live bid per co-op, holding one of the prices it sent with the
    matching answers, and the poster told once per co-op."""
    db.session.expire_all()
    problems = []
    counts = live_bids_by_coop(job.id)
    for coop_id, prices in sent.items():
        if counts.get(coop_id) != 1:
            problems.append(f"co-op {coop_id}: {counts.get(coop_id, 0)} live bids")
            continue
        bid = db.session.scalar(select(Bid).where(Bid.job_id == job.id, Bid.coop_id == coop_id,
                                                  Bid.status == "submitted"))
        if bid is None or bid.amount not in prices:
            problems.append(f"co-op {coop_id}: bid {bid and bid.amount} is none of {sorted(set(prices))}")
            continue
        answers = db.session.scalars(select(BidAnswer.answer).where(BidAnswer.bid_id == bid.id)).all()
        if sorted(answers) != [f"Answer at {bid.amount}"] * len(job.requirements):
            problems.append(f"co-op {coop_id}: answers {answers} do not match its price {bid.amount}")
    extra = set(counts) - set(sent)
    if extra:
        problems.append(f"bids from co-ops that sent none: {sorted(extra)}")
    told = db.session.scalar(select(func.count(Notification.id)).where(
        Notification.job_id == job.id, Notification.kind == "bid_received"))
    posters = len(job.coop.members)
    if told != posters * len(sent):
        problems.append(f"the poster was told {told} times about {len(sent)} bids")
    return problems


def summary(results, seconds):
    statuses = Counter(status for status, _ in results)
    times = sorted(t for _, t in results)

    def pct(p):
        return times[min(len(times) - 1, int(p * len(times)))] * 1000

    return (f"{len(results)} requests in {seconds:.2f} s ({len(results) / seconds:.0f}/s); "
            f"statuses {dict(statuses)}; latency p50 {pct(.5):.0f} ms, p95 {pct(.95):.0f} ms, "
            f"max {times[-1] * 1000:.0f} ms")
