"""The visibility matrix, grown to bidding: every kind of viewer × every visibility, before
and after the bids deadline, on bids, bid counts, questions, answers, interests,
notifications and emails. The viewer kinds are those of tests/federation/test_visibility_matrix.py.

DESIGN.md: a bid's contents are seen by the bidding co-op and, once bids close, by the
poster's co-op and the coordinators of the networks in the job's audience — never by other
bidders; counts may be seen by whoever may see the job. A question's asker is known to the
poster's co-op alone; answers go to everyone who may see the job. A job one may not see
answers 404 everywhere, and nobody is told anything about a job they may not see.
"""
import re
from datetime import date

import pytest
from sqlalchemy import select

from marketplace.bids.models import Bid, Interest
from marketplace.bids.policy import can_view_bid, visible_bids
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.federation import viewer_for
from marketplace.federation.models import NetworkMembership
from marketplace.jobs import services as job_services
from marketplace.jobs.models import Job
from marketplace.mail import outbox
from marketplace.notifications.models import Notification
from marketplace.questions.models import Question

from ..conftest import login
from ..factories import batched, make_coop, make_job, make_user
from ..matrix import SEES, VISIBILITIES, bids_phase, signed_in

# The networks in each visibility's audience, whose coordinators review closed bids.
COORDINATES = {
    "coordinator_cotech": {"cotech", "federation"},
    "coordinator_workers": {"federation"},
}
BIDDER = "both"  # bids, asks and says it is interested, on every job
OTHER_BIDDER = "cotech_only"  # bids too; must never see the first bidder's bid


def sees_job(kind, visibility):
    return visibility in SEES[kind]


def sees_bid(kind, visibility, closed):
    """May ``kind`` see the contents of BIDDER's bid on a job of ``visibility``?"""
    if not sees_job(kind, visibility):
        return False
    if kind == BIDDER:
        return True
    if not closed:
        return False
    return kind == "poster" or visibility in COORDINATES.get(kind, set())


@pytest.fixture
@batched
def world(app, networks):
    cotech, workers = networks["cotech"], networks["workers-coop"]
    poster_coop = make_coop("Poster Co-op", {cotech: "active", workers: "active"})
    ended_coop = make_coop("Ended Co-op")
    db.session.add(NetworkMembership(coop=ended_coop, network=cotech, status="active",
                                     since=date(2019, 1, 1), until=date(2020, 1, 1)))
    db.session.commit()
    coops = {
        "cotech_only": make_coop("CoTech Only", {cotech: "active"}),
        "workers_only": make_coop("Workers Only", {workers: "active"}),
        "both": make_coop("Both Networks", {cotech: "active", workers: "active"}),
        "guest": make_coop("Sister Guest", {cotech: "guest"}),
        "pending": make_coop("Pending Co-op", {cotech: "pending"}),
        "ended": ended_coop,
        "poster": poster_coop,
    }
    users = {
        "anonymous": None,
        "no_coop": make_user("No Co-op"),
        **{kind: make_user(f"Person {n}", coops=[coop]) for n, (kind, coop) in enumerate(coops.items())},
        "coordinator_cotech": make_user(coordinates=[cotech]),
        "coordinator_workers": make_user(coordinates=[workers]),
        "site_admin": make_user(admin=True),
    }
    # Says it will bid and has not yet: its name is for the poster, its count for everyone.
    interested = make_coop("Interested Co-op", {cotech: "active", workers: "active"})
    jobs, bids, pending = {}, {}, {}
    for v in VISIBILITIES:
        job = make_job(poster_coop, v, "open", title=f"MATRIX {v}")
        jobs[v] = job
        for kind in (BIDDER, OTHER_BIDDER):
            bid = Bid(job=job, coop=coops[kind], status="submitted", amount=1000, available_from=date.today(),
                      proposal=f"PROPOSAL {kind} {v}", proposal_html=f"<p>PROPOSAL {kind} {v}</p>",
                      submitted_at=utcnow())
            db.session.add(bid)
            bids[(kind, v)] = bid
        db.session.add(Interest(job=job, coop=coops[BIDDER], bid_by=job.bids_deadline.date()))
        db.session.add(Interest(job=job, coop=interested, bid_by=job.bids_deadline.date()))
        db.session.add(Question(job=job, coop=coops[BIDDER], text=f"ANSWERED QUESTION {v}",
                                answer=f"ANSWER {v}", answer_html=f"<p>ANSWER {v}</p>", answered_at=utcnow()))
        pending[v] = Question(job=job, coop=coops[BIDDER], text=f"PENDING QUESTION {v}")
        db.session.add(pending[v])
    db.session.commit()
    return {"jobs": jobs, "bids": bids, "users": users, "coops": coops, "pending": pending}


def section(html, element_id):
    match = re.search(rf'<section id="{element_id}".*?</section>', html, re.S)
    return match.group(0) if match else ""


@pytest.mark.parametrize("closed", [False, True], ids=["before_deadline", "after_deadline"])
def test_bid_pages(app, world, closed, subtests):
    for kind in SEES:
        with subtests.test(viewer=kind):
            client = signed_in(app, world, kind)
            with bids_phase(world, closed):
                for v, job in world["jobs"].items():
                    bid = world["bids"][(BIDDER, v)]
                    other = world["bids"][(OTHER_BIDDER, v)]
                    shown = sees_bid(kind, v, closed)
                    assert client.get(f"/bids/{bid.id}").status_code == (200 if shown else 404), (kind, v)
                    review = client.get(f"/jobs/{job.id}/bids")
                    assert review.status_code == (200 if sees_job(kind, v) else 404), (kind, v)
                    html = review.get_data(as_text=True)
                    assert (f"PROPOSAL {BIDDER} {v}" in html) == (shown and kind != BIDDER), (kind, v)
                    # The other bidder's bid: its own co-op, or the reviewers once closed — never BIDDER.
                    other_shown = client.get(f"/bids/{other.id}").status_code == 200
                    assert other_shown == (sees_bid(kind, v, closed) if kind != BIDDER else False) \
                        or kind == OTHER_BIDDER, (kind, v)
                    if sees_job(kind, v):
                        assert "2 bids received" in html or "2 bid" in html, (kind, v)


@pytest.mark.parametrize("closed", [False, True], ids=["before_deadline", "after_deadline"])
def test_job_page_counts_questions_and_interests(app, world, closed, subtests):
    for kind in SEES:
        with subtests.test(viewer=kind):
            client = signed_in(app, world, kind)
            with bids_phase(world, closed):
                for v, job in world["jobs"].items():
                    response = client.get(f"/jobs/{job.id}")
                    if not sees_job(kind, v):
                        assert response.status_code == 404
                        assert client.get(f"/jobs/{job.id}/questions").status_code == 404
                        continue
                    html = response.get_data(as_text=True)
                    # Counts for everyone who may see the job; contents for nobody here.
                    assert "2 bids received" in html or "2 received" in html, (kind, v)
                    assert "PROPOSAL" not in html
                    # Answers for everyone; the asker for the poster's co-op; pending for poster and asker.
                    questions = section(html, "questions")
                    assert f"ANSWERED QUESTION {v}" in questions and f"ANSWER {v}" in questions
                    assert ("Both Networks" in questions) == (kind == "poster"), (kind, v)
                    # (the poster's co-op reads and answers them on the questions page)
                    assert (f"PENDING QUESTION {v}" in html) == (kind == BIDDER), (kind, v)
                    page = client.get(f"/jobs/{job.id}/questions").get_data(as_text=True)
                    assert ("Both Networks" in page) == (kind == "poster"), (kind, v)
                    assert (f"PENDING QUESTION {v}" in page) == (kind in ("poster", BIDDER)), (kind, v)
                    # Who is interested: the poster's co-op; how many: everyone, while bids are open.
                    bidding = section(html, "bidding")
                    assert ("Interested Co-op" in bidding) == (kind == "poster"), (kind, v)
                    if not closed:
                        assert "1 co-op intends to bid" in html, (kind, v)


@pytest.mark.parametrize("closed", [False, True], ids=["before_deadline", "after_deadline"])
def test_python_check_and_sql_filter_agree(world, closed, subtests):
    for kind in [k for k in SEES if k != "anonymous"]:
        with subtests.test(viewer=kind):
            viewer = viewer_for(world["users"][kind])
            with bids_phase(world, closed):
                in_sql = set(db.session.scalars(visible_bids(select(Bid.id).join(Job, Job.id == Bid.job_id), viewer)))
                for (bidder, v), bid in world["bids"].items():
                    expected = sees_bid(kind, v, closed) if bidder == BIDDER else (
                        kind == OTHER_BIDDER or (kind != BIDDER and sees_bid(kind, v, closed)))
                    assert can_view_bid(viewer, bid) == expected, (kind, bidder, v)
                    assert (bid.id in in_sql) == expected, (kind, bidder, v)


def _answer(world, v, text):
    """The poster publishes an answer on job ``v``: who gets told (in the app and by email)?"""
    job = world["jobs"][v]
    poster = world["users"]["poster"]
    mails = outbox()
    mails.clear()
    before = set(db.session.scalars(select(Notification.id)))
    from flask import current_app

    client = login(current_app.test_client(), poster)
    response = client.post(f"/jobs/{job.id}/answers", data={"publish-text": text, "publish-answer": "A"})
    notified = {n.user_id for n in db.session.scalars(select(Notification)) if n.id not in before}
    emailed = {m["To"] for m in mails}
    return response, notified, emailed


def _kinds(world, user_ids):
    return {k for k, u in world["users"].items() if u is not None and u.id in user_ids}


def _emails(world, kinds):
    return {world["users"][k].email for k in kinds}


@pytest.mark.parametrize("v", VISIBILITIES)
def test_notifications_and_emails(world, v):
    """The followers of each job (the two bidders; the interested co-op has no members) are
    told; nobody else, whatever they may see."""
    response, notified, emailed = _answer(world, v, f"Q on {v}")
    assert response.status_code == 302
    assert _kinds(world, notified) == {BIDDER, OTHER_BIDDER}
    assert emailed == _emails(world, {BIDDER, OTHER_BIDDER})


def test_a_visibility_change_stops_notifying_those_who_can_no_longer_see(app, world):
    """A federation job with a workers.coop-only follower is narrowed to CoTech: the follower
    is not told about the change, nor about anything after it, and loses sight of its bid."""
    job = world["jobs"]["federation"]
    workers_coop = world["coops"]["workers_only"]
    db.session.add(Interest(job=job, coop=workers_coop, bid_by=job.bids_deadline.date()))
    workers_bid = Bid(job=job, coop=workers_coop, status="submitted", amount=5, proposal="W",
                      submitted_at=utcnow())
    db.session.add(workers_bid)
    db.session.commit()
    workers_client = signed_in(app, world, "workers_only")
    assert workers_client.get(f"/bids/{workers_bid.id}").status_code == 200
    mails = outbox()
    mails.clear()
    from flask import current_app

    with current_app.test_request_context("/"):
        job_services.update_job(job, world["users"]["poster"], {"visibility": "cotech"}, None)
        db.session.commit()
    changed = db.session.scalars(select(Notification).where(Notification.kind == "job_changed")).all()
    assert _kinds(world, {n.user_id for n in changed}) == {BIDDER, OTHER_BIDDER}
    assert {m["To"] for m in mails} == _emails(world, {BIDDER, OTHER_BIDDER})
    _, notified, emailed = _answer(world, "federation", "After the change")
    assert _kinds(world, notified) == {BIDDER, OTHER_BIDDER}
    assert world["users"]["workers_only"].email not in emailed
    # Its bid, the job, its questions: 404 now, and gone from its notifications and bids.
    assert workers_client.get(f"/bids/{workers_bid.id}").status_code == 404
    assert workers_client.get(f"/jobs/{job.id}/bids").status_code == 404
    assert "MATRIX federation" not in workers_client.get("/bids").get_data(as_text=True)


def test_a_withdrawn_job_stops_notifying(app, world):
    job = world["jobs"]["cotech"]
    poster_client = signed_in(app, world, "poster")
    mails = outbox()
    mails.clear()
    poster_client.post(f"/jobs/{job.id}/withdraw", data={"reason": "Client cancelled", "confirmed": "yes"})
    withdrawn = db.session.scalars(select(Notification).where(Notification.kind == "job_withdrawn")).all()
    # Told once, and only those who follow it and may see it.
    assert _kinds(world, {n.user_id for n in withdrawn}) == {BIDDER, OTHER_BIDDER}
    assert len(mails) == 2
    before = db.session.scalar(select(db.func.count(Notification.id)))
    mails.clear()
    response, notified, emailed = _answer(world, "cotech", "After withdrawal")
    assert response.status_code == 422 and "withdrawn" in response.get_data(as_text=True)
    pending = world["pending"]["cotech"]
    poster_client.post(f"/questions/{pending.id}/answer", data={f"q{pending.id}-answer": "Late"})
    signed_in(app, world, "guest").post(f"/jobs/{job.id}/questions", data={"text": "Still on?"})
    signed_in(app, world, "guest").post(f"/jobs/{job.id}/interest", data={"bid_by": date.today().isoformat()})
    assert db.session.scalar(select(db.func.count(Notification.id))) == before
    assert notified == set() and emailed == set() and outbox() == []
