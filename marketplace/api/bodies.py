"""What API v1 takes: the request bodies (checked with these models: JSON types as given, unknown
fields refused) and the query parameters (described here; read by api/base.py's int_arg and the
views). Apart from the answers (``schemas``), which are built, not checked; ``schemas`` names
these too."""
from datetime import date, datetime, timezone
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from ..bids.services import MAX_PROPOSAL
from ..federation.models import Visibility
from ..evaluation.models import MAX_SCORE
from ..evaluation.services import MAX_COMMENT
from ..jobs.models import BudgetType, Currency, JobKind, JobState, WorkMode
from ..jobs.services import (MAX_BUDGET, MAX_CRITERIA, MAX_CRITERION_LENGTH, MAX_LENGTHS, MAX_REQUIREMENT_LENGTH,
                             MAX_REQUIREMENTS, MAX_SKILLS)
from ..questions.services import MAX_QUESTION
from ..search import SORTS
from .fields import MAX_PER_PAGE, MAX_QUERY, MAX_REASON, STATE_ANY, RequirementAnswer, doc, values


# --- requests --------------------------------------------------------------------------------

class Body(BaseModel):
    """A request body: JSON types as given (no "5" for 5), unknown fields refused (422)."""

    model_config = ConfigDict(strict=True, extra="forbid")


def _utc(value: object) -> datetime:
    """ISO 8601; with an offset it is converted to UTC, without one it is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise PydanticCustomError("datetime", "must be a date and time (ISO 8601)")
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
        except OverflowError:  # 0001-01-01T00:00+01:00 is before the first day there is
            raise PydanticCustomError("datetime", "must be a date and time between the years 1 and 9999") from None
    return parsed


def _day(value: object) -> date:
    try:
        if isinstance(value, str):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise PydanticCustomError("date", "must be a date (YYYY-MM-DD)")


UTC_NOTE = "ISO 8601; UTC unless it carries an offset"
UtcDateTime = Annotated[datetime, PlainValidator(_utc),
                        WithJsonSchema({"type": "string", "format": "date-time", "description": UTC_NOTE})]
Date = Annotated[date, PlainValidator(_day), WithJsonSchema({"type": "string", "format": "date"})]
Stripped = Annotated[str, StringConstraints(strip_whitespace=True)]
CoopChoice = Annotated[str, doc(description="The acting co-op's slug: needed only when several of "
                                            "the caller's co-ops could act")]


def _absent() -> Any:
    """The default of a field left out of a change: not set (see ``model_fields_set``)."""
    return None


def _unset(**schema: Any) -> Any:
    return Field(default_factory=_absent, json_schema_extra=schema or None)


def _text(name: str, **schema: Any) -> dict[str, Any]:
    return {"maxLength": MAX_LENGTHS[name], **schema}


_SKILLS: dict[str, Any] = {"minItems": 1, "maxItems": MAX_SKILLS, "description": "Skill slugs (see /skills)"}
_BUDGET: dict[str, Any] = {"minimum": 0, "maximum": MAX_BUDGET}
_REQUIREMENTS: dict[str, Any] = {"maxItems": MAX_REQUIREMENTS, "description": "Essential requirements",
                 "items": {"type": "string", "maxLength": MAX_REQUIREMENT_LENGTH}}


_NICE: dict[str, Any] = {**_REQUIREMENTS, "description": "Nice-to-have requirements"}


class CriterionInput(Body):
    name: Stripped = doc(maxLength=MAX_CRITERION_LENGTH)
    weight: int = doc(minimum=1, maximum=100, description="Per cent")


_CRITERIA: dict[str, Any] = {"maxItems": MAX_CRITERIA, "description": "Evaluation criteria, whose weights add up to "
                             "100 (none: bids are not scored); they cannot change once a bid is submitted"}


class JobUpdate(Body):
    """Fields of a job to change; those left out keep their values."""

    title: Stripped = _unset(**_text("title"))
    summary: Stripped = _unset(**_text("summary"))
    description: Stripped | None = _unset(**_text("description", description="Markdown"))
    kind: JobKind = _unset()
    skills: list[str] = _unset(**_SKILLS)
    budget_type: BudgetType = _unset()
    budget_min: int = _unset(**_BUDGET)
    budget_max: int | None = _unset(**_BUDGET)
    currency: Currency = _unset()
    work_mode: WorkMode = _unset()
    location: Stripped | None = _unset(**_text("location"))
    questions_deadline: UtcDateTime = _unset()
    bids_deadline: UtcDateTime = _unset()
    start_date: Date | None = _unset()
    visibility: Visibility = _unset()
    looking_for_partners: bool = _unset()
    requirements: list[Stripped] | None = _unset(**_REQUIREMENTS)
    nice_to_have: list[Stripped] | None = _unset(**_NICE)
    criteria: list[CriterionInput] | None = _unset(**_CRITERIA)


class JobCreate(JobUpdate):
    """A new job: a draft, or published at once."""

    title: Stripped = doc(**_text("title"))
    summary: Stripped = doc(**_text("summary"))
    description: Stripped | None = Field("", json_schema_extra=_text("description", description="Markdown"))
    kind: JobKind = JobKind.TENDER
    skills: list[str] = doc(**_SKILLS)
    budget_type: BudgetType = BudgetType.FIXED
    budget_min: int = doc(**_BUDGET)
    budget_max: int | None = Field(None, json_schema_extra=_BUDGET)
    currency: Currency = Currency.GBP
    work_mode: WorkMode = WorkMode.REMOTE
    location: Stripped | None = Field("", json_schema_extra=_text("location"))
    questions_deadline: UtcDateTime
    bids_deadline: UtcDateTime
    start_date: Date | None = None
    visibility: Visibility
    looking_for_partners: bool = False
    requirements: list[Stripped] | None = Field(None, json_schema_extra=_REQUIREMENTS)
    nice_to_have: list[Stripped] | None = Field(None, json_schema_extra=_NICE)
    criteria: list[CriterionInput] | None = Field(None, json_schema_extra=_CRITERIA)
    coop: CoopChoice | None = None
    publish: bool = doc(default=False, description="Publish at once (else a draft)")


class JobWithdrawal(Body):
    reason: str | None = doc(None, maxLength=MAX_REASON)


class QuestionCreate(Body):
    text: str = doc(maxLength=MAX_QUESTION)
    coop: CoopChoice | None = None


class BidChange(Body):
    """Fields of the co-op's bid; those left out keep their values."""

    price_type: BudgetType = _unset()
    amount: int | None = _unset(description="The fixed price, or the day rate")
    days: int | None = _unset(description="Days of work, with a day rate")
    available_from: Date | None = _unset()
    proposal: str = _unset(maxLength=MAX_PROPOSAL, description="Markdown")
    answers: list[RequirementAnswer] = _unset(description="Answers to the job's essential requirements")
    submit: bool = doc(default=False, description="Submit the bid (it must then be complete)")


class BidCreate(BidChange):
    coop: CoopChoice | None = None


class ScoreInput(Body):
    criterion_id: int
    score: int = doc(minimum=0, maximum=MAX_SCORE)
    comment: str = doc("", maxLength=MAX_COMMENT)


class ScoresChange(Body):
    """The caller's scores of a bid: one for every criterion of the job."""

    scores: list[ScoreInput] = doc(maxItems=MAX_CRITERIA)


class InterestCreate(Body):
    bid_by: Date = doc(description="The date the co-op will bid by")
    coop: CoopChoice | None = None


# --- query parameters (described here; read by api/base.py's int_arg and the views) -----------

class Paging(BaseModel):
    page: Annotated[int, Field(ge=1)] = 1
    per_page: Annotated[int, Field(ge=1, le=MAX_PER_PAGE)] = 20


class JobQuery(Paging):
    q: str = _unset(maxLength=MAX_QUERY, description="Full-text search")
    sort: str = _unset(enum=list(SORTS), default=SORTS[0], description="Order of search results (with q only)")
    skill: str = _unset(description="A skill's slug, name or synonym (a11y: Accessibility)")
    coop: str = _unset(description="The posting co-op's slug")
    kind: str = _unset(enum=values(JobKind))
    state: str = _unset(enum=[*values(JobState), STATE_ANY],
                        description=f"Default: open (without q), every state (with q); {STATE_ANY}: every state")
    visibility: str = _unset(enum=values(Visibility))
    looking_for_partners: bool = _unset(description="Not with q")


class CoopQuery(BaseModel):
    coop: CoopChoice = _unset()
