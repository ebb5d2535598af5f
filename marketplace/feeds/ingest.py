"""Importing a feed source: fetch, parse, and turn its entries into ordinary jobs.

Imported jobs are ``Job`` rows of the source's co-op, with the source's visibility, linked to
their entry by ``ImportedEntry`` (GUID / OCID / link, unique per source), so that a refetch
updates a job instead of adding another. A fetch that fails (unreachable, too slow, too big,
malformed) is recorded on the source and changes nothing else: what was imported stays.
"""
from __future__ import annotations

import gc
import hashlib
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select
from sqlalchemy.orm import selectinload

from ..audit.services import record, record_many
from ..core.models import reserve_ids
from ..core.time import utcnow
from ..extensions import db
from ..federation import posting_visibilities
from ..jobs.models import Job
from ..jobs.services import JobRuleError
from ..skills.models import Skill
from .addresses import AddressPolicy
from .entries import Entry, FeedFormatError, parse_rss, shorten
from .fetch import FetchError, FetchResult, fetch
from .imported_jobs import (content_hash, entry_key, imported_job_events, job_values, new_imported_job,
                            update_imported_job)
from .models import FeedSource, ImportedEntry, SourceKind
from .ocds import parse_ocds
from .settings import setting, user_agent
from .skill_guess import SkillMatcher, guess_skills

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any
    from ..accounts.models import User
    from .entries import Entries

log = logging.getLogger(__name__)

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
    skips: list[tuple[str, str]] = field(default_factory=list)  # (entry title, reason)

    def skip(self, entry: Entry, reason: str) -> None:
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

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message



# --- one source ------------------------------------------------------------------------------------

def _parse(source: FeedSource, result: FetchResult, key: bytes | None = None,
           known: frozenset[str] = frozenset()) -> Entries:
    if source.kind == SourceKind.OCDS:
        return parse_ocds(result.body, key, known)
    return parse_rss(result.body, result.content_type, result.url, key, known)


def _raw_hashes(source: FeedSource) -> frozenset[str]:
    """The raw digests of the source's entries as they were last imported."""
    return frozenset(db.session.scalars(
        select(ImportedEntry.raw_hash).where(ImportedEntry.source_id == source.id,
                                             ImportedEntry.raw_hash.is_not(None))
    ))


def import_entries(source: FeedSource, entries: list[Entry], actor: User | None = None, now: datetime | None = None,
                   report: FetchReport | None = None) -> FetchReport:
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
    # Their entries and audit events, which nothing reads back here, go in a statement each.
    new: list[tuple[Job, _Step]] = []
    ids = iter(reserve_ids(Job, sum(step.previous is None for step in planned)) or ())
    with db.session.no_autoflush:
        for step in planned:
            if step.previous is not None:
                continue
            try:
                job = new_imported_job(source, step.entry, step.values, step.skills, step.published, now,
                                       job_id=next(ids, None))
            except JobRuleError as error:
                report.skip(step.entry, error.message)
                continue
            new.append((job, step))
    db.session.flush()
    if new:
        db.session.execute(insert(ImportedEntry), [
            {"source_id": source.id, "guid": step.entry.guid, "link": step.entry.link, "job_id": job.id,
             "buyer": step.entry.buyer or None, "value": step.entry.value, "content_hash": step.digest,
             "raw_hash": step.entry.raw_hash, "first_seen_at": now, "last_seen_at": now}
            for job, step in new
        ])
    events = []
    for job, _step in new:
        events += imported_job_events(source, job, actor, now)
        report.closed += job.bids_deadline <= now
    record_many(events)
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
    values: dict[str, Any]
    skills: list[Skill]
    published: datetime
    digest: str
    previous: ImportedEntry | None


def _jobs_by_id(ids: list[int]) -> dict[int, Job]:
    jobs: dict[int, Job] = {}
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start:start + IN_CHUNK]
        stmt = select(Job).where(Job.id.in_(chunk)).options(selectinload(Job.skills))
        jobs.update((job.id, job) for job in db.session.scalars(stmt))
    return jobs


def _count_entries(source: FeedSource) -> int:
    return db.session.scalar(
        select(func.count()).select_from(ImportedEntry).where(ImportedEntry.source_id == source.id)
    ) or 0


def fetch_source(source: FeedSource, actor: User | None = None, now: datetime | None = None,
                 force: bool = False) -> FetchReport:
    """Fetch one source and import what changed, in one transaction (committed here).

    ``force`` ignores the stored validators and body hash: everything is fetched and compared.
    Never raises for a bad feed: the report (and the source) say what went wrong.
    """
    now = now or utcnow()
    started = time.perf_counter()
    report = FetchReport(source.id, source.name)
    with _collector_paused():
        _fetch_and_import(source, report, actor, now, force)
    report.seconds = time.perf_counter() - started
    return report


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for one fetch: the objects an import allocates set
    it off some 270 times for a thousand entries, two of them full collections of the whole
    process, about 0.3 s of CPU (a seventh of the import) that found almost nothing to free.
    Whatever the fetch leaves unreachable is collected once it is back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _fetch_and_import(source: FeedSource, report: FetchReport, actor: User | None, now: datetime,
                      force: bool) -> None:
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


def _record_failure(source: FeedSource | None, report: FetchReport, message: str, actor: User | None,
                    now: datetime) -> None:
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

