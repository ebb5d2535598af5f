"""How the API writes the site's objects as its answers (api/schemas.py). The caller has
already been allowed to see them."""
from datetime import date
from collections.abc import Sequence
from typing import Any, overload

from flask import url_for
from pydantic import BaseModel

from ..bids.models import Bid, Interest
from ..coops.models import Coop
from ..jobs.models import Job
from ..notifications.models import Notification
from ..questions.models import Question
from ..skills.models import Skill
from . import schemas


@overload
def iso(value: date) -> str: ...
@overload
def iso(value: date | None) -> str | None: ...
def iso(value: date | None) -> str | None:
    """A naive UTC datetime as ISO 8601 with a ``Z``; dates as ISO 8601."""
    if value is None:
        return None
    text = value.isoformat()
    return text + "Z" if hasattr(value, "hour") else text


def plain(answer: BaseModel) -> dict[str, Any]:
    """An answer as JSON-ready data (a field with a default is left out unless it was set)."""
    return answer.model_dump(mode="json", exclude_unset=True)


def skill_json(skill: Skill) -> schemas.Skill:
    return schemas.Skill(slug=skill.slug, name=skill.name, group=skill.group)


def coop_ref(coop: Coop) -> schemas.CoopRef:
    return schemas.CoopRef(slug=coop.slug, name=coop.name)


def coop_json(coop: Coop) -> schemas.Coop:
    return schemas.Coop(slug=coop.slug, name=coop.name, website=coop.website, location=coop.location,
                        description=coop.description, size=coop.size)


def _same(source: object, *names: str) -> dict[str, Any]:
    """The fields an answer copies as they are from ``source``."""
    return {name: getattr(source, name) for name in names}


def _times(source: object, *names: str) -> dict[str, str | None]:
    """The fields an answer gives as ISO 8601 (``iso``), from ``source``."""
    return {name: iso(getattr(source, name)) for name in names}


def award_json(job: Job, bid: Bid) -> schemas.Award:
    """The outcome of an awarded ``job``: its awarded ``bid``."""
    from ..bids.services import bidder_coops

    final = job.award_final_at
    return schemas.Award(
        winner=bid.bidder_name, suppliers=[coop_ref(c) for c in bidder_coops(bid)],
        value=bid.agreed_value or 0, currency=job.currency, date=iso(bid.decided_at or job.awarded_at),
        status="intended" if job.award_intended else "final", final_at=iso(final or job.awarded_at),
    )


def job_json(job: Job, award: Bid | None = None) -> schemas.Job:
    """``award``: the job's awarded bid, when the caller may see the outcome (``federation.can_see_outcome``)."""
    return schemas.Job(
        award=award_json(job, award) if award is not None else None,
        **_same(job, "id", "title", "summary", "description", "kind", "state", "visibility", "location",
                "work_mode", "looking_for_partners"),
        **_times(job, "questions_deadline", "bids_deadline", "start_date", "published_at"),
        budget=schemas.Budget(type=job.budget_type, min=job.budget_min, max=job.budget_max,
                              currency=job.currency),
        coop=coop_ref(job.coop),
        skills=[skill_json(s) for s in job.skills],
    )


def document_json(document: Any) -> schemas.Document:
    return schemas.Document(
        **_same(document, "id", "name", "media_type", "size"),
        url=url_for("documents.download", document_id=document.id, filename=document.name, _external=True),
    )


def job_detail_json(job: Job, documents: list[Any], award: Bid | None = None) -> schemas.JobDetail:
    """A single job, with its specification files (``documents``: the caller may see the job)
    and its award as ``job_json`` gives it."""
    return schemas.JobDetail(
        **job_json(job, award).model_dump(), documents=[document_json(d) for d in documents],
        requirements=[schemas.Requirement(id=r.id, text=r.text, kind=r.kind) for r in job.requirements],
        criteria=[criterion_json(c) for c in job.criteria],
    )


def criterion_json(criterion: Any) -> schemas.Criterion:
    return schemas.Criterion(id=criterion.id, name=criterion.name, weight=criterion.weight)


def question_json(question: Question, show_asker: bool, documents: Sequence[Any] = (),
                  answer_documents: Sequence[Any] = ()) -> schemas.Question:
    """A clarification question; the asking co-op only for the poster's co-op (``show_asker``);
    its files and its answer's (the caller may see the question)."""
    return schemas.Question(
        **_same(question, "id", "job_id", "text"),
        **_times(question, "answered_at"),
        answer=question.answer if question.is_answered else None,
        asked_at=iso(question.created_at),
        coop=coop_ref(question.coop) if show_asker and question.coop is not None else None,
        documents=[document_json(d) for d in documents],
        answer_documents=[document_json(d) for d in answer_documents] if question.is_answered else [],
    )


def bid_json(bid: Bid) -> schemas.Bid:
    return schemas.Bid(
        **_same(bid, "id", "consortium_id", "status", "price_type", "amount", "days", "proposal", "feedback",
                "agreed_value"),
        **_times(bid, "available_from", "agreed_start", "submitted_at", "withdrawn_at", "decided_at",
                 "updated_at"),
        job=schemas.JobRef(id=bid.job.id, title=bid.job.title),
        coop=coop_ref(bid.coop),
        answers=[schemas.RequirementAnswer(requirement_id=a.requirement_id, answer=a.answer)
                 for a in sorted(bid.answers, key=lambda a: a.requirement_id)],
    )


def interest_json(interest: Interest) -> schemas.Interest:
    return schemas.Interest(job_id=interest.job_id, coop=coop_ref(interest.coop), bid_by=iso(interest.bid_by),
                            state=interest.state)


def notification_json(notification: Notification) -> schemas.Notification:
    return schemas.Notification(**_same(notification, "id", "kind", "job_id", "message", "url"),
                                **_times(notification, "created_at", "read_at"))
