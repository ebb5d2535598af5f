"""Imported entries as jobs: the job fields an entry makes, the digests that tell a changed entry
from an unchanged one, and creating or updating the job under the job rules."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..audit.services import event_values, record
from ..core.time import site_zone
from ..extensions import db
from ..jobs.models import BudgetType, Currency, Job, JobStatus, WorkMode
from ..jobs.services import (EDITABLE_FIELDS, JobRuleError, check_publishable, deadline_errors, end_at_source,
                             is_editable, update_job)
from .entries import Entry, shorten, text_html
from .models import FeedSource
from .settings import setting

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..accounts.models import User
    from ..skills.models import Skill

# Questions close this long before bids when the entry does not say.
QUESTIONS_BEFORE_BIDS = timedelta(days=1)


def job_values(source: FeedSource, entry: Entry, now: datetime, open_days: int,
               first_seen: datetime | None = None) -> tuple[dict[str, Any], datetime]:
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


def entry_key(source: FeedSource, skills: Iterable[Skill]) -> bytes:
    """``raw_digest``'s key: all that decides an entry's job besides the entry itself (the
    source's settings, the skills taxonomy, the site's time zone for bare dates)."""
    taxonomy = sorted((s.slug, s.name, tuple(s.synonym_list)) for s in skills)
    decides = [ENTRY_RULES, source.kind, source.url, source.coop_id, source.visibility, source.job_kind,
               sorted(s.slug for s in source.default_skills), setting("FEED_DEFAULT_OPEN_DAYS"),
               setting("FEED_MAX_ENTRIES"), str(site_zone()), taxonomy]
    return hashlib.sha256(repr(decides).encode()).digest()


def content_hash(values: dict[str, Any], skills: Iterable[Skill], entry: Entry) -> str:
    """What the job would look like: unchanged hash, nothing to update."""
    data: dict[str, Any] = {k: str(v) for k, v in values.items()}
    data.update(skills=sorted(s.id for s in skills), link=entry.link, html=entry.html,
                cancelled=entry.cancelled)
    # Only when there is one: the hashes of entries imported before without stay valid.
    extra = {"notice": entry.notice if entry.notice != "tender" else None, "buyer": entry.buyer or None,
             "value": entry.value}
    data.update((k, v) for k, v in extra.items() if v is not None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _description_html(entry: Entry) -> str:
    return entry.html or text_html(entry.text)


def _assign(job: Job, values: dict[str, Any], skills: Iterable[Skill], entry: Entry) -> list[str]:
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


def new_imported_job(source: FeedSource, entry: Entry, values: dict[str, Any], skills: Iterable[Skill],
                     published: datetime, now: datetime, job_id: int | None = None) -> Job:
    """The job of a new entry, published (or stored closed, when its bids deadline has already
    passed at the source: publishing refuses a past deadline); its audit events are written by
    ``imported_job_events`` once it has an id (``job_id``: one reserved for it). Raises
    JobRuleError, having added nothing, when the job rules refuse it."""
    # Every column with a database default set here, and the id reserved: the ORM then inserts
    # the new jobs as one executemany, with nothing to read back (see ``reserve_ids``).
    job = Job(id=job_id, coop=source.coop, posted_by=None, status=JobStatus.DRAFT.value, outcome_public=False)
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


def imported_job_events(source: FeedSource, job: Job, actor: User | None, now: datetime) -> list[dict[str, Any]]:
    """The audit events of a new imported job (as ``publish_job`` writes them), for
    ``record_many``: its creation, then its publication, or that it came in closed."""
    events = [event_values("job.created", job, actor=actor, coop=source.coop, title=job.title,
                           source_id=source.id, imported=True)]
    if job.bids_deadline <= now:
        events.append(event_values("job.imported_closed", job, actor=actor, coop=source.coop, public=True,
                                   source_id=source.id))
    else:
        events.append(event_values("job.published", job, actor=actor, coop=job.coop, public=True))
    return events


ENDED_AT_SOURCE = {
    "cancelled": "Cancelled at the source.",
    "award": "The buyer awarded the contract: see the award notice at the source.",
}


def update_imported_job(source: FeedSource, job: Job, entry: Entry, values: dict[str, Any],
                        skills: Iterable[Skill], actor: User | None) -> str:
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
        update_job(job, actor, values, list(skills))
        job.description_html = _description_html(entry)
        return "updated"
    # Closed here, or its deadlines moved into the past at the source: the source is the
    # authority on its own entries, so the job follows it (a later deadline reopens it).
    changed = _assign(job, values, skills, entry)
    if changed:
        record("job.updated", job, actor=actor, coop=job.coop, fields=changed, source_id=source.id,
               imported=True)
    return "updated"


