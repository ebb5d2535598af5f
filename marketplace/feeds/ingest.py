"""Importing a feed source: fetch, parse, and turn its entries into ordinary jobs.

Imported jobs are ``Job`` rows of the source's co-op, with the source's visibility, linked to
their entry by ``ImportedEntry`` (GUID / OCID / link, unique per source), so that a refetch
updates a job instead of adding another. A fetch that fails (unreachable, too slow, too big,
malformed) is recorded on the source and changes nothing else: what was imported stays.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..audit.services import record
from ..core.time import site_zone, utcnow
from ..extensions import db
from ..federation.policy import posting_visibilities
from ..jobs.models import BudgetType, Currency, Job, JobStatus, WorkMode
from ..jobs.services import (EDITABLE_FIELDS, MAX_SKILLS, JobRuleError, check_publishable, deadline_errors,
                             end_at_source, is_editable, update_job)
from ..skills.models import Skill
from .entries import Entry, FeedFormatError, parse_rss, shorten, text_html
from .addresses import AddressPolicy
from .fetch import FetchError, fetch
from .models import FeedSource, ImportedEntry, SourceKind
from .ocds import parse_ocds
from .settings import setting, user_agent

if TYPE_CHECKING:
    from ..feeds.entries import Entries
    from typing import Any
    from ..accounts.models import User

log = logging.getLogger(__name__)

# Questions close this long before bids when the entry does not say.
QUESTIONS_BEFORE_BIDS = timedelta(days=1)
IN_CHUNK = 500
MAX_SKIPS_KEPT = 50  # skipped entries named on the source's page (all are counted)


@dataclass
class FetchReport:
    """What one fetch of one source did."""

    source_id: int
    name: str
    outcome: str = "imported"  # imported | not_modified | unchanged | failed
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0        # created already closed (deadline passed at the source)
    withdrawn: int = 0     # cancelled at the source
    skipped: int = 0       # entries we could not use (their reasons in ``skips``)
    error: str | None = None
    seconds: float = 0.0
    skips: list = field(default_factory=list)  # (entry title, reason)

    def skip(self, entry, reason: str) -> None:
        self.skipped += 1
        self.skips.append((shorten(entry.title or entry.guid, 120), reason))

    @property
    def ok(self) -> bool:
        return self.outcome != "failed"

    def describe(self) -> str:
        if self.outcome == "failed":
            return f"{self.name}: failed: {self.error}"
        if self.outcome == "not_modified":
            return f"{self.name}: not modified since the last fetch."
        if self.outcome == "unchanged":
            return f"{self.name}: unchanged since the last fetch."
        parts = [f"{self.created} new", f"{self.updated} updated", f"{self.unchanged} unchanged"]
        if self.closed:
            parts.append(f"{self.closed} already closed")
        if self.withdrawn:
            parts.append(f"{self.withdrawn} withdrawn")
        if self.skipped:
            parts.append(f"{self.skipped} skipped")
        return f"{self.name}: " + ", ".join(parts) + "."


class SourceRefused(Exception):
    """The source's settings no longer allow importing (e.g. its co-op lost its membership)."""

    def __init__(self, message) -> None:
        super().__init__(message)
        self.message = message


# --- skills from text ----------------------------------------------------------------------------

class SkillMatcher:
    """Finds taxonomy skills named in text, by name, slug or synonym, as whole words.

    One pattern of every term tried at each position of a long notice costs about half a
    millisecond an entry; a term can only match where each of its words is a word of the text,
    so the pattern is made of those terms alone (and kept: many texts share the same few)."""

    def __init__(self, skills) -> None:
        self.by_slug = {s.slug: s for s in skills}
        self.by_term: dict[str, Any] = {}
        for skill in skills:
            for term in (skill.name, skill.slug.replace("-", " "), *skill.synonym_list):
                term = " ".join(term.lower().split())
                if len(term) >= 2:
                    self.by_term.setdefault(term, skill)
        # Longest first: "machine learning" before "machine", as the single pattern had them.
        self.terms = sorted(self.by_term, key=len, reverse=True)
        self._rank = {term: n for n, term in enumerate(self.terms)}
        self._by_word: dict[str, list[Any]] = {}
        for term in self.terms:
            words = frozenset(_WORD.findall(term))
            if words:
                self._by_word.setdefault(min(words), []).append((term, words))
        self._patterns: dict[Any, Any] = {}

    def find(self, text: str, skip=frozenset()) -> list[Any]:
        """The skills named in ``text``, in order; ``skip``: terms that do not count."""
        if not self.terms or not text:
            return []
        text = " ".join(text.split())
        words = set(_WORD.findall(text.lower()))
        candidates = sorted({term for word in words for term, needs in self._by_word.get(word, ())
                             if needs <= words}, key=self._rank.__getitem__)
        if not candidates:
            return []
        found = []
        for match in self._pattern(tuple(candidates)).finditer(text):
            term = match.group(1).lower()
            skill = None if term in skip else self.by_term.get(term)
            if skill is not None and skill not in found:
                found.append(skill)
        return found

    def _pattern(self, terms):
        pattern = self._patterns.get(terms)
        if pattern is None:
            if len(self._patterns) > 4096:
                self._patterns.clear()
            pattern = self._patterns[terms] = re.compile(
                r"(?<![\w+#.])(" + "|".join(re.escape(t) for t in terms) + r")(?![\w+#])", re.IGNORECASE
            )
        return pattern


# The words of a term or a text, as the pattern's edges see them: a term can only match where
# each of its words stands whole in the text.
_WORD = re.compile(r"[\w+#]+")


# Words that name a skill but mostly mean something else in a public notice ("building
# security", "LED video panel", "our strategy", "hosting an event"), and in its prose also
# "see our website": tried on real Contracts Finder tenders, they made most wrong guesses.
LOOSE_TERMS = frozenset({"security", "strategy", "campaigns", "hosting", "infrastructure", "video", "games",
                         "containers", "printing", "node", "linux", "ubuntu", "charts", "ml"})
LOOSE_IN_PROSE = LOOSE_TERMS | {"website"}


def guess_skills(entry, matcher, defaults) -> list[Any]:
    """The source's default skills, then skills known from codes (CPV), then skills named in
    the title and categories, then in the text, at most MAX_SKILLS.

    A classified notice (an OCDS tender with CPV codes) is read more warily: its codes stand
    for its categories (their names are whole families: "…printing and security"), loose
    words count in its title only when its codes are ours, and never in its text, which is
    long and mostly boilerplate. A forum post's text is short and about the work."""
    chosen = list(defaults)
    candidates = [matcher.by_slug[s] for s in entry.skill_slugs if s in matcher.by_slug]
    if not entry.classified:
        candidates += matcher.find(entry.title) + matcher.find(entry.keywords) + matcher.find(entry.text)
    else:
        # Its codes say it is work of ours ("Email security solution", software): its title's
        # loose words count.
        candidates += matcher.find(entry.title, skip=frozenset() if candidates else LOOSE_TERMS)
        candidates += matcher.find(entry.text, skip=LOOSE_IN_PROSE)
    for skill in candidates:
        if skill not in chosen:
            chosen.append(skill)
    return chosen[:MAX_SKILLS]


# --- entry → job values -------------------------------------------------------------------------

def job_values(source: FeedSource, entry, now: datetime, open_days, first_seen=None):
    """The job fields for an entry, as ``jobs.services`` takes them. An entry without a date
    counts from when it was first seen, so its deadline stays put from one fetch to the next."""
    published = min(entry.published or first_seen or now, now)
    bids = entry.bids_deadline or published + timedelta(days=open_days)
    questions = entry.questions_deadline or bids - QUESTIONS_BEFORE_BIDS
    if questions >= bids:
        questions = bids - QUESTIONS_BEFORE_BIDS
    has_budget = entry.budget_min is not None
    return {
        "title": shorten(entry.title, 200),
        "summary": shorten(entry.summary or entry.text or entry.title, 500),
        "description": entry.text,
        "kind": source.job_kind,
        "budget_type": BudgetType.FIXED.value,
        "budget_min": entry.budget_min if has_budget else 0,
        "budget_max": entry.budget_max if has_budget else None,
        "currency": entry.currency if has_budget else Currency.GBP.value,
        "location": entry.location,
        "work_mode": WorkMode.REMOTE.value,
        "questions_deadline": questions,
        "bids_deadline": bids,
        "start_date": None,
        "visibility": source.visibility,
        "looking_for_partners": False,
    }, published


# Raise when entries are turned into jobs differently: the raw digests stored before then no
# longer vouch for their jobs, and every entry is read again once.
ENTRY_RULES = 1


def entry_key(source: FeedSource, skills) -> bytes:
    """``raw_digest``'s key: all that decides an entry's job besides the entry itself (the
    source's settings, the skills taxonomy, the site's time zone for bare dates)."""
    taxonomy = sorted((s.slug, s.name, tuple(s.synonym_list)) for s in skills)
    decides = [ENTRY_RULES, source.kind, source.url, source.coop_id, source.visibility, source.job_kind,
               sorted(s.slug for s in source.default_skills), setting("FEED_DEFAULT_OPEN_DAYS"),
               setting("FEED_MAX_ENTRIES"), str(site_zone()), taxonomy]
    return hashlib.sha256(repr(decides).encode()).digest()


def content_hash(values, skills, entry) -> str:
    """What the job would look like: unchanged hash, nothing to update."""
    data: dict[str, Any] = {k: str(v) for k, v in values.items()}
    data.update(skills=sorted(s.id for s in skills), link=entry.link, html=entry.html,
                cancelled=entry.cancelled)
    # Only when there is one: the hashes of entries imported before without stay valid.
    extra = {"notice": entry.notice if entry.notice != "tender" else None, "buyer": entry.buyer or None,
             "value": entry.value}
    data.update((k, v) for k, v in extra.items() if v is not None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _description_html(entry):
    return entry.html or text_html(entry.text)


def _assign(job: Job, values, skills, entry) -> list[str]:
    """Set a job's fields directly; returns the names of those that changed."""
    before = {n: getattr(job, n) for n in EDITABLE_FIELDS}
    before_skills = {s.id for s in job.skills} if job.id is not None else set()
    for name in EDITABLE_FIELDS:
        setattr(job, name, values[name])
    job.description_html = _description_html(entry)
    job.skills = list(skills)
    changed = sorted(n for n in EDITABLE_FIELDS if getattr(job, n) != before[n])
    if {s.id for s in skills} != before_skills:
        changed.append("skills")
    return changed


def new_imported_job(source: FeedSource, entry, values, skills, published, now: datetime) -> Job:
    """The job of a new entry, published (or stored closed, when its bids deadline has already
    passed at the source: publishing refuses a past deadline); its audit events are written by
    ``record_imported_job`` once it has an id. Raises JobRuleError, having added nothing, when
    the job rules refuse it."""
    job = Job(coop=source.coop, posted_by=None, status=JobStatus.DRAFT.value)
    _assign(job, values, skills, entry)
    if job.bids_deadline > now:
        try:
            check_publishable(job)
        except JobRuleError:
            if job in db.session:
                db.session.expunge(job)
            raise
    job.status = JobStatus.PUBLISHED.value
    # The entry's own date, not the import's, orders it among other jobs.
    job.published_at = published
    db.session.add(job)
    return job


def record_imported_job(source: FeedSource, job: Job, actor: User | None, now: datetime) -> bool:
    """The audit events of a new imported job (as ``publish_job`` writes them). Returns True
    if it came in closed."""
    record("job.created", job, actor=actor, coop=source.coop, title=job.title,
           source_id=source.id, imported=True)
    if job.bids_deadline <= now:
        record("job.imported_closed", job, actor=actor, coop=source.coop, public=True, source_id=source.id)
        return True
    record("job.published", job, actor=actor, coop=job.coop, public=True)
    return False


ENDED_AT_SOURCE = {
    "cancelled": "Cancelled at the source.",
    "award": "The buyer awarded the contract: see the award notice at the source.",
}


def update_imported_job(source: FeedSource, job: Job, entry, values, skills, actor: User | None) -> str:
    """Bring a job in line with its changed entry. Returns "updated", "withdrawn" or "kept"."""
    if job.status != JobStatus.PUBLISHED:
        return "kept"  # ended here (withdrawn, cancelled, awarded): a refetch does not revive it
    if entry.cancelled or entry.notice == "award":
        # The process is over at the source: open here, the job is withdrawn; closed, it is
        # cancelled with the reason (the one state a closed job can end in without an award).
        ended = end_at_source(job, actor, ENDED_AT_SOURCE["cancelled" if entry.cancelled else "award"])
        return "withdrawn" if ended else "kept"
    if is_editable(job) and not deadline_errors(
        values["questions_deadline"], values["bids_deadline"], None, previous=job
    ):
        update_job(job, actor, values, skills)
        job.description_html = _description_html(entry)
        return "updated"
    # Closed here, or its deadlines moved into the past at the source: the source is the
    # authority on its own entries, so the job follows it (a later deadline reopens it).
    changed = _assign(job, values, skills, entry)
    if changed:
        record("job.updated", job, actor=actor, coop=job.coop, fields=changed, source_id=source.id,
               imported=True)
    return "updated"


# --- one source ------------------------------------------------------------------------------------

def _parse(source: FeedSource, result, key=None, known=frozenset()) -> Entries:
    if source.kind == SourceKind.OCDS:
        return parse_ocds(result.body, key, known)
    return parse_rss(result.body, result.content_type, result.url, key, known)


def _raw_hashes(source: FeedSource) -> frozenset[Any]:
    """The raw digests of the source's entries as they were last imported."""
    return frozenset(db.session.scalars(
        select(ImportedEntry.raw_hash).where(ImportedEntry.source_id == source.id,
                                             ImportedEntry.raw_hash.is_not(None))
    ))


def import_entries(source: FeedSource, entries, actor: User | None = None, now: datetime | None = None, report=None):
    """Create or update the jobs of ``entries`` (not committed). Returns the report."""
    now = now or utcnow()
    report = report or FetchReport(source.id, source.name)
    if source.visibility not in posting_visibilities(source.coop):
        raise SourceRefused(
            f"{source.coop.name} can no longer post jobs with visibility “{source.visibility_label}”: "
            "change the source's co-op or visibility."
        )
    dropped = getattr(entries, "dropped", 0)
    if dropped:
        report.skipped += dropped
        report.skips.append((f"{dropped} entr{'y' if dropped == 1 else 'ies'}",
                             "No title, or nothing to know it by at the next fetch (no id or link)."))
    seen, unique = set(), []
    for entry in entries[: setting("FEED_MAX_ENTRIES")]:
        if entry.guid not in seen:
            seen.add(entry.guid)
            unique.append(entry)
    known = {
        e.guid: e for e in db.session.scalars(
            select(ImportedEntry).where(ImportedEntry.source_id == source.id)
        )
    } if unique else {}  # nothing to read: every entry was as it was last time
    matcher = SkillMatcher(db.session.scalars(select(Skill)).all())
    defaults = list(source.default_skills)
    open_days = setting("FEED_DEFAULT_OPEN_DAYS")

    planned, unchanged = [], 0
    for entry in unique:
        previous = known.get(entry.guid)
        if previous is None and (entry.cancelled or entry.notice != "tender"):
            report.skip(entry, NOT_OPEN[entry.notice if not entry.cancelled else "cancelled"])
            continue
        values, published = job_values(source, entry, now, open_days,
                                       first_seen=previous.first_seen_at if previous else now)
        skills = guess_skills(entry, matcher, defaults)
        step = _Step(entry, values, skills, published, content_hash(values, skills, entry), previous)
        if previous is not None and previous.content_hash == step.digest:
            unchanged += 1
            if entry.raw_hash is not None and previous.raw_hash != entry.raw_hash:
                previous.raw_hash = entry.raw_hash  # sent differently, the same job: skipped next time
        else:
            planned.append(step)
    report.unchanged = unchanged + getattr(entries, "unchanged", 0)

    # New entries: each is checked against the job rules before anything is added (one they
    # refuse is skipped with its reason), then all are inserted in one flush: an audit event
    # needs its job's id, and a flush (or a savepoint) per job would cost most of an import.
    new = []
    with db.session.no_autoflush:
        for step in planned:
            if step.previous is not None:
                continue
            try:
                job = new_imported_job(source, step.entry, step.values, step.skills, step.published, now)
            except JobRuleError as error:
                report.skip(step.entry, error.message)
                continue
            new.append(job)
            db.session.add(ImportedEntry(source=source, guid=step.entry.guid, link=step.entry.link, job=job,
                                         buyer=step.entry.buyer or None, value=step.entry.value,
                                         content_hash=step.digest, raw_hash=step.entry.raw_hash,
                                         first_seen_at=now, last_seen_at=now))
    db.session.flush()
    for job in new:
        report.closed += record_imported_job(source, job, actor, now)
    report.created = len(new)

    changed = [(step, step.previous) for step in planned if step.previous is not None]
    jobs = _jobs_by_id([previous.job_id for _, previous in changed])
    for step, previous in changed:
        # Each entry its own unit: one the job rules refuse is skipped with its reason (and
        # tried again next time), and the rest of the fetch still lands.
        try:
            with db.session.begin_nested():
                outcome = update_imported_job(source, jobs[previous.job_id], step.entry, step.values,
                                              step.skills, actor)
        except JobRuleError as error:
            report.skip(step.entry, error.message)
            continue
        previous.content_hash, previous.link, previous.last_seen_at = step.digest, step.entry.link, now
        previous.raw_hash = step.entry.raw_hash
        previous.buyer, previous.value = step.entry.buyer or None, step.entry.value
        if outcome == "updated":
            report.updated += 1
        elif outcome == "withdrawn":
            report.withdrawn += 1
        else:
            report.unchanged += 1
    # Unchanged entries are not written to at all: a refetch that finds nothing new writes
    # nothing but the source's own fetch times.
    return report


NOT_OPEN = {
    "cancelled": "Cancelled at the source before it was imported.",
    "award": "An award notice: the contract is already awarded, there is nothing to bid for.",
    "planning": "A planning notice: not open for bids yet (imported once a tender is published).",
}


@dataclass
class _Step:
    """One entry of a fetch, with the job it makes and what is known of it already."""

    entry: Entry
    values: dict
    skills: list
    published: datetime | None
    digest: str
    previous: ImportedEntry | None


def _jobs_by_id(ids) -> dict[Any, Any]:
    jobs: dict[int, Any] = {}
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start:start + IN_CHUNK]
        stmt = select(Job).where(Job.id.in_(chunk)).options(selectinload(Job.skills))
        jobs.update((job.id, job) for job in db.session.scalars(stmt))
    return jobs


def _count_entries(source: FeedSource):
    return db.session.scalar(
        select(func.count()).select_from(ImportedEntry).where(ImportedEntry.source_id == source.id)
    )


def fetch_source(source: FeedSource, actor: User | None = None, now: datetime | None = None,
                 force: bool = False) -> FetchReport:
    """Fetch one source and import what changed, in one transaction (committed here).

    ``force`` ignores the stored validators and body hash: everything is fetched and compared.
    Never raises for a bad feed: the report (and the source) say what went wrong.
    """
    now = now or utcnow()
    started = time.perf_counter()
    report = FetchReport(source.id, source.name)
    try:
        result = fetch(
            source.url,
            etag=None if force else source.etag,
            last_modified=None if force else source.last_modified,
            timeout=setting("FEED_TIMEOUT"), max_bytes=setting("FEED_MAX_BYTES"),
            user_agent=user_agent(), policy=AddressPolicy.from_settings(),
        )
        body_hash = hashlib.sha256(result.body).hexdigest() if result.status != 304 else None
        if result.status == 304:
            report.outcome = "not_modified"
        elif body_hash == source.body_hash and not force:
            report.outcome = "unchanged"
        else:
            # Entries sent as they were last time are left out before they are read (an unchanged
            # refetch reads nothing), unless forced: then every entry is read and compared.
            key = entry_key(source, db.session.scalars(select(Skill)).all())
            entries = _parse(source, result, key, frozenset() if force else _raw_hashes(source))
            import_entries(source, entries, actor, now, report)
            source.body_hash = body_hash
            source.entries_seen = _count_entries(source)
            skipped = [f"{title}: {reason}" for title, reason in report.skips[:MAX_SKIPS_KEPT]] or None
            # The same entries skipped again for the same reasons (a page's award notices) are
            # no news: a fetch that finds nothing new writes nothing.
            news = report.created or report.updated or report.withdrawn or skipped != source.last_skipped
            if skipped != source.last_skipped:
                source.last_skipped = skipped
            if news:
                record("feed_source.fetched", source, actor=actor, coop=source.coop,
                       created=report.created, updated=report.updated, withdrawn=report.withdrawn,
                       skipped=skipped)
        source.etag, source.last_modified = result.etag, result.last_modified
        source.last_fetched_at = source.last_success_at = now
        source.last_error = source.fetch_requested_at = None
        db.session.commit()
    except (FetchError, FeedFormatError, SourceRefused, JobRuleError) as error:
        _record_failure(source, report, error.message, actor, now)
    except Exception as error:  # a bug or a database failure must not stop the other sources
        log.exception("Importing feed source %s failed", report.source_id)
        _record_failure(source, report, f"Import failed: {type(error).__name__}: {error}", actor, now)
    report.seconds = time.perf_counter() - started
    return report


def _record_failure(source: FeedSource | None, report, message, actor: User | None, now: datetime) -> None:
    """Undo anything half-done, then note the error on the source (nothing imported is lost)."""
    db.session.rollback()
    source = db.session.get(FeedSource, report.source_id)
    report.outcome, report.error = "failed", message
    if source is None:
        return
    source.last_fetched_at = source.last_error_at = now
    source.last_error = message[:2000]
    source.fetch_requested_at = None
    record("feed_source.fetch_failed", source, actor=actor, coop=source.coop, error=message[:500])
    db.session.commit()
