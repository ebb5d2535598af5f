"""Bidding endpoints: a co-op's questions on a job, its bids and its interests. Every write acts
for a bearer token (``token_user``); a job's questions are read by whoever may see the job.

The views are thin: the bodies are read with the models of api/schemas.py, and the rules of
``bids`` and ``questions`` decide; a job the caller may not see is 404 as on the site. A
refused change is rolled back: nothing is half-saved.
"""
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, abort, current_app, jsonify, request, url_for
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import User
from ..bids import services as bid_services
from ..bids.models import Bid
from ..bids.policy import can_see_asker, can_view_bid
from ..consortia.services import save_consortium_bid
from ..coops.models import Coop
from ..core.work import flush_retrying
from ..documents import services as document_services
from ..extensions import db
from ..federation import get_job_or_404, viewer_for
from ..jobs.models import Job
from ..questions import services as question_services
from . import schemas
from .base import ApiError, api_viewer, bp, parsed, token_user
from .common import ACT_ERRORS, Found, chosen_coop, get_or_404, page_args, page_response, rule_error
from .idempotency import commit_with_answer
from .serializers import bid_json, interest_json, plain, question_json
from .spec import operation


def __getattr__(name: str) -> Any:
    """``PATHS``: this module's operations as the OpenAPI document describes them."""
    if name == "PATHS":
        from .openapi import described_paths

        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        return described_paths(app, __name__)
    raise AttributeError(name)


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
    coop = chosen_coop(_acting_coops(job, user, "Asking questions"), body.coop)
    try:
        question = question_services.ask_question(job, coop, user, body.text)
        db.session.flush()
    except question_services.QuestionRuleError as error:
        raise rule_error(error)
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
    bid = get_or_404(Bid, bid_id, options=[joinedload(Bid.job).joinedload(Job.requirements),
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
        raise rule_error(error, _bid_field)


@bp.get("/bids")
@operation("listBids", "bids", {200: (schemas.BidPage, "One page of bids")}, (400, 401), query=schemas.Paging)
def bids_index() -> Response:
    """The bids of the caller's co-ops on jobs it may see, latest change first"""
    user = token_user()
    page_no, per_page = page_args()
    page = bid_services.coop_bids_page(viewer_for(user), page_no, per_page)
    return page_response(page, [bid_json(bid) for bid in page.items], schemas.BidPage)


BID = {200: (schemas.Bid, "The bid")}


@bp.get("/bids/<int:bid_id>")
@operation("getBid", "bids", BID, (401, 404))
def bids_show(bid_id: int) -> Response:
    """A bid the caller may see"""
    user = token_user()
    bid = get_or_404(Bid, bid_id, options=[joinedload(Bid.job), joinedload(Bid.coop)])
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
    coop = chosen_coop(_acting_coops(job, user, "Bidding"), body.coop)
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
    coop = chosen_coop(_acting_coops(job, user, "Registering an interest"), body.coop)
    interest = _saved_bid(lambda: bid_services.register_interest(job, coop, user, body.bid_by))
    return commit_with_answer(plain(interest_json(interest)))


@bp.delete("/jobs/<int:job_id>/interest")
@operation("withdrawInterest", "bids", {204: (None, "Withdrawn")}, (400, *ACT_ERRORS), query=schemas.CoopQuery)
def interest_withdraw(job_id: int) -> Response:
    """Withdraw the co-op's interest"""
    user = token_user()
    slug = request.args.get("coop")
    job = get_job_or_404(job_id, viewer_for(user), options=[joinedload(Job.coop)])
    coop = chosen_coop(_acting_coops(job, user, "Withdrawing an interest"), slug)
    _saved_bid(lambda: bid_services.withdraw_interest(job, coop, user))
    return commit_with_answer(None, 204)
