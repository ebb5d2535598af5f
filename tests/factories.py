"""Builders of test data: plain functions that add rows and commit.

Inside ``batch()`` they flush instead, and the block commits once at its end: a fixture that
builds a whole world pays for one commit instead of dozens.

What they build is queued for the search index as any commit queues it, but not applied at
their commit: ``settle_index()`` applies the queue in one index update, and the test client,
the live server and the CLI runner call it before each request or command (tests/conftest.py),
as the next writing request would in production.
"""
import functools
import itertools
from contextlib import contextmanager
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import event

from marketplace.core.markdown import render_markdown
from marketplace.core.time import utcnow
from marketplace.coops.models import Coop, CoopMember
from marketplace.extensions import db
from marketplace.search import drain_quietly
from marketplace.search.hooks import QUEUED
from marketplace.federation.models import Network, NetworkCoordinator, NetworkMembership
from marketplace.accounts.models import User
from marketplace.jobs.models import Job
from marketplace.skills.models import Skill
from marketplace.skills.services import slugify

PASSWORD = "correct horse battery"
_counter = itertools.count(1)
_batches = 0
_unsettled = False  # something built is queued for the search index and not yet applied
SETTLE_LATER = True  # False: apply the queue at each builder's commit, as a request's commit does


@contextmanager
def batch():
    """Build many rows with one commit at the end (nothing is committed if the block fails)."""
    global _batches
    _batches += 1
    try:
        yield
    except BaseException:
        _batches -= 1
        db.session.rollback()
        raise
    _batches -= 1
    _commit()


def batched(build):
    """A fixture function that builds its rows in one ``batch()``."""
    @functools.wraps(build)
    def build_in_batch(*args, **kwargs):
        with batch():
            return build(*args, **kwargs)
    return build_in_batch


def _commit():
    global _unsettled
    db.session.flush()
    if not _batches:
        if SETTLE_LATER:
            _unsettled |= db.session.info.pop(QUEUED, False)  # left queued: see settle_index
        db.session.commit()


def settle_index(app=None):
    """Apply what the builders left queued for the search index; as after a commit, a busy
    index leaves it queued for the writer that holds the lock."""
    global _unsettled
    app = app or current_app
    if _unsettled and "search" in app.extensions:
        _unsettled = False
        with app.app_context():
            drain_quietly(app)


@contextmanager
def counted_statements():
    """The SQL statements run inside the block (the index settled first, so that they are the
    block's own)."""
    settle_index()
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def make_networks():
    cotech = Network(slug="cotech", name="CoTech", in_federation=True)
    workers = Network(slug="workers-coop", name="workers.coop", in_federation=True)
    db.session.add_all([cotech, workers])
    _commit()
    return {"cotech": cotech, "workers-coop": workers}


def make_skills(names=("Python", "Web design", "Accessibility", "DevOps")):
    skills = {}
    for name in names:
        skill = Skill(slug=slugify(name), name=name, group="Digital products & platforms")
        db.session.add(skill)
        skills[skill.slug] = skill
    _commit()
    return skills


def make_coop(name=None, memberships=None, skills=(), **fields):
    """``memberships``: {Network or slug: status}."""
    n = next(_counter)
    name = name or f"Co-op {n}"
    coop = Coop(name=name, slug=fields.pop("slug", slugify(name) or f"coop-{n}"), **fields)
    coop.skills = list(skills)
    db.session.add(coop)
    for network, status in (memberships or {}).items():
        if isinstance(network, str):
            network = db.session.query(Network).filter_by(slug=network).one()
        db.session.add(NetworkMembership(coop=coop, network=network, status=status, since=date(2020, 1, 1)))
    _commit()
    return coop


def make_user(name=None, coops=None, email=None, admin=False, coordinates=(), password=PASSWORD,
              verified=True):
    """``coops``: {Coop: "member" | "admin"} or a list of co-ops (as members). ``verified=False``:
    a user who has not yet confirmed their email address."""
    n = next(_counter)
    user = User(email=email or f"user{n}@example.coop", name=name or f"User {n}", is_site_admin=admin,
                email_verified_at=utcnow() if verified else None)
    user.set_password(password)
    db.session.add(user)
    if isinstance(coops, (list, tuple)):
        coops = {c: "member" for c in coops}
    for coop, role in (coops or {}).items():
        db.session.add(CoopMember(coop=coop, user=user, role=role))
    for network in coordinates:
        db.session.add(NetworkCoordinator(user=user, network=network))
    _commit()
    return user


def make_job(coop, visibility="public", state="open", skills=(), user=None, **fields):
    """A job in the given derived state: draft, open, closed or withdrawn."""
    now = utcnow()
    if state == "closed":
        questions, bids = now - timedelta(days=10), now - timedelta(days=1)
    else:
        questions, bids = now + timedelta(days=7), now + timedelta(days=14)
    status = {"draft": "draft", "open": "published", "closed": "published", "withdrawn": "withdrawn"}[state]
    n = next(_counter)
    values = dict(
        title=f"Job {n}: {visibility} {state}", summary="Build a thing for a client.",
        description="We need **help**.", kind="tender", budget_type="fixed", budget_min=1000,
        budget_max=5000, currency="GBP", work_mode="remote", questions_deadline=questions,
        bids_deadline=bids, visibility=visibility, status=status,
        published_at=None if status == "draft" else now - timedelta(days=20) + timedelta(seconds=n),
    )
    values.update(fields)
    job = Job(coop=coop, posted_by=user, **values)
    job.description_html = render_markdown(job.description)
    job.skills = list(skills)
    if status == "withdrawn":
        job.withdrawn_at = now
    db.session.add(job)
    _commit()
    return job


def job_values(title, **fields):
    """What the job form hands ``jobs.services.post_job``: a public, remote, fixed-price tender
    whose questions close in 3 days and bids in 9."""
    now = utcnow()
    return {
        "title": title, "summary": "Posted through the jobs service.", "description": "", "kind": "tender",
        "budget_type": "fixed", "budget_min": 100, "budget_max": None, "currency": "GBP", "location": "",
        "work_mode": "remote", "questions_deadline": now + timedelta(days=3),
        "bids_deadline": now + timedelta(days=9), "start_date": None, "visibility": "public",
        "looking_for_partners": False, **fields,
    }


def bearer(user, label="test"):
    """Request headers that carry a new API token of ``user`` (none for an anonymous caller)."""
    if user is None:
        return {}
    from marketplace.api.services import create_token

    _, plain = create_token(user, label)
    _commit()
    return {"Authorization": f"Bearer {plain}"}


def make_document(owner_kind, owner, content=b"%PDF-1.4\n%%EOF\n", name="spec.pdf", user=None, coop=None):
    """A document of ``owner`` (a job, question or bid; for "pending", a user), its file stored."""
    import io

    from marketplace.documents import services as documents

    upload = documents.check_upload(name, io.BytesIO(content))
    document = documents.store(upload, owner_kind, owner.id, user, coop)
    _commit()
    return document
