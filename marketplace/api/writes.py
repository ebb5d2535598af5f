"""Write and personal endpoints: a co-op's jobs, and the caller's notifications. Every one acts
for a bearer token (``token_user``). Questions, bids and interests are in bidding.py.

The views are thin: the bodies are read with the models of api/schemas.py, and the rules of
``jobs`` (``job_errors``, the same as the site's job form asks) decide; a job the caller may
not see is 404 as on the site. A refused change is rolled back: nothing is half-saved.
"""
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, abort, current_app, url_for

from ..accounts.models import User
from ..coops.models import Coop
from ..extensions import db
from ..federation import can_view_job, get_job_or_404, viewer_for
from ..federation import posting_visibilities
from ..jobs import services as job_services
from ..jobs.models import Job
from ..notifications import services as notification_services
from ..notifications.models import Notification
from ..skills.models import Skill
from ..skills.services import all_skills
from . import schemas
from .base import ApiError, bp, invalid, optional_body, parsed, token_user
from .common import ACT_ERRORS, chosen_coop, get_or_404, page_args, page_response, rule_error
from .idempotency import commit_with_answer
from .serializers import job_json, notification_json, plain
from .spec import operation


def __getattr__(name: str) -> Any:
    """``PATHS``: this module's operations as the OpenAPI document describes them."""
    if name == "PATHS":
        from .openapi import described_paths

        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        return described_paths(app, __name__)
    raise AttributeError(name)


# --- jobs ------------------------------------------------------------------------------------

def _job_values(body: schemas.JobUpdate, job: Job | None) -> dict[str, Any]:
    """The fields ``post_job`` and ``update_job`` take: the body's over the job's, if it has one."""
    values: dict[str, Any] = {}
    if job is not None:
        values = {name: getattr(job, name) for name in job_services.EDITABLE_FIELDS}
        values["requirements"] = [r.text for r in job.requirements if r.essential]
        values["nice_to_have"] = [r.text for r in job.requirements if not r.essential]
        values["criteria"] = job_services.criteria_values(job)
    given = body.model_fields_set if job is not None else None
    values.update(body.model_dump(include=given, exclude={"skills", "coop", "publish"}))
    values["description"] = values["description"] or ""
    values["location"] = values["location"] or ""
    for name in ("requirements", "nice_to_have"):
        values[name] = [text for text in values[name] or () if text]
    values["criteria"] = values["criteria"] or []
    return values


def _job_skills(body: schemas.JobUpdate, job: Job | None) -> tuple[list[Skill], list[str]]:
    """The skills the body names (else the job's), and the slugs of none."""
    if job is not None and "skills" not in body.model_fields_set:
        return list(job.skills), []
    known = {s.slug: s for s in all_skills()}
    return [s for s in known.values() if s.slug in body.skills], sorted(set(body.skills) - set(known))


def _checked_job(coop: Coop, body: schemas.JobUpdate,
                 job: Job | None = None) -> tuple[dict[str, Any], list[Skill]]:
    """The job's values and skills, or a 422 naming every field the jobs rules refuse."""
    values = _job_values(body, job)
    skills, unknown = _job_skills(body, job)
    errors = job_services.job_errors(coop, values, skills, previous=job)
    if unknown:
        errors["skills"] = f"Unknown skill: {', '.join(unknown)}."
    if errors:
        raise invalid(errors)
    return values, skills


def _job_answer(job_id: int, status: int = 200, **headers: str) -> Response:
    """Commit, answering with the job as the transaction left it (read before the commit)."""
    db.session.flush()
    job = job_services.load_job(job_id)
    assert job is not None  # the caller has just found or written it
    return commit_with_answer(plain(job_json(job)), status, headers)


def managed_job(job_id: int, user: User) -> Job:
    """A job the caller's co-op posted: 404 if they may not see it, 403 if they only see it."""
    job: Job = get_job_or_404(job_id, viewer_for(user))
    if not job_services.can_manage(user, job):
        raise ApiError(403, "forbidden", "Only the co-op that posted the job manages it.")
    return job


JOB = {200: (schemas.Job, "The job")}


@bp.post("/jobs")
@operation("createJob", "jobs", {201: (schemas.Job, "The job")}, (400, 401, 403, 409, 422),
           body=schemas.JobCreate, created=True)
def jobs_create() -> Response:
    """Post a job for one of the caller's co-ops: a draft, or published at once"""
    user = token_user()
    body = parsed(schemas.JobCreate)
    coops = [c for c in user.coops if posting_visibilities(c)]
    if not coops:
        raise ApiError(403, "forbidden", "To post a job you need to belong to a co-op with an active "
                                         "or guest network membership.")
    coop = chosen_coop(coops, body.coop)
    values, skills = _checked_job(coop, body)
    try:
        job = job_services.post_job(coop, user, values, skills, publish=body.publish)
        db.session.flush()
    except job_services.JobRuleError as error:
        raise rule_error(error)
    return _job_answer(job.id, 201, Location=url_for("api.jobs_show", job_id=job.id))


@bp.patch("/jobs/<int:job_id>")
@operation("updateJob", "jobs", JOB, (400, *ACT_ERRORS), body=schemas.JobUpdate)
def jobs_update(job_id: int) -> Response:
    """Change fields of a draft or open job the caller's co-op posted"""
    user = token_user()
    body = parsed(schemas.JobUpdate)
    job = managed_job(job_id, user)
    if not job_services.is_editable(job):
        raise ApiError(409, "conflict", "This job is closed or withdrawn and can no longer be edited.")
    values, skills = _checked_job(job.coop, body, job)
    try:
        job_services.update_job(job, user, values, skills)
    except job_services.JobRuleError as error:
        raise rule_error(error)
    return _job_answer(job.id)


def _job_action(job_id: int, change: Callable[[Job, User], object]) -> Response:
    user = token_user()
    job = managed_job(job_id, user)
    try:
        change(job, user)
    except job_services.JobRuleError as error:
        raise rule_error(error)
    return _job_answer(job.id)


@bp.post("/jobs/<int:job_id>/publish")
@operation("publishJob", "jobs", JOB, ACT_ERRORS)
def jobs_publish(job_id: int) -> Response:
    """Publish a draft"""
    return _job_action(job_id, job_services.publish_job)


@bp.post("/jobs/<int:job_id>/withdraw")
@operation("withdrawJob", "jobs", JOB, (400, *ACT_ERRORS), body=schemas.JobWithdrawal, body_required=False)
def jobs_withdraw(job_id: int) -> Response:
    """Withdraw a job while bids are open"""
    token_user()
    reason = optional_body(schemas.JobWithdrawal).reason or ""

    def withdraw(job: Job, user: User) -> None:
        if len(reason) > schemas.MAX_REASON:
            raise invalid({"reason": f"Must be at most {schemas.MAX_REASON:,} characters."})
        job_services.withdraw_job(job, user, reason)

    return _job_action(job_id, withdraw)


# --- notifications ---------------------------------------------------------------------------

@bp.get("/notifications")
@operation("listNotifications", "notifications", {200: (schemas.NotificationPage, "One page of notifications")},
           (400, 401), query=schemas.Paging)
def notifications_index() -> Response:
    """The caller's notifications, newest first (none about jobs it may no longer see)"""
    user = token_user()
    page_no, per_page = page_args()
    page = notification_services.notifications_page(user, viewer_for(user), page_no, per_page)
    return page_response(page, [notification_json(n) for n in page.items], schemas.NotificationPage)


@bp.post("/notifications/<int:notification_id>/read")
@operation("readNotification", "notifications", {200: (schemas.Notification, "The notification")},
           (401, 403, 404))
def notifications_read(notification_id: int) -> Response:
    """Mark one of the caller's notifications read"""
    user = token_user()
    notification = get_or_404(Notification, notification_id)
    # Not theirs, or about a job they may no longer see: as if it did not exist (as in the list).
    if notification.user_id != user.id or (
            notification.job_id is not None and not can_view_job(viewer_for(user), notification.job)):
        abort(404)
    notification_services.mark_read(user, notification.id)
    return commit_with_answer(plain(notification_json(notification)))
