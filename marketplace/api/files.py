"""Files through the API: a job's specification files (added by its poster), a bid's files
(added and listed by the bidding co-op while the bid can change; read by the reviewers once
bids close, as the bid is), a question's (added by the asking co-op while it is unanswered;
listed with the questions), and removing a file where the site lets one be removed.

Every file is read through ``federation.can_see_document`` as on the site: a file the caller
may not see is 404, never confirmed to exist.
"""
from typing import Any

from flask import Flask, Response, abort, current_app, jsonify, request, url_for

from ..accounts.models import User
from ..bids.models import Bid, BidStatus
from ..bids.policy import can_view_bid
from ..coops.models import Coop
from ..documents import services as document_services
from ..documents.models import Document
from ..extensions import db
from ..federation import can_view_job, viewer_for
from ..federation.policy import can_see_document
from ..jobs import services as job_services
from ..questions.models import Question
from . import schemas
from .base import ApiError, bp, invalid, token_user
from .idempotency import commit_with_answer
from .serializers import document_json, plain
from .spec import operation
from .bidding import own_bid
from .common import ACT_ERRORS
from .writes import managed_job

FILES = {201: (schemas.DocumentList, "The files added")}


def __getattr__(name: str) -> Any:
    """``PATHS``: this module's operations as the OpenAPI document describes them."""
    if name == "PATHS":
        from .openapi import described_paths

        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        return described_paths(app, __name__)
    raise AttributeError(name)


def _stored(owner_kind: str, owner_id: int, user: User, coop: Coop) -> list[Document]:
    """The request's files (parts named ``documents``), checked and stored for the owner, or
    a 422 naming every refused file: nothing is stored unless all are accepted."""
    uploads, errors = document_services.checked_uploads(request.files.getlist(document_services.FIELD))
    if errors:
        raise invalid({"documents": " ".join(errors)})
    if not uploads:
        raise invalid({"documents": "Attach at least one file, in a part named documents."})
    return [document_services.store(upload, owner_kind, owner_id, user, coop) for upload in uploads]


def _listed(documents: list[Document]) -> schemas.DocumentList:
    return schemas.DocumentList(items=[document_json(d) for d in documents])


@bp.post("/jobs/<int:job_id>/documents")
@operation("addJobDocuments", "jobs", FILES, (400, *ACT_ERRORS), form=schemas.DocumentUpload, created=True)
def jobs_add_documents(job_id: int) -> Response:
    """Attach specification files to a draft or open job the caller's co-op posted
    (multipart/form-data, each file in a part named documents)"""
    user = token_user()
    job = managed_job(job_id, user)
    if not job_services.is_editable(job):
        raise ApiError(409, "conflict", "This job is closed or withdrawn: files can no longer be added.")
    added = _stored("job", job.id, user, job.coop)
    return commit_with_answer(plain(_listed(added)), 201, {"Location": url_for("api.jobs_show", job_id=job.id)})


@bp.get("/bids/<int:bid_id>/documents")
@operation("listBidDocuments", "bids", {200: (schemas.DocumentList, "The bid's files")}, (401, 404))
def bids_documents(bid_id: int) -> Response:
    """A bid's files, for those who may see the bid's contents (its co-op; the reviewers once
    bids close)"""
    user = token_user()
    bid = db.session.get(Bid, bid_id)
    if bid is None or not can_view_bid(viewer_for(user), bid):
        abort(404)
    return jsonify(plain(_listed(document_services.owned("bid", bid.id))))


@bp.post("/bids/<int:bid_id>/documents")
@operation("addBidDocuments", "bids", FILES, (400, *ACT_ERRORS), form=schemas.DocumentUpload, created=True)
def bids_add_documents(bid_id: int) -> Response:
    """Attach files to the co-op's bid while it is a draft or submitted and bids are open; they
    are sealed with the bid until the deadline (multipart/form-data, parts named documents)"""
    user = token_user()
    bid = own_bid(bid_id, user)
    if bid.status not in (BidStatus.DRAFT, BidStatus.SUBMITTED) or not bid.job.is_open:
        raise ApiError(409, "conflict", "This bid can no longer change: files can no longer be added.")
    added = _stored("bid", bid.id, user, bid.coop)
    return commit_with_answer(plain(_listed(added)), 201,
                              {"Location": url_for("api.bids_documents", bid_id=bid.id)})


@bp.post("/questions/<int:question_id>/documents")
@operation("addQuestionDocuments", "questions", FILES, (400, *ACT_ERRORS), form=schemas.DocumentUpload,
           created=True)
def questions_add_documents(question_id: int) -> Response:
    """Attach files to a question the caller's co-op asked, while it is unanswered and questions
    are still open; they are shown as the question is (to the poster and the asking co-op, and to
    everyone who sees the job once it is answered)"""
    user = token_user()
    question = db.session.get(Question, question_id)
    if question is None or not can_view_job(viewer_for(user), question.job):
        abort(404)
    asker = question.coop
    if asker is None or not user.is_member_of(asker):
        if question.is_answered or user.is_member_of(question.job.coop):
            raise ApiError(403, "forbidden", "Only the co-op that asked the question adds files to it.")
        abort(404)  # another co-op's unanswered question: not theirs to know of
    if question.is_answered or not question.job.questions_open:
        raise ApiError(409, "conflict", "This question is answered or questions are closed: files can no "
                                        "longer be added.")
    added = _stored("question", question.id, user, asker)
    return commit_with_answer(plain(_listed(added)), 201,
                              {"Location": url_for("api.questions_index", job_id=question.job_id)})


@bp.delete("/documents/<int:document_id>")
@operation("removeDocument", "documents", {204: (None, "Removed")}, ACT_ERRORS)
def documents_remove(document_id: int) -> Response:
    """Remove a file where the site allows it: a draft job's, by its poster; a bid's, by the
    bidding co-op while the bid can change. A published job's files stay (bidders may have read
    them), as do a closed or withdrawn bid's."""
    user = token_user()
    document = db.session.get(Document, document_id)
    viewer = viewer_for(user)
    if document is None or not can_see_document(viewer, document):
        abort(404)
    found = document_services.removal_redirect(document)
    if found is None:
        raise ApiError(409, "conflict", "This file can no longer be removed.")
    if found[0] not in viewer.coop_ids:
        raise ApiError(403, "forbidden", "Only the co-op whose draft or bid this is may remove its files.")
    document_services.remove(document)
    return commit_with_answer(None, 204)
