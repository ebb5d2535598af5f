"""Business rules for jobs, as plain functions: posting, editing, publishing, withdrawing,
cancelling, listing, and the job's history.

Here: posting, editing, publishing, withdrawing, cancelling and deleting. The checks of a job's
fields are in ``rules``, writing its requirements and criteria in ``requirements``, lists,
counts and the history in ``reading``; all are named here too."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from flask import url_for
from sqlalchemy import select

from ..audit.services import record
from ..bids.services import engaged_coop_ids
from ..core.markdown import render_markdown
from ..core.time import utcnow
from ..extensions import db
from ..notifications.models import NotificationKind
from ..notifications.services import notify
from ..skills.models import Skill
from .models import Job, JobState, JobStatus


# The parts of jobs, named here too (other features and the views use ``services``).
from .reading import (HISTORY_LABELS, SORTS, DerivedEvent, JobFilters, count_jobs, job_history,  # noqa: F401
                      jobs_query, list_jobs, load_job, next_deadline, next_state_change)
from .requirements import apply_criteria, apply_requirements, criteria_values  # noqa: F401
from .rules import (EDITABLE_FIELDS, MAX_BUDGET, MAX_CRITERIA, MAX_CRITERION_LENGTH, MAX_LENGTHS,  # noqa: F401
                    MAX_REQUIREMENT_LENGTH, MAX_REQUIREMENTS, MAX_SKILLS, REQUIRED_TEXT, JobRuleError, can_manage,
                    check_deadlines, check_visibility, criteria_errors, deadline_errors, is_editable, job_errors,
                    requirement_errors, viewer_manages)

if TYPE_CHECKING:
    from ..accounts.models import User
    from ..coops.models import Coop


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
        apply_requirements(job, values.get("requirements"), values.get("nice_to_have"))
    if values.get("criteria") is not None:
        apply_criteria(job, values["criteria"])


def post_job(coop: Coop, user: User, values: Mapping[str, Any], skills: Sequence[Skill] | None,
             publish: bool = False) -> Job:
    """Create a job as a draft, or published at once. Writes its audit events."""
    if not user.is_member_of(coop):
        raise JobRuleError("You can only post jobs for a co-op you belong to.", field="coop")
    check_visibility(coop, values["visibility"])
    check_deadlines(values)
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
    check_visibility(job.coop, values.get("visibility", job.visibility))
    check_deadlines({**{n: getattr(job, n) for n in EDITABLE_FIELDS}, **values}, previous=job)
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
    check_visibility(job.coop, job.visibility)
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
