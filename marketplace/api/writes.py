"""Write and personal endpoints: a co-op's jobs, questions, its own bids and interests, and
the caller's notifications. Every one acts for a bearer token (``token_user``).

The views are thin: the site's forms and services decide (the job form's validation, the
rules of ``jobs``, ``bids`` and ``questions``), and a job the caller may not see is 404 as on
the site. A refused change is rolled back: nothing is half-saved.
"""
from datetime import date, datetime, timezone

from flask import abort, jsonify, request, url_for
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import MultiDict
from wtforms import DateTimeField
from wtforms.validators import InputRequired

from ..bids import services as bid_services
from ..bids.models import Bid, BidStatus, InterestState
from ..bids.policy import can_see_asker, can_view_bid
from ..consortia.services import save_consortium_bid
from ..core.input import text_ok
from ..core.work import flush_retrying
from ..extensions import db
from ..federation.models import Visibility
from ..federation.policy import can_view_job, get_job_or_404, posting_visibilities, viewer_for
from ..jobs import services as job_services
from ..jobs.forms import MAX_BUDGET, JobForm
from ..jobs.models import BudgetType, Currency, Job, JobKind, WorkMode
from ..jobs.services import load_job
from ..notifications import services as notification_services
from ..notifications.models import Notification, NotificationKind
from ..questions import services as question_services
from ..skills.services import all_skills
from .base import MAX_PER_PAGE, ApiError, api_viewer, bp, int_arg, json_body, token_user
from .idempotency import WRITES, commit_with_answer
from .openapi import (DATE, DATE_TIME, INTEGER, MAX_ID, STRING, json_response, nullable, obj, ref,
                      values)
from .personal import bid_json, interest_json, notification_json, question_json
from .serializers import job_json


# --- request bodies --------------------------------------------------------------------------

def _invalid(fields, message="Some fields are not valid."):
    return ApiError(422, "invalid", message, fields)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_datetime(value):
    """ISO 8601; with an offset it is converted to UTC, without one it is taken as UTC."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


KINDS = {
    "string": (lambda v: isinstance(v, str) and text_ok(v), "must be a string"),
    "integer": (_is_int, "must be an integer"),
    "boolean": (lambda v: isinstance(v, bool), "must be true or false"),
    "strings": (lambda v: isinstance(v, list) and all(isinstance(s, str) and text_ok(s) for s in v),
                "must be a list of strings"),
    "date": (date.fromisoformat, "must be a date (YYYY-MM-DD)"),
    "datetime": (_parse_datetime, "must be a date and time (ISO 8601)"),
    "answers": (lambda v: isinstance(v, list) and all(
        isinstance(a, dict) and set(a) == {"requirement_id", "answer"} and _is_int(a["requirement_id"])
        and isinstance(a["answer"], str) and text_ok(a["answer"]) for a in v),
        "must be a list of {requirement_id, answer}"),
}


def _typed(body, spec, required=()):
    """Check ``body``'s fields against ``spec`` ({name: (kind, nullable)}): unknown fields,
    missing ones and wrong types are a 422 naming each field. Returns the body with dates
    parsed."""
    errors = {name: "unknown field" for name in body if name not in spec}
    errors.update({name: "required" for name in required if body.get(name) is None})
    values = {}
    for name, value in body.items():
        if name not in spec or name in errors:
            continue
        kind, nullable = spec[name]
        if value is None:
            if not nullable:
                errors[name] = "must not be null"
            values[name] = None
            continue
        check, message = KINDS[kind]
        if kind in ("date", "datetime"):
            try:
                values[name] = check(value) if isinstance(value, str) else None
            except (ValueError, OverflowError):
                values[name] = None
            if values[name] is None:
                errors[name] = message
        elif not check(value):
            errors[name] = message
        else:
            values[name] = value
    if errors:
        raise _invalid(errors)
    return values


def _optional_body():
    """A body that may be left out (an action with an optional reason)."""
    return json_body() if request.get_data() else {}


def _rule_error(error, names=None):
    """A refused rule: a field at fault is a 422, the state of things a 409. ``names`` turns
    the site form's field names into the request body's."""
    db.session.rollback()
    if error.field:
        field = (names or (lambda name: name))(error.field)
        return _invalid({field: error.message}, error.message)
    return ApiError(409, "conflict", error.message)


def _chosen_coop(coops, slug):
    """The caller's co-op that acts: the one named by ``coop`` (a slug), which is needed
    only when several of their co-ops could."""
    if slug is not None:
        coop = next((c for c in coops if c.slug == slug), None)
        if coop is None:
            raise _invalid({"coop": "Choose one of your co-ops that can act here."})
        return coop
    if len(coops) > 1:
        raise _invalid({"coop": "Several of your co-ops can act here: say which."})
    return coops[0]


def _get_or_404(model, object_id, options=()):
    found = db.session.get(model, object_id, options=list(options))
    if found is None:
        abort(404)
    return found


def _page_json(page, serialise):
    return {"items": [serialise(item) for item in page.items], "page": page.page,
            "per_page": page.per_page, "total": page.total, "total_capped": page.capped}


def _page_args():
    return int_arg("page", 1), int_arg("per_page", 20, high=MAX_PER_PAGE)


# --- jobs ------------------------------------------------------------------------------------

JOB_FIELDS = {
    "title": ("string", False), "summary": ("string", False), "description": ("string", True),
    "kind": ("string", False), "skills": ("strings", False), "budget_type": ("string", False),
    "budget_min": ("integer", False), "budget_max": ("integer", True), "currency": ("string", False),
    "work_mode": ("string", False), "location": ("string", True),
    "questions_deadline": ("datetime", False), "bids_deadline": ("datetime", False),
    "start_date": ("date", True), "visibility": ("string", False),
    "looking_for_partners": ("boolean", False), "requirements": ("strings", True),
}
JOB_REQUIRED = ("title", "summary", "skills", "budget_min", "questions_deadline", "bids_deadline",
                "visibility")


class UtcDateTimeField(DateTimeField):
    """The API's deadlines: ISO 8601 in UTC, already parsed by ``_typed``."""

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = _parse_datetime(valuelist[0])


class ApiJobForm(JobForm):
    """The site's job form and its validation, fed from a JSON body: dates are UTC, not the
    site's time zone, and there is no CSRF token (a bearer token cannot be forged by a page)."""

    class Meta:
        csrf = False

    questions_deadline = UtcDateTimeField(validators=[InputRequired("Give a date and time.")])
    bids_deadline = UtcDateTimeField(validators=[InputRequired("Give a date and time.")])


def _job_fields(job):
    """A job's editable fields in the request body's shape: what a PATCH starts from."""
    fields = {name: getattr(job, name) for name in JOB_FIELDS if name not in ("skills", "requirements")}
    fields["skills"] = [s.slug for s in job.skills]
    fields["requirements"] = [r.text for r in job.requirements]
    return fields


def _job_form(coop, fields, job=None):
    """Validate ``fields`` with the site's job form; returns (values, skills) or a 422."""
    skills = {s.slug: s for s in all_skills()}
    unknown = sorted({slug for slug in fields.get("skills") or () if slug not in skills})
    formdata = MultiDict({"coop": str(coop.id)})
    for name, value in fields.items():
        if name == "skills":
            formdata.setlist("skills", [str(skills[slug].id) for slug in value if slug in skills])
        elif name == "requirements":
            formdata["requirements"] = "\n".join(value or ())
        elif value is True:
            formdata[name] = "y"
        elif isinstance(value, datetime | date):
            formdata[name] = value.isoformat()
        elif value is not None and value is not False:
            formdata[name] = str(value)
    form = ApiJobForm(formdata=formdata, coops=[coop], skills=list(skills.values()),
                      visibilities=posting_visibilities(coop), job=job)
    valid = form.validate()
    if unknown or not valid:
        errors = {name: messages[0] for name, messages in form.errors.items() if name and messages}
        if unknown:
            errors["skills"] = f"Unknown skill: {', '.join(unknown)}."
        message = form.form_errors[0] if form.form_errors else "Some fields are not valid."
        raise _invalid(errors, message)
    wanted = {int(i) for i in formdata.getlist("skills")}
    return form.values(), [s for s in skills.values() if s.id in wanted]


def _job_answer(job_id, status=200, **headers):
    """Commit, answering with the job as the transaction left it (read before the commit)."""
    db.session.flush()
    return commit_with_answer(job_json(load_job(job_id)), status, headers)


def _managed_job(job_id, user):
    """A job the caller's co-op posted: 404 if they may not see it, 403 if they only see it."""
    job = get_job_or_404(job_id, viewer_for(user))
    if not job_services.can_manage(user, job):
        raise ApiError(403, "forbidden", "Only the co-op that posted the job manages it.")
    return job


@bp.post("/jobs")
def jobs_create():
    user = token_user()
    body = _typed(json_body(), {**JOB_FIELDS, "coop": ("string", False), "publish": ("boolean", False)},
                  required=JOB_REQUIRED)
    coops = [c for c in user.coops if posting_visibilities(c)]
    if not coops:
        raise ApiError(403, "forbidden", "To post a job you need to belong to a co-op with an active "
                                         "or guest network membership.")
    coop = _chosen_coop(coops, body.pop("coop", None))
    publish = body.pop("publish", False)
    values, skills = _job_form(coop, body)
    try:
        job = job_services.post_job(coop, user, values, skills, publish=publish)
        db.session.flush()
    except job_services.JobRuleError as error:
        raise _rule_error(error)
    return _job_answer(job.id, 201, Location=url_for("api.jobs_show", job_id=job.id))


@bp.patch("/jobs/<int:job_id>")
def jobs_update(job_id):
    user = token_user()
    body = _typed(json_body(), JOB_FIELDS)
    job = _managed_job(job_id, user)
    if not job_services.is_editable(job):
        raise ApiError(409, "conflict", "This job is closed or withdrawn and can no longer be edited.")
    values, skills = _job_form(job.coop, {**_job_fields(job), **body}, job=job)
    try:
        job_services.update_job(job, user, values, skills)
    except job_services.JobRuleError as error:
        raise _rule_error(error)
    return _job_answer(job.id)


def _job_action(job_id, change, body_fields=None):
    user = token_user()
    body = _typed(_optional_body(), body_fields) if body_fields else {}
    job = _managed_job(job_id, user)
    try:
        change(job, user, body)
    except job_services.JobRuleError as error:
        raise _rule_error(error)
    return _job_answer(job.id)


@bp.post("/jobs/<int:job_id>/publish")
def jobs_publish(job_id):
    return _job_action(job_id, lambda job, user, body: job_services.publish_job(job, user))


MAX_REASON = 2000  # the site's withdraw form's limit


def _withdraw(job, user, body):
    reason = body.get("reason") or ""
    if len(reason) > MAX_REASON:
        raise _invalid({"reason": f"Must be at most {MAX_REASON:,} characters."})
    job_services.withdraw_job(job, user, reason)


@bp.post("/jobs/<int:job_id>/withdraw")
def jobs_withdraw(job_id):
    return _job_action(job_id, _withdraw, {"reason": ("string", True)})


# --- questions -------------------------------------------------------------------------------

@bp.get("/jobs/<int:job_id>/questions")
def questions_index(job_id):
    viewer = api_viewer()
    job = get_job_or_404(job_id, viewer, options=[joinedload(Job.coop), *bid_services.with_counts()])
    panel = question_services.questions_panel(job, viewer)
    return jsonify({
        "answered": [question_json(q, panel.show_asker) for q in panel.answered],
        "pending": [question_json(q, panel.show_asker) for q in panel.pending],
    })


def _acting_coops(job, user, action):
    """The caller's co-ops that may bid on (and ask about, and be interested in) ``job``."""
    coops = bid_services.bidding_coops(user, job)
    if not coops:
        raise ApiError(403, "forbidden", f"{action} is for members of co-ops that can see the job, "
                                         "other than the poster, with an active or guest membership "
                                         "of a network.")
    return coops


@bp.post("/jobs/<int:job_id>/questions")
def questions_create(job_id):
    user = token_user()
    body = _typed(json_body(), {"coop": ("string", False), "text": ("string", False)}, required=("text",))
    job = get_job_or_404(job_id, viewer_for(user), options=[joinedload(Job.coop)])
    coop = _chosen_coop(_acting_coops(job, user, "Asking questions"), body.get("coop"))
    try:
        question = question_services.ask_question(job, coop, user, body["text"])
        db.session.flush()
    except question_services.QuestionRuleError as error:
        raise _rule_error(error)
    # As the questions list shows it: the asker is the poster's to know.
    return commit_with_answer(question_json(question, can_see_asker(viewer_for(user), job)), 201,
                              {"Location": url_for("api.questions_index", job_id=job.id)})


# --- bids ------------------------------------------------------------------------------------

BID_FIELDS = {
    "price_type": ("string", False), "amount": ("integer", True), "days": ("integer", True),
    "available_from": ("date", True), "proposal": ("string", False), "answers": ("answers", False),
    "submit": ("boolean", False),
}


def _bid_values(body, bid=None):
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
        if name in body:
            setattr(values, name, body[name])
    for answer in body.get("answers") or ():
        values.answers[answer["requirement_id"]] = answer["answer"]
    return values


def _own_bid(bid_id, user):
    """A bid the caller may see (else 404) and edit for its bidding co-op (else 403)."""
    bid = _get_or_404(Bid, bid_id, options=[joinedload(Bid.job).joinedload(Job.requirements),
                                            joinedload(Bid.coop), selectinload(Bid.answers)])
    if not can_view_bid(viewer_for(user), bid):
        abort(404)
    if not user.is_member_of(bid.coop):
        raise ApiError(403, "forbidden", "Only the bidding co-op changes its bid.")
    return bid


def _bid_field(name):
    """The bid form's field names as the request body's."""
    if name in ("price", "day_rate"):
        return "amount"
    return "answers" if name.startswith("answer_") else name


def _saved_bid(change):
    """Run a bids rule, as the site does (retrying a lost race on a unique index); the view
    commits with its answer."""
    try:
        return flush_retrying(change)
    except bid_services.BidRuleError as error:
        raise _rule_error(error, _bid_field)


@bp.get("/bids")
def bids_index():
    user = token_user()
    page_no, per_page = _page_args()
    page = bid_services.coop_bids_page(viewer_for(user), page_no, per_page)
    return jsonify(_page_json(page, bid_json))


@bp.get("/bids/<int:bid_id>")
def bids_show(bid_id):
    user = token_user()
    bid = _get_or_404(Bid, bid_id, options=[joinedload(Bid.job), joinedload(Bid.coop)])
    if not can_view_bid(viewer_for(user), bid):
        abort(404)
    return jsonify(bid_json(bid))


@bp.post("/jobs/<int:job_id>/bids")
def bids_create(job_id):
    user = token_user()
    body = _typed(json_body(), {**BID_FIELDS, "coop": ("string", False)})
    job = get_job_or_404(job_id, viewer_for(user), options=[joinedload(Job.coop), joinedload(Job.requirements)])
    coop = _chosen_coop(_acting_coops(job, user, "Bidding"), body.get("coop"))
    values = _bid_values(body)
    bid = _saved_bid(lambda: bid_services.save_bid(job, coop, user, values, submit=body.get("submit", False)))
    location = url_for("api.bids_show", bid_id=bid.id)
    # 201 only if this request made the bid: of two first bids racing, the other edited it.
    return commit_with_answer(bid_json(bid), 201 if bid.created_now else 200, {"Location": location})


@bp.patch("/bids/<int:bid_id>")
def bids_update(bid_id):
    user = token_user()
    body = _typed(json_body(), BID_FIELDS)
    bid = _own_bid(bid_id, user)
    values = _bid_values(body, bid)
    submit = body.get("submit", False)

    def change():
        # A consortium's bid is saved under the consortium's rules too.
        if bid.consortium is not None:
            return save_consortium_bid(bid.consortium, bid.job, user, values, submit, bid.id)
        return bid_services.save_bid(bid.job, bid.coop, user, values, submit, bid.id)

    return commit_with_answer(bid_json(_saved_bid(change)))


@bp.post("/bids/<int:bid_id>/withdraw")
def bids_withdraw(bid_id):
    user = token_user()
    bid = _own_bid(bid_id, user)
    _saved_bid(lambda: bid_services.withdraw_bid(bid, user))
    return commit_with_answer(bid_json(bid))


# --- interests -------------------------------------------------------------------------------

@bp.put("/jobs/<int:job_id>/interest")
def interest_register(job_id):
    user = token_user()
    body = _typed(json_body(), {"coop": ("string", False), "bid_by": ("date", False)}, required=("bid_by",))
    job = get_job_or_404(job_id, viewer_for(user), options=[joinedload(Job.coop)])
    coop = _chosen_coop(_acting_coops(job, user, "Registering an interest"), body.get("coop"))
    interest = _saved_bid(lambda: bid_services.register_interest(job, coop, user, body["bid_by"]))
    return commit_with_answer(interest_json(interest))


@bp.delete("/jobs/<int:job_id>/interest")
def interest_withdraw(job_id):
    user = token_user()
    slug = _typed({k: v for k, v in request.args.items() if k == "coop"}, {"coop": ("string", False)}).get("coop")
    job = get_job_or_404(job_id, viewer_for(user), options=[joinedload(Job.coop)])
    coop = _chosen_coop(_acting_coops(job, user, "Withdrawing an interest"), slug)
    _saved_bid(lambda: bid_services.withdraw_interest(job, coop, user))
    return commit_with_answer(None, 204)


# --- notifications ---------------------------------------------------------------------------

@bp.get("/notifications")
def notifications_index():
    user = token_user()
    page_no, per_page = _page_args()
    page = notification_services.notifications_page(user, viewer_for(user), page_no, per_page)
    return jsonify(_page_json(page, notification_json))


@bp.post("/notifications/<int:notification_id>/read")
def notifications_read(notification_id):
    user = token_user()
    notification = _get_or_404(Notification, notification_id)
    # Not theirs, or about a job they may no longer see: as if it did not exist (as in the list).
    if notification.user_id != user.id or (
            notification.job_id is not None and not can_view_job(viewer_for(user), notification.job)):
        abort(404)
    notification_services.mark_read(user, notification.id)
    return commit_with_answer(notification_json(notification))


# --- OpenAPI description ---------------------------------------------------------------------

ERRORS = {
    400: ref("BadRequest", "responses"),
    401: ref("Unauthorized", "responses"),
    403: json_response("The caller may see this but may not act on it", ref("Error")),
    404: ref("NotFound", "responses"),
    409: json_response("Refused by the rules in the object's present state", ref("Error")),
    422: json_response("Fields are not valid (error.fields names each)", ref("Error")),
}
ACT_ERRORS = (400, 401, 403, 404, 409, 422)
TOKEN = [{"bearerAuth": []}]


def _operation(operation_id, summary, tag, ok, errors, body=None, body_required=True, parameters=(),
               security=TOKEN):
    responses = {**ok, **{str(status): ERRORS[status] for status in errors}}
    operation = {"operationId": operation_id, "summary": summary, "tags": [tag],
                 "security": security, "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": body_required,
                                    "content": {"application/json": {"schema": ref(body)}}}
    if parameters:
        operation["parameters"] = list(parameters)
    return operation


def _ok(description, schema, status=200, created=False):
    headers = None
    if created:
        headers = {"Location": {"required": True, "description": "The new object's URL", "schema": STRING}}
    return {str(status): json_response(description, ref(schema), headers)}


def _id(name):
    return {"name": name, "in": "path", "required": True,
            "schema": {**INTEGER, "minimum": 1, "maximum": MAX_ID}}


JOB_ID = ref("JobId", "parameters")
PAGE = [ref("Page", "parameters"), ref("PerPage", "parameters")]
COOP_CHOICE = {**STRING, "description": "The acting co-op's slug: needed only when several of the "
                                        "caller's co-ops could act"}

PATHS = {
    "/jobs": {"post": _operation(
        "createJob", "Post a job for one of the caller's co-ops: a draft, or published at once",
        "jobs", _ok("The job", "Job", 201, created=True), (400, 401, 403, 409, 422), "JobCreate")},
    "/jobs/{job_id}": {"patch": _operation(
        "updateJob", "Change fields of a draft or open job the caller's co-op posted", "jobs",
        _ok("The job", "Job"), ACT_ERRORS, "JobUpdate", parameters=[JOB_ID])},
    "/jobs/{job_id}/publish": {"post": _operation(
        "publishJob", "Publish a draft", "jobs", _ok("The job", "Job"), (401, 403, 404, 409, 422),
        parameters=[JOB_ID])},
    "/jobs/{job_id}/withdraw": {"post": _operation(
        "withdrawJob", "Withdraw a job while bids are open", "jobs", _ok("The job", "Job"), ACT_ERRORS,
        "JobWithdrawal", body_required=False, parameters=[JOB_ID])},
    "/jobs/{job_id}/questions": {
        "get": _operation(
            "listQuestions", "The job's questions the caller may read: every answer, and the "
            "unanswered ones it may see (the poster: all; a co-op: its own)", "questions",
            _ok("The questions", "QuestionList"), (401, 404), parameters=[JOB_ID],
            security=[{}, {"bearerAuth": []}]),
        "post": _operation(
            "askQuestion", "Ask the poster a clarification question", "questions",
            _ok("The question", "Question", 201, created=True), ACT_ERRORS, "QuestionCreate",
            parameters=[JOB_ID]),
    },
    "/jobs/{job_id}/bids": {"post": _operation(
        "saveBid", "Draft (or submit) the co-op's bid on a job; if it has a live bid, that is edited",
        "bids", {**_ok("The co-op's live bid, edited", "Bid"), **_ok("A new bid", "Bid", 201, created=True)},
        ACT_ERRORS, "BidCreate", parameters=[JOB_ID])},
    "/jobs/{job_id}/interest": {
        "put": _operation(
            "registerInterest", "Say the co-op will bid by a date (again: move the date)", "bids",
            _ok("The interest", "Interest"), ACT_ERRORS, "InterestCreate", parameters=[JOB_ID]),
        "delete": _operation(
            "withdrawInterest", "Withdraw the co-op's interest", "bids",
            {"204": {"description": "Withdrawn"}}, (400, 401, 403, 404, 409, 422),
            parameters=[JOB_ID, {"name": "coop", "in": "query", "schema": COOP_CHOICE}]),
    },
    "/bids": {"get": _operation(
        "listBids", "The bids of the caller's co-ops on jobs it may see, latest change first", "bids",
        _ok("One page of bids", "BidPage"), (400, 401), parameters=PAGE)},
    "/bids/{bid_id}": {
        "get": _operation("getBid", "A bid the caller may see", "bids", _ok("The bid", "Bid"), (401, 404),
                          parameters=[_id("bid_id")]),
        "patch": _operation("updateBid", "Edit, or submit, the co-op's bid", "bids", _ok("The bid", "Bid"),
                            ACT_ERRORS, "BidUpdate", parameters=[_id("bid_id")]),
    },
    "/bids/{bid_id}/withdraw": {"post": _operation(
        "withdrawBid", "Withdraw the co-op's bid while bids are open", "bids", _ok("The bid", "Bid"),
        (401, 403, 404, 409, 422), parameters=[_id("bid_id")])},
    "/notifications": {"get": _operation(
        "listNotifications", "The caller's notifications, newest first (none about jobs it may no "
        "longer see)", "notifications", _ok("One page of notifications", "NotificationPage"), (400, 401),
        parameters=PAGE)},
    "/notifications/{notification_id}/read": {"post": _operation(
        "readNotification", "Mark one of the caller's notifications read", "notifications",
        _ok("The notification", "Notification"), (401, 403, 404), parameters=[_id("notification_id")])},
}

# Every write takes an Idempotency-Key (api/idempotency.py): a retry answers as the first did.
for _item in PATHS.values():
    for _method, _op in _item.items():
        if _method.upper() in WRITES:
            _op["parameters"] = [*_op.get("parameters", []), ref("IdempotencyKey", "parameters")]
            for _status in (400, 409, 422):
                _op["responses"].setdefault(str(_status), ERRORS[_status])


def _body(properties, required=()):
    """A request body: unknown fields are refused (422), as are missing required ones."""
    return {"type": "object", "additionalProperties": False, "properties": properties,
            "required": list(required)}


def _page_of(item):
    return obj({"items": {"type": "array", "items": ref(item)}, "page": {**INTEGER, "minimum": 1},
                "per_page": {**INTEGER, "minimum": 1, "maximum": MAX_PER_PAGE},
                "total": {**INTEGER, "minimum": 0}, "total_capped": {"type": "boolean"}})


UTC_NOTE = "ISO 8601; UTC unless it carries an offset"
JOB_PROPERTIES = {
    "title": {**STRING, "maxLength": 200},
    "summary": {**STRING, "maxLength": 500},
    "description": nullable({**STRING, "maxLength": 20000, "description": "Markdown"}),
    "kind": {"type": "string", "enum": values(JobKind)},
    "skills": {"type": "array", "items": STRING, "minItems": 1, "maxItems": job_services.MAX_SKILLS,
               "description": "Skill slugs (see /skills)"},
    "budget_type": {"type": "string", "enum": values(BudgetType)},
    "budget_min": {**INTEGER, "minimum": 0, "maximum": MAX_BUDGET},
    "budget_max": nullable({**INTEGER, "minimum": 0, "maximum": MAX_BUDGET}),
    "currency": {"type": "string", "enum": values(Currency)},
    "work_mode": {"type": "string", "enum": values(WorkMode)},
    "location": nullable({**STRING, "maxLength": 120}),
    "questions_deadline": {**DATE_TIME, "description": UTC_NOTE},
    "bids_deadline": {**DATE_TIME, "description": UTC_NOTE},
    "start_date": nullable(DATE),
    "visibility": {"type": "string", "enum": values(Visibility)},
    "looking_for_partners": {"type": "boolean"},
    "requirements": nullable({
        "type": "array", "maxItems": job_services.MAX_REQUIREMENTS, "description": "Essential requirements",
        "items": {**STRING, "maxLength": job_services.MAX_REQUIREMENT_LENGTH},
    }),
}
ANSWERS = {"type": "array", "items": obj({"requirement_id": INTEGER, "answer": STRING})}
BID_PROPERTIES = {
    "price_type": {"type": "string", "enum": values(BudgetType)},
    "amount": nullable({**INTEGER, "description": "The fixed price, or the day rate"}),
    "days": nullable({**INTEGER, "description": "Days of work, with a day rate"}),
    "available_from": nullable(DATE),
    "proposal": {**STRING, "description": "Markdown"},
    "answers": {**ANSWERS, "description": "Answers to the job's essential requirements"},
    "submit": {"type": "boolean", "description": "Submit the bid (it must then be complete)"},
}

SCHEMAS = {
    "JobCreate": _body({**JOB_PROPERTIES, "coop": COOP_CHOICE,
                        "publish": {"type": "boolean", "description": "Publish at once (else a draft)"}},
                       JOB_REQUIRED),
    "JobUpdate": _body(JOB_PROPERTIES),
    "JobWithdrawal": _body({"reason": nullable({**STRING, "maxLength": MAX_REASON})}),
    "QuestionCreate": _body({"text": {**STRING, "maxLength": question_services.MAX_QUESTION},
                             "coop": COOP_CHOICE}, ("text",)),
    "Question": obj({
        "id": INTEGER, "job_id": INTEGER, "text": STRING, "answer": nullable(STRING),
        "asked_at": DATE_TIME, "answered_at": nullable(DATE_TIME),
        "coop": {"oneOf": [ref("CoopRef"), {"type": "null"}],
                 "description": "The asking co-op: for the poster's co-op alone"},
    }),
    "QuestionList": obj({"answered": {"type": "array", "items": ref("Question")},
                         "pending": {"type": "array", "items": ref("Question")}}),
    "BidCreate": _body({**BID_PROPERTIES, "coop": COOP_CHOICE}),
    "BidUpdate": _body(BID_PROPERTIES),
    "Bid": obj({
        "id": INTEGER, "job": obj({"id": INTEGER, "title": STRING}), "coop": ref("CoopRef"),
        "consortium_id": nullable(INTEGER), "status": {"type": "string", "enum": values(BidStatus)},
        "price_type": {"type": "string", "enum": values(BudgetType)}, "amount": nullable(INTEGER),
        "days": nullable(INTEGER), "available_from": nullable(DATE), "proposal": STRING,
        "answers": ANSWERS, "feedback": STRING, "agreed_value": nullable(INTEGER),
        "agreed_start": nullable(DATE), "submitted_at": nullable(DATE_TIME),
        "withdrawn_at": nullable(DATE_TIME), "decided_at": nullable(DATE_TIME), "updated_at": DATE_TIME,
    }),
    "BidPage": _page_of("Bid"),
    "InterestCreate": _body({"bid_by": {**DATE, "description": "The date the co-op will bid by"},
                             "coop": COOP_CHOICE}, ("bid_by",)),
    "Interest": obj({"job_id": INTEGER, "coop": ref("CoopRef"), "bid_by": DATE,
                     "state": {"type": "string", "enum": values(InterestState)}}),
    "Notification": obj({
        "id": INTEGER, "kind": {"type": "string", "enum": values(NotificationKind)},
        "job_id": nullable(INTEGER), "message": STRING,
        "url": {**STRING, "description": "A path on the site"},
        "created_at": DATE_TIME, "read_at": nullable(DATE_TIME),
    }),
    "NotificationPage": _page_of("Notification"),
}
