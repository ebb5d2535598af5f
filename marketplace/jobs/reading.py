"""Reading jobs: the list's filters and orders, counts, when the clock next changes a page, loading
one job, and a job's history. Apart from ``services``, which changes jobs."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from ..audit.services import history
from ..core.models import contains
from ..core.pagination import paginate
from ..extensions import db
from ..federation import visible_jobs
from ..skills.models import Skill
from .models import Job, JobState, JobStatus, job_skill

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Select

    from ..accounts.models import User
    from ..audit.models import AuditEvent
    from ..coops.models import Coop
    from ..core.pagination import Page
    from ..federation import Viewer


# --- reading ---------------------------------------------------------------------------------

@dataclass
class JobFilters:
    skill: Skill | None = None
    kind: str | None = None
    state: str | None = JobState.OPEN.value  # "any" lists every state
    visibility: str | None = None
    coop: Coop | None = None
    looking_for_partners: bool = False
    any_skill_ids: tuple[int, ...] = ()  # jobs with one of these skills at least (a co-op's skill match)
    location: str | None = None  # a part of the job's location, any case
    budget_from: int | None = None  # the budget reaches at least this (whole units, any currency)
    sort: str = "newest"  # a key of SORTS


def _budget_top() -> ColumnElement[int]:
    return func.coalesce(Job.budget_max, Job.budget_min)


SORTS = {"newest": "Newest first", "closing": "Closing soonest", "budget": "Largest budget first"}


def jobs_query(viewer: Viewer, filters: JobFilters | None = None) -> Select[Job]:
    """SELECT of the jobs ``viewer`` may see that match ``filters``, in ``filters.sort`` order
    (newest first by default)."""
    filters = filters or JobFilters()
    stmt = visible_jobs(select(Job), viewer)
    if filters.skill is not None:
        # EXISTS, not IN: the planner then walks the (few) open jobs and probes job_skill,
        # instead of reading every job that ever had a common skill.
        stmt = stmt.where(
            exists().where(job_skill.c.job_id == Job.id, job_skill.c.skill_id == filters.skill.id)
        )
    if filters.any_skill_ids:
        stmt = stmt.where(
            exists().where(job_skill.c.job_id == Job.id, job_skill.c.skill_id.in_(filters.any_skill_ids))
        )
    if filters.kind:
        stmt = stmt.where(Job.kind == filters.kind)
    if filters.state and filters.state != "any":
        stmt = stmt.where(Job.in_state(filters.state))
    if filters.visibility:
        stmt = stmt.where(Job.visibility == filters.visibility)
    if filters.coop is not None:
        stmt = stmt.where(Job.coop_id == filters.coop.id)
    if filters.looking_for_partners:
        stmt = stmt.where(Job.looking_for_partners.is_(True))
    if filters.location:
        stmt = stmt.where(contains(Job.location, filters.location))
    if filters.budget_from is not None:
        stmt = stmt.where(_budget_top() >= filters.budget_from)
    # Every order ends on the id, so that pages never overlap.
    if filters.sort == "closing":
        return stmt.order_by(Job.bids_deadline.asc(), Job.id.asc())
    if filters.sort == "budget":
        return stmt.order_by(_budget_top().desc(), Job.id.desc())
    if filters.state in (JobState.DRAFT.value, "any"):
        return stmt.order_by(Job.published_at.desc().nulls_first(), Job.id.desc())
    return stmt.order_by(Job.published_at.desc(), Job.id.desc())


def list_jobs(viewer: Viewer, filters: JobFilters | None = None, page: int = 1, per_page: int = 20,
              total: int | None = None) -> Page:
    """One page of visible jobs, with their co-op and skills loaded in constant statements.
    ``total``: how many there are, when the caller knows (else they are counted, up to a cap)."""
    stmt = jobs_query(viewer, filters).options(joinedload(Job.coop), selectinload(Job.skills))
    return paginate(stmt, page, per_page, total=total)


def next_state_change(now: datetime) -> datetime | None:
    """When a published job next goes from open to closed by the clock alone (None: no job
    will): a page showing job states is good until then."""
    return db.session.scalar(
        select(func.min(Job.bids_deadline))
        .where(Job.bids_deadline > now, Job.status == JobStatus.PUBLISHED.value)
    )


def next_deadline(job: Job, now: datetime) -> datetime | None:
    """When ``job``'s page next changes by the clock alone: its questions or bids deadline."""
    if job.status != JobStatus.PUBLISHED:
        return None
    return min((d for d in (job.questions_deadline, job.bids_deadline) if d > now), default=None)


def count_jobs(viewer: Viewer, filters: JobFilters | None = None) -> tuple[int, bool]:
    from ..core.pagination import count_capped

    return count_capped(jobs_query(viewer, filters))


def load_job(job_id: int) -> Job | None:
    return db.session.get(Job, job_id, options=[joinedload(Job.coop), selectinload(Job.skills)])


# --- history ---------------------------------------------------------------------------------

@dataclass
class DerivedEvent:
    """A step that no request performs, shown in the history at the moment it happened."""

    created_at: datetime
    action: str
    public: bool = True
    actor: User | None = None
    data: dict[str, Any] = field(default_factory=dict)


HISTORY_LABELS = {
    "job.updated": "changed", "job.closed": "bids closed", "job.bids_closed": "poster told that bids closed",
    "question.answered": "question answered",
}


def job_history(job: Job, full: bool = False) -> list[AuditEvent | DerivedEvent]:
    """The job's audit events (the public ones unless ``full``), with "bids closed" at the
    deadline itself once it has passed: there is no event then, the state is derived."""
    events: list[AuditEvent | DerivedEvent] = list(history(job, public_only=not full))
    if job.bids_closed:
        events.append(DerivedEvent(created_at=job.bids_deadline, action="job.closed"))
        events.sort(key=lambda e: e.created_at)
    return events
