"""The search index against an oracle, through a long seeded random life of the site.

Each run is a sequence of the site's real operations — jobs posted, edited, published,
withdrawn, cancelled, bid on and awarded through the services, memberships changed by an admin,
the clock moving past deadlines, the index rebuilt, changes left queued while another writer
holds the index — interleaved with searches of every kind (words, phrases, joined words,
prefixes, negation, AND/OR, skill synonyms, facets, the three orders, pages, suggestions) by
every kind of viewer. Each answer is compared with one computed straight from the database:
the jobs the viewer may see (``visible_jobs``, the visibility rule) whose text matches the
query as the search box documents it (``marketplace/search/query.py``).

The vocabulary is small so that queries hit; its words stem alike in every backend, so that
the oracle can match them as written. A failure names its seed and step:
``SEARCH_MODEL_SEED=<seed> make test PYTHONPATH=... PYTEST_ARGS=tests/search/test_model.py``
replays it; ``SEARCH_MODEL_STEPS`` makes the runs longer.
"""
import os
import random
import re
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.coops.models import Coop
from marketplace.core.time import frozen_now
from marketplace.extensions import db
from marketplace.bids import services as bids
from marketplace.federation import can_view_job, viewer_for, visible_jobs
from marketplace.federation import services as federation
from marketplace.federation.services import FederationRuleError
from marketplace.federation.models import NetworkMembership
from marketplace.jobs import services as jobs
from marketplace.jobs.models import Job
from marketplace.jobs.services import JobRuleError
from marketplace.search import SearchRequest, backend, drain, forget_skills, query_index, rebuild
from marketplace.search.documents import JOB, budget_band
from marketplace.search.query import And, Not, Text, parse
from marketplace.search.services import search_jobs

from ..factories import make_coop, make_user

VOCABULARY = ("garden", "bakery", "housing", "energy", "booking", "library", "theatre", "cycling",
              "brewery", "archive", "orchard", "pottery")
PLACES = ("", "Leeds", "Bristol", "leeds")
SYNONYMS = {"accessibility": "a11y;wcag", "web-design": "website;web site"}
SEEDS = [int(s) for s in os.environ.get("SEARCH_MODEL_SEED", "1,20261206").split(",")]
STEPS = int(os.environ.get("SEARCH_MODEL_STEPS", "300"))
START = datetime(2026, 3, 2, 9, 0)
WORD_RE = re.compile(r"\w+(?:\.?\w+)*")
ABSENT = {"kind": "lead", "state": "awarded", "visibility": "public", "budget": "over-100k", "mode": "hybrid",
          "skill": "devops", "coop": "999999", "location": "york"}  # a value no result may have
PER_PAGE = 100  # every result on one page; the paging rule reads smaller pages


def words_of(text):
    return WORD_RE.findall((text or "").lower())


# --- the oracle ---------------------------------------------------------------------------------

class Oracle:
    """What a query should find, from the database alone."""

    def __init__(self, skills):
        # Each variant (name or synonym, as words) of a skill → every variant of that skill.
        self.variants = {}
        for skill in skills:
            names = {tuple(words_of(n)) for n in (skill.name, *skill.synonym_list)} - {()}
            for name in names:
                self.variants[name] = names

    def visible(self, viewer):
        stmt = visible_jobs(select(Job), viewer).options(selectinload(Job.skills))
        return db.session.scalars(stmt.execution_options(populate_existing=True)).unique().all()

    @staticmethod
    def text(job):
        skills_text = "; ".join(part for s in job.skills for part in (s.name, *s.synonym_list))
        return words_of("\n".join(p for p in (job.title, skills_text, job.summary, job.description,
                                              (job.location or "").strip()) if p))

    def leaf(self, node, tokens):
        if node.prefix:
            stem = node.text.lower()
            return any(t.startswith(stem) for t in tokens)
        wanted = tuple(words_of(node.text))
        return any(_contains(tokens, variant) for variant in self.variants.get(wanted, {wanted}))

    def matches(self, node, tokens):
        if isinstance(node, Text):
            return self.leaf(node, tokens)
        if isinstance(node, Not):
            return not self.matches(node.item, tokens)
        found = (self.matches(item, tokens) for item in node.items)
        return all(found) if isinstance(node, And) else any(found)

    def found(self, parsed, jobs):
        kept = []
        for job in jobs:
            tokens = self.text(job)
            if any(self.matches(c, tokens) for c in parsed.clauses) and not any(
                    self.matches(e, tokens) for e in parsed.excluded):
                kept.append(job)
        return kept


def _contains(tokens, words):
    n = len(words)
    return any(tuple(tokens[i:i + n]) == words for i in range(len(tokens) - n + 1))


def facet_values(job):
    """{facet: [values]} of a job, as /search names them."""
    return {
        "kind": [job.kind], "state": [job.state.value], "visibility": [job.visibility],
        "budget": [budget_band(job.budget_type, job.budget_min, job.budget_max)],
        "mode": [job.work_mode], "skill": [s.slug for s in job.skills], "coop": [str(job.coop_id)],
        "location": [" ".join(job.location.split()).lower()] if (job.location or "").strip() else [],
    }


def expected_facets(found, filters):
    """{facet: Counter}: for each facet, the results under the *other* chosen filters."""
    facets = {}
    for name in ("kind", "state", "visibility", "budget", "mode", "skill", "coop", "location"):
        tally = Counter()
        for job in found:
            values = facet_values(job)
            if all(value in values[other] for other, value in filters.items() if other != name):
                tally.update(values[name])
        facets[name] = tally
    return facets


# --- the site's life ------------------------------------------------------------------------------

class Life:
    def __init__(self, app, rng, networks, skills, check_busy):
        self.app, self.rng, self.skills = app, rng, list(skills.values())
        self.check_busy = check_busy
        cotech, workers = networks["cotech"], networks["workers-coop"]
        self.posters = [
            make_coop("Garden Poster", {cotech: "active", workers: "active"}),
            make_coop("Workers Poster", {workers: "active"}),
            make_coop("Cotech Poster", {cotech: "active"}),
        ]
        self.people = {coop.id: make_user(coops=[coop]) for coop in self.posters}
        self.admin = make_user(admin=True)
        self.watchers = [make_coop("Watching Cotech", {cotech: "active"}),
                         make_coop("Watching Workers", {workers: "active"})]
        self.watching = {coop.id: make_user(coops=[coop]) for coop in self.watchers}
        self.viewers = [None, make_user()] + list(self.watching.values()) + list(
            self.people.values()) + [make_user(coordinates=[workers])]
        self.memberships = db.session.scalars(select(NetworkMembership)).all()
        self.jobs = []
        self.now = START
        self.steps = []

    # operations

    def words(self, low, high):
        return " ".join(self.rng.choice(VOCABULARY) for _ in range(self.rng.randint(low, high)))

    def values(self):
        rng = self.rng
        return dict(
            title=self.words(1, 3).capitalize(), summary=self.words(2, 6),
            description=rng.choice(["", self.words(3, 10), f"{self.words(1, 3)}-{rng.choice(VOCABULARY)}"]),
            kind=rng.choice(["tender", "subcontract", "lead"]), budget_type="fixed",
            **dict(zip(("budget_min", "budget_max"), rng.choice([(0, None), (1000, 4000), (30000, 60000),
                                                                 (90000, 150000), (2000, None)]))),
            currency="GBP", location=rng.choice(PLACES), work_mode=rng.choice(["remote", "hybrid", "on_site"]),
            questions_deadline=self.now + timedelta(hours=rng.randint(1, 48)),
            bids_deadline=self.now + timedelta(days=rng.randint(2, 12), hours=rng.randint(0, 23)),
            start_date=None, visibility=rng.choice(["public", "federation", "cotech"]),
            looking_for_partners=False,
        )

    def pick_skills(self):
        return self.rng.sample(self.skills, self.rng.randint(0, 2))

    def post(self):
        coop = self.rng.choice(self.posters)
        values = self.values()
        job = jobs.post_job(coop, self.people[coop.id], values, self.pick_skills(),
                            publish=self.rng.random() < 0.8)
        db.session.commit()
        self.jobs.append(job.id)
        return f"post {job.id} {values['visibility']} {job.title!r}"

    def _some_job(self, test):
        candidates = [j for j in (db.session.get(Job, i) for i in self.jobs) if j is not None and test(j)]
        return self.rng.choice(candidates) if candidates else None

    def edit(self):
        job = self._some_job(jobs.is_editable)
        if job is None:
            return "edit: nothing editable"
        change = self.rng.choice(["title", "summary", "skills", "visibility", "location"])
        values, skills = {}, None
        if change == "title":
            values["title"] = self.words(1, 3).capitalize()
        elif change == "summary":
            values["summary"] = self.words(2, 6)
        elif change == "skills":
            skills = self.pick_skills()
        elif change == "location":
            values["location"] = self.rng.choice(PLACES)
        else:
            values["visibility"] = self.rng.choice(["public", "federation", "cotech"])
        jobs.update_job(job, self.people[job.coop_id], values, skills)
        db.session.commit()
        return f"edit {job.id} {change}"

    def publish(self):
        job = self._some_job(lambda j: j.status == "draft" and j.bids_deadline > self.now)
        if job is None:
            return "publish: no draft"
        jobs.publish_job(job, self.people[job.coop_id])
        db.session.commit()
        return f"publish {job.id}"

    def withdraw(self):
        job = self._some_job(lambda j: j.status == "published" and j.state == "open")
        if job is None:
            return "withdraw: nothing open"
        jobs.withdraw_job(job, self.people[job.coop_id], "Changed our plans.")
        db.session.commit()
        return f"withdraw {job.id}"

    def cancel(self):
        job = self._some_job(lambda j: j.status == "published" and j.state == "closed")
        if job is None:
            return "cancel: nothing closed"
        jobs.cancel_job(job, self.people[job.coop_id], "No suitable bids.")
        db.session.commit()
        return f"cancel {job.id}"

    def bid(self):
        """A watching co-op bids on an open job it may see (bids are sealed: search is unchanged)."""
        coop = self.rng.choice(self.watchers)
        user = self.watching[coop.id]
        job = self._some_job(lambda j: j.state == "open" and can_view_job(viewer_for(user), j))
        if job is None:
            return "bid: nothing to bid on"
        values = bids.BidValues(amount=1000, available_from=self.now.date() + timedelta(days=30),
                                proposal="We can do this.", answers={})
        bids.save_bid(job, coop, user, values, submit=True)
        db.session.commit()
        return f"bid {job.id} by {coop.id}"

    def award(self):
        job = self._some_job(lambda j: j.state == "closed" and bids.received_bids(j))
        if job is None:
            return "award: nothing to award"
        bid = self.rng.choice(bids.received_bids(job))
        bids.award_bid(bid, self.people[job.coop_id], 1000, self.now.date() + timedelta(days=1))
        db.session.commit()
        return f"award {job.id}"

    def membership(self):
        membership = self.rng.choice(self.memberships)
        status = "pending" if membership.status == "active" else "active"
        federation.update_membership(membership, self.admin, status, membership.since, membership.until)
        db.session.commit()
        return f"membership {membership.coop_id}/{membership.network_id} {status}"

    def time_passes(self):
        self.now += timedelta(hours=self.rng.randint(1, 72))
        return f"time {self.now:%Y-%m-%d %H:%M}"

    def reindex(self):
        rebuild(self.app)
        return "reindex"

    def edit_while_busy(self):
        """Another writer holds the index: the change waits in the queue for the next drain."""
        if not self.check_busy:
            return "busy: not for this backend"
        engine = backend(self.app)
        timeout, engine.lock_timeout = engine.lock_timeout, 0.01
        try:
            with _held(engine._write_lock):
                done = self.operate(("post", "edit", "publish", "withdraw", "cancel", "award"))
        finally:
            engine.lock_timeout = timeout
        return done + " (queued while the index was busy)"

    OPERATIONS = (("post", 6), ("edit", 6), ("publish", 2), ("withdraw", 2), ("cancel", 1), ("bid", 3),
                  ("award", 2), ("membership", 2), ("time_passes", 3), ("reindex", 1), ("edit_while_busy", 2))

    def operate(self, among=None):
        """One operation; one the rules refuse (a visibility the co-op may no longer post) is
        rolled back, as the site does."""
        names, weights = zip(*[(n, w) for n, w in self.OPERATIONS if among is None or n in among])
        name = self.rng.choices(names, weights)[0]
        try:
            return getattr(self, name)()
        except (JobRuleError, FederationRuleError, bids.BidRuleError) as error:
            db.session.rollback()
            return f"{name} refused: {error}"

    # queries

    def query_text(self):
        rng = self.rng
        word = lambda: rng.choice(VOCABULARY)  # noqa: E731
        skill_word = lambda: rng.choice(["a11y", "wcag", "accessibility", "website", "python", "devops",  # noqa: E731
                                         '"web design"', "web-design", '"web site"'])
        shapes = [
            lambda: word(),
            lambda: f"{word()} {word()}",
            lambda: f'"{word()} {word()}"',
            lambda: f"{word()}-{word()}",
            lambda: word()[:rng.randint(2, 4)] + "*",
            lambda: f"{word()} -{word()}",
            lambda: f"{word()} AND {word()}",
            lambda: f"({word()} OR {word()}) -{word()[:3]}*",
            lambda: f"{word()} NOT {word()}",
            skill_word,
            lambda: f"{skill_word()} {word()}",
            lambda: (lambda w, i: w[:i] + "q" + w[i + 1:])(word(), rng.randint(1, 4)),  # a near miss
        ]
        return rng.choice(shapes)()

    def filters(self, found):
        """Usually none; sometimes a value some visible result has, or one no result has."""
        rng = self.rng
        filters = {}
        for _ in range(rng.choice([0, 0, 1, 2])):
            name = rng.choice(["kind", "state", "visibility", "budget", "mode", "skill", "coop", "location"])
            values = [v for job in found for v in facet_values(job)[name]] or [ABSENT[name]]
            filters[name] = rng.choice(values)
        return filters


@contextmanager
def _held(lock):
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _check_query(life, oracle, step):
    rng = life.rng
    user = rng.choice(life.viewers)
    viewer = viewer_for(user)
    text = life.query_text()
    parsed = parse(text)
    everything = oracle.found(parsed, oracle.visible(viewer))
    filters = life.filters(everything)
    want = [j for j in everything if all(v in facet_values(j)[n] for n, v in filters.items())]
    where = f"step {step}: {text!r} filters={filters} as {user and user.email}"
    sort = rng.choice(["relevance", "newest", "closing"])

    result = query_index(SearchRequest(query=parsed, kind=JOB, filters=filters, sort=sort, page=1,
                                       per_page=PER_PAGE), viewer)
    got = [hit.object_id for hit in result.hits]
    assert len(got) == len(set(got)), where
    assert sorted(got) == sorted(j.id for j in want), (where, sorted(got), sorted(j.id for j in want))
    assert result.total == len(want), where

    # Facets: each count is what choosing that value would give.
    facets = expected_facets(everything, filters)
    for name, counts in result.facets.items():
        assert dict(counts) == dict(facets[name]), (where, name)

    # Orders: newest first; closing soonest, then the closed ones, most recently closed first.
    by_id = {j.id: j for j in want}
    if sort == "newest":
        keys = [int(by_id[i].published_at.timestamp()) for i in got if by_id[i].published_at]
        assert keys == sorted(keys, reverse=True), where
    elif sort == "closing":
        future = [by_id[i].bids_deadline for i in got if by_id[i].bids_deadline > life.now]
        past = [by_id[i].bids_deadline for i in got if by_id[i].bids_deadline <= life.now]
        order = [by_id[i].bids_deadline > life.now for i in got]
        assert order == sorted(order, reverse=True), where
        secs = lambda ds: [int(d.timestamp()) for d in ds]  # noqa: E731
        assert secs(future) == sorted(secs(future)) and secs(past) == sorted(secs(past), reverse=True), where

    # Pages: small pages of the same query, end to end, are the whole answer in the same order.
    if got and rng.random() < 0.3:
        size, paged, page = rng.randint(1, 4), [], 1
        while len(paged) < len(got):
            part = query_index(SearchRequest(query=parsed, kind=JOB, filters=filters, sort=sort, page=page,
                                             per_page=size), viewer)
            assert part.hits, where
            paged += [hit.object_id for hit in part.hits]
            page += 1
        assert paged == got, where

    # Suggestions only of words in titles the viewer may see.
    seen_titles = {w for j in oracle.visible(viewer) for w in words_of(j.title)}
    seen_titles |= {w for c in db.session.scalars(select(Coop)) for w in words_of(c.name)}  # profiles are public
    for word, options in result.suggestions.items():
        assert set(options) <= seen_titles, (where, word, options)

    # The service the page and the API use: the same jobs, loaded through the visibility rule.
    if rng.random() < 0.2:
        found, total, _ = search_jobs(viewer, text, filters, sort=sort, per_page=PER_PAGE)
        assert sorted(j.id for j in found) == sorted(j.id for j in want) and total == len(want), where


def _run(app, networks, skills, seed, search_backend):
    rng = random.Random(seed)
    for slug, synonyms in SYNONYMS.items():
        skills[slug].synonyms = synonyms
    db.session.commit()
    forget_skills()
    with app.test_request_context(), frozen_now(START):
        life = Life(app, rng, networks, skills, check_busy=search_backend == "whoosh")
        oracle = Oracle(life.skills)
        for step in range(STEPS):
            with frozen_now(life.now):
                try:
                    if rng.random() < 0.45:
                        life.steps.append(life.operate())
                    else:
                        drain(app)  # what the next commit, or the lock holder, does
                        _check_query(life, oracle, step)
                except AssertionError as error:
                    raise AssertionError(
                        f"seed {seed} (SEARCH_MODEL_SEED={seed}), after: {life.steps[-8:]}"
                    ) from error
    if os.environ.get("SEARCH_MODEL_SHOW"):
        print(Counter(step.split(" ")[0].rstrip(":") for step in life.steps))


@pytest.mark.parametrize("seed", SEEDS)
def test_search_answers_as_the_database_does_through_a_long_life(app, networks, skills, seed, search_backend):
    _run(app, networks, skills, seed, search_backend)
