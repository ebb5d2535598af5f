"""Business rules for jobs, as plain functions: posting, editing, publishing, withdrawing,
cancelling, listing, and the job's history."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from flask import url_for
from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from ..audit.services import history, record
from ..bids.services import engaged_coop_ids, received_count
from ..core.markdown import render_markdown
from ..core.models import contains
from ..core.pagination import paginate
from ..core.rules import RuleError
from ..core.time import utcnow
from ..extensions import db
from ..federation import visible_jobs
from ..federation.policy import posting_visibilities
from ..notifications.models import NotificationKind
from ..notifications.services import notify
from ..skills.models import Skill
from .models import Job, JobCriterion, JobRequirement, JobState, JobStatus, RequirementKind, WorkMode, job_skill

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Select

    from ..accounts.models import User
    from ..audit.models import AuditEvent
    from ..coops.models import Coop
    from ..core.pagination import Page
    from ..federation import Viewer

MAX_SKILLS = 12
MAX_REQUIREMENTS = 10
MAX_REQUIREMENT_LENGTH = 300
MAX_CRITERIA = 10
MAX_CRITERION_LENGTH = 120
MAX_BUDGET = 100_000_000
# The longest text of each field: {field: characters}.
MAX_LENGTHS = {"title": 200, "summary": 500, "description": 20000, "location": 120}
REQUIRED_TEXT = ("title", "summary")

EDITABLE_FIELDS = (
    "title", "summary", "description", "kind", "budget_type", "budget_min", "budget_max",
    "currency", "location", "work_mode", "questions_deadline", "bids_deadline", "start_date",
    "visibility", "looking_for_partners",
)


class JobRuleError(RuleError):
    """A change that the rules refuse; ``field`` names the form field at fault, if any."""


def deadline_errors(questions_deadline: datetime | None, bids_deadline: datetime | None, start_date: date | None,
                    previous: Job | None = None, now: datetime | None = None) -> dict[str, str]:
    """Problems with a job's dates, as {field: message}. A deadline must be in the future
    unless it is unchanged from ``previous`` (so an open job can still be edited after its
    questions deadline has passed)."""
    now = now or utcnow()
    errors: dict[str, str] = {}

    def changed(name: str, value: datetime) -> bool:
        # Deadlines are typed to the minute; a stored one with seconds is still "unchanged".
        return previous is None or getattr(previous, name).replace(second=0) != value.replace(second=0)

    if questions_deadline and changed("questions_deadline", questions_deadline) and questions_deadline <= now:
        errors["questions_deadline"] = "The questions deadline must be in the future."
    if bids_deadline and changed("bids_deadline", bids_deadline) and bids_deadline <= now:
        errors["bids_deadline"] = "The bids deadline must be in the future."
    if questions_deadline and bids_deadline and bids_deadline <= questions_deadline:
        errors["bids_deadline"] = "The bids deadline must be after the questions deadline."
    if start_date and bids_deadline and start_date < bids_deadline.date():
        errors["start_date"] = "The work cannot start before bids close."
    return errors


def can_manage(user: Any, job: Job) -> bool:
    """Members of the posting co-op manage its jobs."""
    return user is not None and user.is_authenticated and user.is_member_of(job.coop)


def viewer_manages(viewer: Viewer, job: Job) -> bool:
    """``can_manage`` for the viewer a page is built for: its co-ops are part of its audience."""
    return job.coop_id in viewer.coop_ids


def is_editable(job: Job) -> bool:
    return job.state in (JobState.DRAFT, JobState.OPEN)


def _visibility_error(coop: Coop, visibility: str | None) -> str | None:
    if visibility not in posting_visibilities(coop):
        return f"{coop.name} cannot post jobs with this visibility: it is not an active member of that audience."
    return None


def _check_visibility(coop: Coop, visibility: str | None) -> None:
    error = _visibility_error(coop, visibility)
    if error:
        raise JobRuleError(error, field="visibility")


def _text_errors(values: Mapping[str, Any]) -> dict[str, str]:
    errors = {name: "This field is required." for name in REQUIRED_TEXT if not values.get(name)}
    for name, limit in MAX_LENGTHS.items():
        if len(values.get(name) or "") > limit:
            errors[name] = f"Field cannot be longer than {limit} characters."
    if values.get("work_mode") in (WorkMode.ON_SITE, WorkMode.HYBRID) and not values.get("location"):
        errors["location"] = "Say where the work is when it is on site or hybrid."
    return errors


def _budget_errors(low: int | None, high: int | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if low is None:
        errors["budget_min"] = "Give a budget, or 0 if it is not known."
    for name, amount in (("budget_min", low), ("budget_max", high)):
        if amount is not None and not 0 <= amount <= MAX_BUDGET:
            errors[name] = f"Must be between 0 and {MAX_BUDGET:,}."
    if not errors and low is not None and high is not None and high < low:
        errors["budget_max"] = "The upper end must not be below the lower end."
    return errors


def _skills_error(skills: Sequence[Skill]) -> str | None:
    if not skills:
        return "Choose at least one skill."
    return f"Choose at most {MAX_SKILLS} skills." if len(skills) > MAX_SKILLS else None


def job_errors(coop: Coop | None, values: Mapping[str, Any], skills: Sequence[Skill],
               previous: Job | None = None) -> dict[str, str]:
    """What is wrong with a job's fields before it is posted by ``coop`` (or ``previous`` is
    edited), as {field: message}. ``values`` are the fields ``post_job`` takes, text already
    stripped; ``skills`` the chosen skills. The job form and the API both ask this (the form
    without a co-op when none of the caller's was chosen: it says so itself)."""
    errors = deadline_errors(values.get("questions_deadline"), values.get("bids_deadline"),
                             values.get("start_date"), previous)
    errors.update({name: "Give a date and time." for name in ("questions_deadline", "bids_deadline")
                   if values.get(name) is None})
    errors.update(_text_errors(values))
    errors.update(_budget_errors(values.get("budget_min"), values.get("budget_max")))
    found = {"skills": _skills_error(skills), "requirements": requirement_errors(values.get("requirements") or []),
             "nice_to_have": requirement_errors(values.get("nice_to_have") or [], "nice-to-have"),
             "criteria": criteria_errors(values.get("criteria") or []),
             "visibility": coop and _visibility_error(coop, values.get("visibility"))}
    errors.update({name: message for name, message in found.items() if message})
    return errors


def _check_deadlines(values: Mapping[str, Any], previous: Job | None = None) -> None:
    errors = deadline_errors(
        values["questions_deadline"], values["bids_deadline"], values.get("start_date"), previous
    )
    if errors:
        field, message = next(iter(errors.items()))
        raise JobRuleError(message, field=field)


def _apply(job: Job, values: Mapping[str, Any], skills: Sequence[Skill] | None) -> None:
    for name in EDITABLE_FIELDS:
        if name in values:
            setattr(job, name, values[name])
    job.description_html = render_markdown(job.description)
    if skills is not None:
        if len(skills) > MAX_SKILLS:
            raise JobRuleError(f"Choose at most {MAX_SKILLS} skills.", field="skills")
        job.skills = list(skills)
    if values.get("requirements") is not None or values.get("nice_to_have") is not None:
        _apply_requirements(job, values.get("requirements"), values.get("nice_to_have"))
    if values.get("criteria") is not None:
        _apply_criteria(job, values["criteria"])


def requirement_errors(texts: Sequence[str], kind: str = "essential") -> str | None:
    if len(texts) > MAX_REQUIREMENTS:
        return f"List at most {MAX_REQUIREMENTS} {kind} requirements."
    if any(len(t) > MAX_REQUIREMENT_LENGTH for t in texts):
        return f"Each requirement must be at most {MAX_REQUIREMENT_LENGTH} characters."
    return None


def _requirement_rows(job: Job, kind: str) -> list[str]:
    return [r.text for r in job.requirements if r.kind == kind]


def _apply_requirements(job: Job, essential: Iterable[str] | None, nice_to_have: Iterable[str] | None) -> None:
    """Make the job's requirements the ``essential`` texts then the ``nice_to_have`` ones, in
    order (None keeps that kind as it is). A requirement whose text and kind are kept keeps
    its id, so draft bids keep their answers to it."""
    wanted: list[tuple[str, str]] = []
    for kind, texts, name in ((RequirementKind.ESSENTIAL, essential, "requirements"),
                              (RequirementKind.NICE_TO_HAVE, nice_to_have, "nice_to_have")):
        chosen = _requirement_rows(job, kind) if texts is None else [t.strip() for t in texts if t and t.strip()]
        error = requirement_errors(chosen, kind.label.lower())
        if error:
            raise JobRuleError(error, field=name)
        wanted += [(kind.value, text) for text in chosen]
    if [(r.kind, r.text) for r in job.requirements] == wanted:
        return
    if job.id is not None and received_count(job):
        raise JobRuleError("Bids have been submitted against the requirements: "
                           "they can no longer change.", field="requirements")
    spare: dict[tuple[str, str], list[JobRequirement]] = {}
    for requirement in job.requirements:
        spare.setdefault((requirement.kind, requirement.text), []).append(requirement)
    kept = []
    for position, (kind_value, text) in enumerate(wanted):
        found = spare.get((kind_value, text))
        requirement = found.pop(0) if found else JobRequirement(text=text, kind=kind_value)
        requirement.position = position
        kept.append(requirement)
    job.requirements = kept


def criteria_errors(criteria: Sequence[Mapping[str, Any]]) -> str | None:
    """What is wrong with a job's evaluation criteria ([{"name", "weight"}]), or None. A job
    may have none (no scoring by criteria); if it has any, their weights add up to 100 %."""
    if not criteria:
        return None
    if len(criteria) > MAX_CRITERIA:
        return f"List at most {MAX_CRITERIA} evaluation criteria."
    names = [(c.get("name") or "").strip() for c in criteria]
    if not all(names):
        return "Give each criterion a name."
    if any(len(name) > MAX_CRITERION_LENGTH for name in names):
        return f"Each criterion's name must be at most {MAX_CRITERION_LENGTH} characters."
    if len({name.casefold() for name in names}) != len(names):
        return "Give each criterion a different name."
    weights: list[Any] = [c.get("weight") for c in criteria]  # as typed: checked below
    if not all(isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= 100 for w in weights):
        return "Each criterion's weight must be a whole number from 1 to 100 (per cent)."
    total = sum(weights)
    if total != 100:
        return f"The criteria's weights must add up to 100 %: they add up to {total} %."
    return None


def criteria_values(job: Job) -> list[dict[str, Any]]:
    """The job's criteria as ``values["criteria"]`` holds them."""
    return [{"name": c.name, "weight": c.weight} for c in job.criteria]


def _apply_criteria(job: Job, criteria: Iterable[Mapping[str, Any]]) -> None:
    """Make the job's criteria ``criteria``, in order. They can change only while no bid has
    been submitted: bids are scored against them, and a bidder may have written to them."""
    wanted: list[dict[str, Any]] = [{"name": (c.get("name") or "").strip(), "weight": c.get("weight")}
                                    for c in criteria]
    if criteria_values(job) == wanted:
        return
    error = criteria_errors(wanted)
    if error:
        raise JobRuleError(error, field="criteria")
    if job.id is not None and received_count(job):
        raise JobRuleError("Bids have been submitted: the evaluation criteria can no longer change.",
                           field="criteria")
    spare = {c.name: c for c in job.criteria}
    kept = []
    for position, wanted_one in enumerate(wanted):
        criterion = spare.pop(wanted_one["name"], None) or JobCriterion(name=wanted_one["name"])
        criterion.weight = wanted_one["weight"]
        criterion.position = position
        kept.append(criterion)
    job.criteria = kept


def post_job(coop: Coop, user: User, values: Mapping[str, Any], skills: Sequence[Skill] | None,
             publish: bool = False) -> Job:
    """Create a job as a draft, or published at once. Writes its audit events."""
    if not user.is_member_of(coop):
        raise JobRuleError("You can only post jobs for a co-op you belong to.", field="coop")
    _check_visibility(coop, values["visibility"])
    _check_deadlines(values)
    job = Job(coop=coop, posted_by=user, status=JobStatus.DRAFT.value)
    _apply(job, values, skills)
    db.session.add(job)
    record("job.created", job, actor=user, coop=coop, title=job.title)
    if publish:
        publish_job(job, user)
    return job


def update_job(job: Job, user: User | None, values: Mapping[str, Any], skills: Sequence[Skill] | None) -> list[str]:
    """Edit a draft or open job; records which fields changed."""
    if not is_editable(job):
        raise JobRuleError("This job is closed or withdrawn and can no longer be edited.")
    _check_visibility(job.coop, values.get("visibility", job.visibility))
    _check_deadlines({**{n: getattr(job, n) for n in EDITABLE_FIELDS}, **values}, previous=job)
    before = {n: getattr(job, n) for n in EDITABLE_FIELDS}
    before_skills = {s.id for s in job.skills}
    before_requirements = [(r.kind, r.text) for r in job.requirements]
    before_criteria = criteria_values(job)
    _apply(job, values, skills)
    changed = sorted(n for n in EDITABLE_FIELDS if getattr(job, n) != before[n])
    if skills is not None and {s.id for s in job.skills} != before_skills:
        changed.append("skills")
    if [(r.kind, r.text) for r in job.requirements] != before_requirements:
        changed.append("requirements")
    if criteria_values(job) != before_criteria:
        changed.append("criteria")
    if changed:
        extra: dict[str, Any] = {}
        if "visibility" in changed:
            extra = {"visibility_from": before["visibility"], "visibility_to": job.visibility}
        record("job.updated", job, actor=user, coop=job.coop, fields=changed, **extra)
        if job.status == JobStatus.PUBLISHED:
            _tell_followers(job, user, NotificationKind.JOB_CHANGED,
                            f"“{job.title}” changed: {', '.join(c.replace('_', ' ') for c in changed)}.")
    return changed


def _tell_followers(job: Job, user: User | None, kind: NotificationKind, message: str) -> None:
    """Notify the co-ops that follow the job (a live bid, an interest that has not lapsed).
    The notification module drops whoever may no longer see the job."""
    coops = engaged_coop_ids(job) - {job.coop_id}
    notify(kind, job, message, url_for("jobs.show", job_id=job.id), coops=coops, actor=user)


def check_publishable(job: Job) -> None:
    """Raise JobRuleError if ``job`` may not be published now (writes nothing)."""
    if job.status != JobStatus.DRAFT:
        raise JobRuleError("Only a draft can be published.")
    _check_visibility(job.coop, job.visibility)
    if job.bids_deadline <= utcnow():
        raise JobRuleError("The bids deadline has passed: move it to the future before publishing.",
                           field="bids_deadline")


def publish_job(job: Job, user: User) -> None:
    check_publishable(job)
    job.status = JobStatus.PUBLISHED.value
    job.published_at = utcnow()
    record("job.published", job, actor=user, coop=job.coop, public=True)


def check_withdraw(job: Job) -> None:
    """Raise JobRuleError if ``job`` may not be withdrawn now (writes nothing)."""
    if job.status != JobStatus.PUBLISHED:
        raise JobRuleError("Only a published job can be withdrawn.")
    if job.state != JobState.OPEN:
        raise JobRuleError("Bids have closed: award a bid, or cancel the job with a reason.")


def withdraw_job(job: Job, user: User | None, reason: str | None = "") -> None:
    """Pull a job while bids are open."""
    check_withdraw(job)
    job.status = JobStatus.WITHDRAWN.value
    job.withdrawn_at = utcnow()
    job.withdrawn_reason = (reason or "").strip()
    record("job.withdrawn", job, actor=user, coop=job.coop, public=True, reason=job.withdrawn_reason)
    told = f" Reason: {job.withdrawn_reason}" if job.withdrawn_reason else ""
    _tell_followers(job, user, NotificationKind.JOB_WITHDRAWN, f"“{job.title}” was withdrawn.{told}")


def cancel_job(job: Job, user: User, reason: str | None) -> None:
    """After bids close, end the job without an award; the reason is published."""
    check_cancel(job, user, reason)
    _cancel(job, user, reason)


def check_cancel(job: Job, user: User, reason: str | None) -> None:
    """Raise JobRuleError if ``user`` may not cancel ``job`` now with ``reason`` (writes nothing)."""
    if not can_manage(user, job):
        raise JobRuleError("Only the co-op that posted the job can cancel it.")
    _check_cancel(job, reason)


def followers(job: Job) -> Sequence[Coop]:
    """The co-ops told when the job is withdrawn or cancelled (``_tell_followers``)."""
    from ..coops.models import Coop

    ids = engaged_coop_ids(job) - {job.coop_id}
    return db.session.scalars(select(Coop).where(Coop.id.in_(sorted(ids))).order_by(Coop.name)).all() if ids else []


def end_at_source(job: Job, actor: User | None, reason: str) -> str | None:
    """An imported job whose source ended it (cancelled, or awarded there): withdrawn while
    bids are open here, cancelled with the reason once they have closed. The source speaks
    for the buyer, so no member of ours needs to. Returns "withdrawn", "cancelled" or None
    when the job had already ended."""
    if job.status != JobStatus.PUBLISHED:
        return None
    if job.state == JobState.OPEN:
        withdraw_job(job, actor, reason)
        return "withdrawn"
    _cancel(job, actor, reason)
    return "cancelled"


def _check_cancel(job: Job, reason: str | None) -> None:
    if job.state == JobState.OPEN:
        raise JobRuleError("Bids are still open: withdraw the job instead.")
    if job.state != JobState.CLOSED:
        raise JobRuleError(f"This job is {job.state.value}: it cannot be cancelled.")
    if not (reason or "").strip():
        raise JobRuleError("Give the reason for cancelling: the bidders and the job page will show it.",
                           field="reason")


def _cancel(job: Job, user: User | None, reason: str | None) -> None:
    _check_cancel(job, reason)
    assert reason is not None  # _check_cancel refused an empty one
    reason = reason.strip()
    job.status = JobStatus.CANCELLED.value
    job.cancelled_at = utcnow()
    job.cancelled_reason = reason
    record("job.cancelled", job, actor=user, coop=job.coop, public=True, reason=reason)
    _tell_followers(job, user, NotificationKind.JOB_WITHDRAWN,
                    f"“{job.title}” was cancelled without an award. Reason: {reason}")


def delete_draft(job: Job, user: User) -> None:
    if job.status != JobStatus.DRAFT:
        raise JobRuleError("Only a draft can be deleted; withdraw a published job instead.")
    record("job.deleted", job, actor=user, coop=job.coop, title=job.title)
    db.session.delete(job)


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


def jobs_query(viewer: Viewer, filters: JobFilters | None = None) -> Select[tuple[Job]]:
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


def list_jobs(viewer: Viewer, filters: JobFilters | None = None, page: int = 1, per_page: int = 20) -> Page:
    """One page of visible jobs, with their co-op and skills loaded in constant statements."""
    stmt = jobs_query(viewer, filters).options(joinedload(Job.coop), selectinload(Job.skills))
    return paginate(stmt, page, per_page)


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
