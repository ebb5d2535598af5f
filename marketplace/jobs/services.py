"""Business rules for jobs, as plain functions: posting, editing, publishing, withdrawing, listing."""
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..audit.services import record
from ..core.markdown import render_markdown
from ..core.pagination import paginate
from ..core.time import utcnow
from ..extensions import db
from ..federation import visible_jobs
from ..federation.policy import posting_visibilities
from ..skills.models import Skill
from .models import Job, JobState, JobStatus, job_skill

MAX_SKILLS = 12

EDITABLE_FIELDS = (
    "title", "summary", "description", "kind", "budget_type", "budget_min", "budget_max",
    "currency", "location", "work_mode", "questions_deadline", "bids_deadline", "start_date",
    "visibility", "looking_for_partners",
)


class JobRuleError(Exception):
    """A change that the rules refuse; ``field`` names the form field at fault, if any."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


def deadline_errors(questions_deadline, bids_deadline, start_date, previous=None, now=None):
    """Problems with a job's dates, as {field: message}. A deadline must be in the future
    unless it is unchanged from ``previous`` (so an open job can still be edited after its
    questions deadline has passed)."""
    now = now or utcnow()
    errors = {}

    def changed(name, value):
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


def can_manage(user, job):
    """Members of the posting co-op manage its jobs."""
    return user is not None and user.is_authenticated and user.is_member_of(job.coop)


def is_editable(job):
    return job.state in (JobState.DRAFT, JobState.OPEN)


def _check_visibility(coop, visibility):
    if visibility not in posting_visibilities(coop):
        raise JobRuleError(
            f"{coop.name} cannot post jobs with this visibility: it is not an active member of that audience.",
            field="visibility",
        )


def _check_deadlines(values, previous=None):
    errors = deadline_errors(
        values["questions_deadline"], values["bids_deadline"], values.get("start_date"), previous
    )
    if errors:
        field, message = next(iter(errors.items()))
        raise JobRuleError(message, field=field)


def _apply(job, values, skills):
    for name in EDITABLE_FIELDS:
        if name in values:
            setattr(job, name, values[name])
    job.description_html = render_markdown(job.description)
    if skills is not None:
        if len(skills) > MAX_SKILLS:
            raise JobRuleError(f"Choose at most {MAX_SKILLS} skills.", field="skills")
        job.skills = list(skills)


def post_job(coop, user, values, skills, publish=False):
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


def update_job(job, user, values, skills):
    """Edit a draft or open job; records which fields changed."""
    if not is_editable(job):
        raise JobRuleError("This job is closed or withdrawn and can no longer be edited.")
    _check_visibility(job.coop, values.get("visibility", job.visibility))
    _check_deadlines({**{n: getattr(job, n) for n in EDITABLE_FIELDS}, **values}, previous=job)
    before = {n: getattr(job, n) for n in EDITABLE_FIELDS}
    before_skills = {s.id for s in job.skills}
    _apply(job, values, skills)
    changed = sorted(n for n in EDITABLE_FIELDS if getattr(job, n) != before[n])
    if skills is not None and {s.id for s in job.skills} != before_skills:
        changed.append("skills")
    if changed:
        extra = {}
        if "visibility" in changed:
            extra = {"visibility_from": before["visibility"], "visibility_to": job.visibility}
        record("job.updated", job, actor=user, coop=job.coop, fields=changed, **extra)
    return changed


def publish_job(job, user):
    if job.status != JobStatus.DRAFT:
        raise JobRuleError("Only a draft can be published.")
    _check_visibility(job.coop, job.visibility)
    if job.bids_deadline <= utcnow():
        raise JobRuleError("The bids deadline has passed: move it to the future before publishing.",
                           field="bids_deadline")
    job.status = JobStatus.PUBLISHED.value
    job.published_at = utcnow()
    record("job.published", job, actor=user, coop=job.coop, public=True)


def withdraw_job(job, user, reason=""):
    if job.status != JobStatus.PUBLISHED:
        raise JobRuleError("Only a published job can be withdrawn.")
    job.status = JobStatus.WITHDRAWN.value
    job.withdrawn_at = utcnow()
    job.withdrawn_reason = (reason or "").strip()
    record("job.withdrawn", job, actor=user, coop=job.coop, public=True, reason=job.withdrawn_reason)


def delete_draft(job, user):
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
    coop: object | None = None
    looking_for_partners: bool = False


def jobs_query(viewer, filters=None):
    """SELECT of the jobs ``viewer`` may see that match ``filters``, newest first."""
    filters = filters or JobFilters()
    stmt = visible_jobs(select(Job), viewer)
    if filters.skill is not None:
        stmt = stmt.where(
            Job.id.in_(select(job_skill.c.job_id).where(job_skill.c.skill_id == filters.skill.id))
        )
    if filters.kind:
        stmt = stmt.where(Job.kind == filters.kind)
    if filters.state and filters.state != "any":
        stmt = stmt.where(Job.state == filters.state)
    if filters.visibility:
        stmt = stmt.where(Job.visibility == filters.visibility)
    if filters.coop is not None:
        stmt = stmt.where(Job.coop_id == filters.coop.id)
    if filters.looking_for_partners:
        stmt = stmt.where(Job.looking_for_partners.is_(True))
    if filters.state in (JobState.DRAFT.value, "any"):
        return stmt.order_by(Job.published_at.desc().nulls_first(), Job.id.desc())
    return stmt.order_by(Job.published_at.desc(), Job.id.desc())


def list_jobs(viewer, filters=None, page=1, per_page=20):
    """One page of visible jobs, with their co-op and skills loaded in constant statements."""
    stmt = jobs_query(viewer, filters).options(joinedload(Job.coop), selectinload(Job.skills))
    return paginate(stmt, page, per_page)


def count_jobs(viewer, filters=None):
    from ..core.pagination import count_capped

    return count_capped(jobs_query(viewer, filters))


def load_job(job_id):
    return db.session.get(Job, job_id, options=[joinedload(Job.coop), selectinload(Job.skills)])
