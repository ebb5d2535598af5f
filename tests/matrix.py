"""The visibility matrix's shared parts: the viewer kinds, what each may see (DESIGN.md), and
the world every read path is checked against. Features import these rather than restate them.

``world`` is a fixture: import it into a test module or conftest to use it.
"""
from datetime import date, timedelta

import pytest

from marketplace.bids.models import Bid
from marketplace.core.time import frozen_now, utcnow
from marketplace.extensions import db
from marketplace.federation.models import NetworkMembership

from .conftest import login
from .factories import batched, make_coop, make_document, make_job, make_user

VISIBILITIES = ("cotech", "federation", "public")
STATES = ("draft", "open", "closed", "withdrawn")
ALL = set(VISIBILITIES)

# Which visibilities each kind of viewer sees on jobs posted by another co-op.
SEES = {
    "anonymous": {"public"},
    "no_coop": {"public"},
    "cotech_only": ALL,
    "workers_only": {"federation", "public"},
    "both": ALL,
    "guest": ALL,  # the audiences nest: a guest of CoTech is in the federation's audience too
    "pending": {"public"},
    "ended": {"public"},
    "poster": ALL,
    "coordinator_cotech": ALL,
    "coordinator_workers": {"federation", "public"},
    "site_admin": ALL,
}


def expected(kind, visibility, state):
    if state == "draft":
        return kind == "poster"  # a draft is seen by its own co-op alone
    return visibility in SEES[kind]


# Who won an awarded job is told to whoever sees it and is in its audience; those who see
# only public jobs without being a member of any network (nor coordinating one) learn it only
# when the poster published the outcome (``federation.can_see_outcome``).
OUTCOME_OUTSIDERS = frozenset({"anonymous", "no_coop", "pending", "ended"})


def sees_outcome(kind, visibility, published):
    return expected(kind, visibility, "closed") and (published or kind not in OUTCOME_OUTSIDERS)


@pytest.fixture
@batched
def world(networks, skills):
    """One poster co-op with a job in every visibility and state, and a user of each kind."""
    cotech, workers = networks["cotech"], networks["workers-coop"]
    skill = skills["python"]
    poster_coop = make_coop("Poster Co-op", {cotech: "active", workers: "active"})
    jobs = {
        (v, s): make_job(poster_coop, v, s, skills=[skill], title=f"MATRIX {v} {s}")
        for v in VISIBILITIES for s in STATES
    }
    ended_coop = make_coop("Ended Co-op")
    db.session.add(NetworkMembership(coop=ended_coop, network=cotech, status="active",
                                     since=date(2019, 1, 1), until=date(2020, 1, 1)))
    db.session.commit()
    users = {
        "anonymous": None,
        "no_coop": make_user("No Co-op"),
        "cotech_only": make_user(coops=[make_coop("CoTech Only", {cotech: "active"})]),
        "workers_only": make_user(coops=[make_coop("Workers Only", {workers: "active"})]),
        "both": make_user(coops=[make_coop("Both Networks", {cotech: "active", workers: "active"})]),
        "guest": make_user(coops=[make_coop("Sister Guest", {cotech: "guest"})]),
        "pending": make_user(coops=[make_coop("Pending Co-op", {cotech: "pending"})]),
        "ended": make_user(coops=[ended_coop]),
        "poster": make_user(coops=[poster_coop]),
        "coordinator_cotech": make_user(coordinates=[cotech]),
        "coordinator_workers": make_user(coordinates=[workers]),
        "site_admin": make_user(admin=True),
    }
    return {"jobs": jobs, "users": users, "skill": skill, "poster_coop": poster_coop}


def as_viewer(client, world, kind):
    """``client``, signed in as the world's user of that kind (anonymous: as it is)."""
    user = world["users"][kind]
    if user is not None:
        login(client, user)
    return client


def signed_in(app, world, kind):
    """A new client, signed in as the world's user of that kind (anonymous: not signed in)."""
    return as_viewer(app.test_client(), world, kind)


def bids_phase(world, closed):
    """The clock before the bids deadline, or a minute after it, for a world whose ``jobs`` (by
    visibility) share one deadline."""
    deadline = world["jobs"]["public"].bids_deadline
    return frozen_now(deadline + timedelta(minutes=1) if closed else utcnow())


@pytest.fixture
@batched
def awarded_world(world):
    """``world`` and an awarded job in every visibility, its outcome published or not, won by
    the co-op "WINNER <visibility> <published|kept>" for £4,321."""
    now = utcnow()
    awarded = {}
    for visibility in VISIBILITIES:
        for published in (False, True):
            word = "published" if published else "kept"
            job = make_job(world["poster_coop"], visibility, "closed", title=f"AWARDED {visibility} {word}",
                           status="awarded", awarded_at=now - timedelta(hours=1), outcome_public=published)
            db.session.add(Bid(job=job, coop=make_coop(f"WINNER {visibility} {word}"), status="awarded",
                               price_type="fixed", amount=4500, agreed_value=4321, agreed_start=now.date(),
                               submitted_at=now - timedelta(days=2), decided_at=now - timedelta(hours=1)))
            awarded[(visibility, published)] = job
    return {**world, "awarded": awarded}


# --- documents: who downloads the files of jobs, questions, answers and bids -----------------

OWNERS = ("job", "question", "answer", "pending_question", "bid")
BIDDER = "both"  # bids and asks on every open job, with files
# The networks in each visibility's audience, whose coordinators review closed bids.
REVIEWS = {"coordinator_cotech": {"cotech", "federation"}, "coordinator_workers": {"federation"}}


def sees_document(kind, owner, visibility, state, closed=False):
    """May ``kind`` download a file of ``owner`` on the job (visibility, state)? As the owner is
    shown: a job's as the job; a published answer's and its question's as the job; an
    unanswered question's to the poster and the asker; a bid's to the bidder, and once bids
    close to the poster and the coordinators of the job's audience."""
    if not expected(kind, visibility, state):
        return False
    if owner == "pending_question":
        return kind in ("poster", BIDDER)
    if owner == "bid":
        return kind == BIDDER or (closed and (kind == "poster" or visibility in REVIEWS.get(kind, ())))
    return True


@pytest.fixture
@batched
def documents_world(world):
    """``world`` with a file on every job, and on each open job a bid, an answered question
    (a file with the question and one with the answer) and an unanswered one, each with a file."""
    from marketplace.bids.models import Bid
    from marketplace.questions.models import Question

    bidder = world["users"][BIDDER].coops[0]
    documents = {}
    for (visibility, state), job in world["jobs"].items():
        documents[("job", visibility, state)] = make_document("job", job, name=f"job-{visibility}-{state}.pdf")
        if state != "open":
            continue
        bid = Bid(job=job, coop=bidder, status="submitted", amount=1000, available_from=date.today(),
                  proposal="P", proposal_html="<p>P</p>", submitted_at=utcnow())
        answered = Question(job=job, coop=bidder, text="Q", answer="A", answer_html="<p>A</p>", answered_at=utcnow())
        pending = Question(job=job, coop=bidder, text="Pending Q")
        db.session.add_all([bid, answered, pending])
        db.session.flush()
        for owner, kind, row in (("bid", "bid", bid), ("question", "question", answered),
                                 ("answer", "answer", answered), ("pending_question", "question", pending)):
            documents[(owner, visibility, state)] = make_document(kind, row, name=f"{owner}-{visibility}.pdf")
    return {**world, "documents": documents}
