"""Write and personal endpoints: a co-op's jobs, questions, its own bids and interests, and
the caller's notifications. Every one acts for a bearer token (``token_user``).

The views are thin: the bodies are read with the models of api/schemas.py, and the rules of
``jobs`` (``job_errors``, the same as the site's job form asks), ``bids`` and ``questions``
decide; a job the caller may not see is 404 as on the site. A refused change is rolled back:
nothing is half-saved.
"""
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Flask, Response, abort, current_app, jsonify, request, url_for
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import User
from ..bids import services as bid_services
from ..bids.models import Bid
from ..bids.policy import can_see_asker, can_view_bid
from ..consortia.services import save_consortium_bid
from ..coops.models import Coop
from ..core.pagination import Page
from ..core.rules import RuleError
from ..core.work import flush_retrying
from ..documents import services as document_services
from ..extensions import db
from ..federation import can_view_job, get_job_or_404, viewer_for
from ..federation.policy import posting_visibilities
from ..jobs import services as job_services
from ..jobs.models import Job
from ..notifications import services as notification_services
from ..notifications.models import Notification
from ..questions import services as question_services
from ..skills.models import Skill
from ..skills.services import all_skills
from . import schemas
from .base import ApiError, api_viewer, bp, int_arg, invalid, optional_body, parsed, token_user
from .idempotency import commit_with_answer
from .schemas import MAX_PER_PAGE
from .serializers import (bid_json, interest_json, job_json, notification_json, plain,
                          question_json)
from .spec import operation

ACT_ERRORS = (401, 403, 404, 409, 422)
Found = TypeVar("Found")


def __getattr__(name: str) -> Any:
    """``PATHS``: this module's operations as the OpenAPI document describes them."""
    if name == "PATHS":
        from .openapi import described_paths

        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        return described_paths(app, __name__)
    raise AttributeError(name)


def _rule_error(error: RuleError, names: Callable[[str], str] | None = None) -> ApiError:
    """A refused rule: a field at fault is a 422, the state of things a 409. ``names`` turns
    the site form's field names into the request body's."""
    db.session.rollback()
    if error.field:
        field = (names or (lambda name: name))(error.field)
        return invalid({field: error.message}, error.message)
    return ApiError(409, "conflict", error.message)


def _chosen_coop(coops: list[Coop], slug: str | None) -> Coop:
    """The caller's co-op that acts: the one named by ``coop`` (a slug), which is needed
    only when several of their co-ops could."""
    if slug is not None:
        coop = next((c for c in coops if c.slug == slug), None)
        if coop is None:
            raise invalid({"coop": "Choose one of your co-ops that can act here."})
        return coop
    if len(coops) > 1:
        raise invalid({"coop": "Several of your co-ops can act here: say which."})
    return coops[0]


def _get_or_404(model: type[Found], object_id: int, options: Iterable[Any] = ()) -> Found:
    found = db.session.get(model, object_id, options=list(options))
    if found is None:
        abort(404)
    return found


def _page_args() -> tuple[int, int]:
    return int_arg("page", 1), int_arg("per_page", 20, high=MAX_PER_PAGE)


def _page(page: Page, items: list[Any], answer: Callable[..., schemas.Page]) -> Response:
    return jsonify(plain(answer(items=items, page=page.page, per_page=page.per_page, total=page.total,
                                total_capped=page.capped)))


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
    coop = _chosen_coop(coops, body.coop)
    values, skills = _checked_job(coop, body)
    try:
        job = job_services.post_job(coop, user, values, skills, publish=body.publish)
        db.session.flush()
    except job_services.JobRuleError as error:
        raise _rule_error(error)
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
        raise _rule_error(error)
    return _job_answer(job.id)


def _job_action(job_id: int, change: Callable[[Job, User], object]) -> Response:
    user = token_user()
    job = managed_job(job_id, user)
    try:
        change(job, user)
    except job_services.JobRuleError as error:
        raise _rule_error(error)
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


# --- questions -------------------------------------------------------------------------------

@bp.get("/jobs/<int:job_id>/questions")
@operation("listQuestions", "questions", {200: (schemas.QuestionList, "The questions")}, (401, 404),
           token="optional")
def questions_index(job_id: int) -> Response:
    """The job's questions the caller may read: every answer, and the unanswered ones it may see
    (the poster: all; a co-op: its own)"""
    viewer = api_viewer()
    job = get_job_or_404(job_id, viewer, options=[joinedload(Job.coop), *bid_services.with_counts()])
    panel = question_services.questions_panel(job, viewer)
    shown = [*panel.answered, *panel.pending]
    files = document_services.documents_of("question", [q.id for q in shown])
    answer_files = document_services.documents_of("answer", [q.id for q in panel.answered])

    def described(question: Any) -> schemas.Question:
        return question_json(question, panel.show_asker, files.get(question.id, []),
                             answer_files.get(question.id, []))

    return jsonify(plain(schemas.QuestionList(answered=[described(q) for q in panel.answered],
                                              pending=[described(q) for q in panel.pending])))


def _acting_coops(job: Job, user: User, action: str) -> list[Coop]:
    """The caller's co-ops that may bid on (and ask about, and be interested in) ``job``."""
    coops: list[Coop] = bid_services.bidding_coops(user, job)
    if not coops:
        raise ApiError(403, "forbidden", f"{action} is for members of co-ops that can see the job, "
                                         "other than the poster, with an active or guest membership "
                                         "of a network.")
    return coops


@bp.post("/jobs/<int:job_id>/questions")
@operation("askQuestion", "questions", {201: (schemas.Question, "The question")}, (400, *ACT_ERRORS),
           body=schemas.QuestionCreate, created=True)
def questions_create(job_id: int) -> Response:
    """Ask the poster a clarification question"""
    user = token_user()
    body = parsed(schemas.QuestionCreate)
    job = get_job_or_404(job_id, viewer_for(user), options=[joinedload(Job.coop)])
    coop = _chosen_coop(_acting_coops(job, user, "Asking questions"), body.coop)
    try:
        question = question_services.ask_question(job, coop, user, body.text)
        db.session.flush()
    except question_services.QuestionRuleError as error:
        raise _rule_error(error)
    # As the questions list shows it: the asker is the poster's to know.
    return commit_with_answer(plain(question_json(question, can_see_asker(viewer_for(user), job))), 201,
                              {"Location": url_for("api.questions_index", job_id=job.id)})


# --- bids ------------------------------------------------------------------------------------

def _bid_values(body: schemas.BidChange, bid: Bid | None = None) -> bid_services.BidValues:
    """``BidValues`` from a body, over the fields of ``bid`` when it edits one; the bid rules
    (``save_bid``) check them."""
    values = bid_services.BidValues()
    if bid is not None:
        values = bid_services.BidValues(
            price_type=bid.price_type, amount=bid.amount, days=bid.days,
            available_from=bid.available_from, proposal=bid.proposal,
            answers={a.requirement_id: a.answer for a in bid.answers},
        )
    for name in ("price_type", "amount", "days", "available_from", "proposal"):
        if name in body.model_fields_set:
            setattr(values, name, getattr(body, name))
    for answer in body.answers or ():
        values.answers[answer.requirement_id] = answer.answer
    return values


def own_bid(bid_id: int, user: User) -> Bid:
    """A bid the caller may see (else 404) and edit for its bidding co-op (else 403)."""
    bid = _get_or_404(Bid, bid_id, options=[joinedload(Bid.job).joinedload(Job.requirements),
                                            joinedload(Bid.coop), selectinload(Bid.answers)])
    if not can_view_bid(viewer_for(user), bid):
        abort(404)
    if not user.is_member_of(bid.coop):
        raise ApiError(403, "forbidden", "Only the bidding co-op changes its bid.")
    return bid


def _bid_field(name: str) -> str:
    """The bid form's field names as the request body's."""
    if name in ("price", "day_rate"):
        return "amount"
    return "answers" if name.startswith("answer_") else name


def _saved_bid(change: Callable[[], Found]) -> Found:
    """Run a bids rule, as the site does (retrying a lost race on a unique index); the view
    commits with its answer."""
    try:
        saved: Found = flush_retrying(change)
        return saved
    except bid_services.BidRuleError as error:
        raise _rule_error(error, _bid_field)


@bp.get("/bids")
@operation("listBids", "bids", {200: (schemas.BidPage, "One page of bids")}, (400, 401), query=schemas.Paging)
def bids_index() -> Response:
    """The bids of the caller's co-ops on jobs it may see, latest change first"""
    user = token_user()
    page_no, per_page = _page_args()
    page = bid_services.coop_bids_page(viewer_for(user), page_no, per_page)
    return _page(page, [bid_json(bid) for bid in page.items], schemas.BidPage)


BID = {200: (schemas.Bid, "The bid")}


@bp.get("/bids/<int:bid_id>")
@operation("getBid", "bids", BID, (401, 404))
def bids_show(bid_id: int) -> Response:
    """A bid the caller may see"""
    user = token_user()
    bid = _get_or_404(Bid, bid_id, options=[joinedload(Bid.job), joinedload(Bid.coop)])
    if not can_view_bid(viewer_for(user), bid):
        abort(404)
    return jsonify(plain(bid_json(bid)))


@bp.post("/jobs/<int:job_id>/bids")
@operation("saveBid", "bids", {200: (schemas.Bid, "The co-op's live bid, edited"), 201: (schemas.Bid, "A new bid")},
           (400, *ACT_ERRORS), body=schemas.BidCreate, created=True)
def bids_create(job_id: int) -> Response:
    """Draft (or submit) the co-op's bid on a job; if it has a live bid, that is edited"""
    user = token_user()
    body = parsed(schemas.BidCreate)
    job = get_job_or_404(job_id, viewer_for(user), options=[joinedload(Job.coop), joinedload(Job.requirements)])
    coop = _chosen_coop(_acting_coops(job, user, "Bidding"), body.coop)
    values = _bid_values(body)
    bid: Bid = _saved_bid(lambda: bid_services.save_bid(job, coop, user, values, submit=body.submit))
    location = url_for("api.bids_show", bid_id=bid.id)
    # 201 only if this request made the bid: of two first bids racing, the other edited it.
    return commit_with_answer(plain(bid_json(bid)), 201 if bid.created_now else 200, {"Location": location})


@bp.patch("/bids/<int:bid_id>")
@operation("updateBid", "bids", BID, (400, *ACT_ERRORS), body=schemas.BidChange)
def bids_update(bid_id: int) -> Response:
    """Edit, or submit, the co-op's bid"""
    user = token_user()
    body = parsed(schemas.BidChange)
    bid = own_bid(bid_id, user)
    values = _bid_values(body, bid)
    submit = body.submit

    def change() -> Bid:
        # A consortium's bid is saved under the consortium's rules too.
        if bid.consortium is not None:
            return save_consortium_bid(bid.consortium, bid.job, user, values, submit, bid.id)
        return bid_services.save_bid(bid.job, bid.coop, user, values, submit, bid.id)

    return commit_with_answer(plain(bid_json(_saved_bid(change))))


@bp.post("/bids/<int:bid_id>/withdraw")
@operation("withdrawBid", "bids", BID, ACT_ERRORS)
def bids_withdraw(bid_id: int) -> Response:
    """Withdraw the co-op's bid while bids are open"""
    user = token_user()
    bid = own_bid(bid_id, user)
    _saved_bid(lambda: bid_services.withdraw_bid(bid, user))
    return commit_with_answer(plain(bid_json(bid)))


# --- interests -------------------------------------------------------------------------------

@bp.put("/jobs/<int:job_id>/interest")
@operation("registerInterest", "bids", {200: (schemas.Interest, "The interest")}, (400, *ACT_ERRORS),
           body=schemas.InterestCreate)
def interest_register(job_id: int) -> Response:
    """Say the co-op will bid by a date (again: move the date)"""
    user = token_user()
    body = parsed(schemas.InterestCreate)
    job = get_job_or_404(job_id, viewer_for(user), options=[joinedload(Job.coop)])
    coop = _chosen_coop(_acting_coops(job, user, "Registering an interest"), body.coop)
    interest = _saved_bid(lambda: bid_services.register_interest(job, coop, user, body.bid_by))
    return commit_with_answer(plain(interest_json(interest)))


@bp.delete("/jobs/<int:job_id>/interest")
@operation("withdrawInterest", "bids", {204: (None, "Withdrawn")}, (400, *ACT_ERRORS), query=schemas.CoopQuery)
def interest_withdraw(job_id: int) -> Response:
    """Withdraw the co-op's interest"""
    user = token_user()
    slug = request.args.get("coop")
    job = get_job_or_404(job_id, viewer_for(user), options=[joinedload(Job.coop)])
    coop = _chosen_coop(_acting_coops(job, user, "Withdrawing an interest"), slug)
    _saved_bid(lambda: bid_services.withdraw_interest(job, coop, user))
    return commit_with_answer(None, 204)


# --- notifications ---------------------------------------------------------------------------

@bp.get("/notifications")
@operation("listNotifications", "notifications", {200: (schemas.NotificationPage, "One page of notifications")},
           (400, 401), query=schemas.Paging)
def notifications_index() -> Response:
    """The caller's notifications, newest first (none about jobs it may no longer see)"""
    user = token_user()
    page_no, per_page = _page_args()
    page = notification_services.notifications_page(user, viewer_for(user), page_no, per_page)
    return _page(page, [notification_json(n) for n in page.items], schemas.NotificationPage)


@bp.post("/notifications/<int:notification_id>/read")
@operation("readNotification", "notifications", {200: (schemas.Notification, "The notification")},
           (401, 403, 404))
def notifications_read(notification_id: int) -> Response:
    """Mark one of the caller's notifications read"""
    user = token_user()
    notification = _get_or_404(Notification, notification_id)
    # Not theirs, or about a job they may no longer see: as if it did not exist (as in the list).
    if notification.user_id != user.id or (
            notification.job_id is not None and not can_view_job(viewer_for(user), notification.job)):
        abort(404)
    notification_services.mark_read(user, notification.id)
    return commit_with_answer(plain(notification_json(notification)))
