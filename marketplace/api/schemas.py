"""What API v1 takes and answers, described once: the request bodies (checked with these
models) and the answers (built as these models by the serialisers). The OpenAPI document is
generated from them (api/spec.py).

The models check shapes and types only. What the values may be (deadlines in the future,
budget limits, the skills known, the visibilities a co-op may post with…) is the rules' to
say, in each feature's services, for the site's forms and the API alike; the limits appear
here as documentation (``doc``), not as checks.
"""
from datetime import date, datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError, PydanticUndefined

from ..bids.models import BidStatus, InterestState
from ..bids.services import MAX_PROPOSAL
from ..core.models import MAX_ROW_ID
from ..federation.models import Visibility
from ..evaluation.models import MAX_SCORE
from ..evaluation.services import MAX_COMMENT
from ..jobs.models import BudgetType, Currency, JobKind, JobState, RequirementKind, WorkMode
from ..jobs.services import (MAX_BUDGET, MAX_CRITERIA, MAX_CRITERION_LENGTH, MAX_LENGTHS, MAX_REQUIREMENT_LENGTH,
                             MAX_REQUIREMENTS, MAX_SKILLS)
from ..notifications.models import NotificationKind
from ..questions.services import MAX_QUESTION
from ..search import SORTS

MAX_PER_PAGE = 100
MAX_QUERY = 500
MAX_REASON = 2000  # the site's withdraw form's limit
MAX_ID = MAX_ROW_ID  # larger ids are a 404 before any query (RowIdConverter)
STATE_ANY = "any"  # the list's value for "every state" (JobFilters.state)


def doc(default: Any = PydanticUndefined, **schema: Any) -> Any:
    """A field whose ``schema`` (e.g. maxLength) only documents: the rules check the value."""
    return Field(default, json_schema_extra=schema)


def values(enum: Any) -> list[str]:
    return [member.value for member in enum]


# --- answers ---------------------------------------------------------------------------------

class Answer(BaseModel):
    """An answer's object: closed, so that a field a serialiser adds must be described."""

    model_config = ConfigDict(extra="forbid")


Time = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time", "description": "UTC, with a Z"})]
Day = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]


class ErrorDetail(Answer):
    code: str = doc(description="Stable, machine-readable: bad_parameter, not_found…")
    message: str
    fields: dict[str, str] = doc(description="What is wrong with each field or parameter at fault.")


class Error(Answer):
    error: ErrorDetail


class Skill(Answer):
    slug: str
    name: str
    group: str


class SkillList(Answer):
    items: list[Skill]


class CoopRef(Answer):
    slug: str
    name: str


class Coop(CoopRef):
    website: str
    location: str
    description: str = doc(description="Markdown")
    size: int | None = doc(description="Number of workers")


class Budget(Answer):
    type: BudgetType
    min: Annotated[int, Field(ge=0)]
    max: Annotated[int, Field(ge=0)] | None
    currency: Currency


class Award(Answer):
    winner: str = doc(description="The winning co-op, or the consortium and its lead")
    suppliers: list[CoopRef] = doc(description="The winning co-op, or every co-op of the winning consortium, "
                                               "the lead first")
    value: Annotated[int, Field(ge=0)] = doc(description="The agreed value, whole units of the currency")
    currency: Currency
    date: Time = doc(description="When the award was made")
    status: Literal["intended", "final"] = doc(
        description="intended: in its standstill period (AWARD_STANDSTILL_DAYS), until final_at; final after")
    final_at: Time = doc(description="When the award is (or was) final")


class Job(Answer):
    id: int
    title: str
    summary: str
    description: str = doc(description="Markdown")
    kind: JobKind
    state: JobState
    visibility: Visibility
    budget: Budget
    location: str
    work_mode: WorkMode
    questions_deadline: Time
    bids_deadline: Time
    start_date: Day | None
    looking_for_partners: bool
    published_at: Time | None
    coop: CoopRef
    skills: list[Skill]
    award: Award | None = doc(description="Who won and for how much, once awarded: for the members of the job's "
                                          "audience (the poster's co-op, coordinators, members of its networks), "
                                          "and for everyone when the poster published the outcome; else null")


class Document(Answer):
    id: int
    name: str = doc(description="The uploaded file's name, cleaned")
    media_type: str = doc(description="Told from the file's content")
    size: Annotated[int, Field(ge=1)] = doc(description="In bytes")
    url: str = doc(description="Where to download it (with the same token)")


class Criterion(Answer):
    id: int
    name: str
    weight: Annotated[int, Field(ge=1, le=100)] = doc(description="Per cent; a job's criteria add up to 100")


class Requirement(Answer):
    id: int
    text: str
    kind: RequirementKind = doc(description="essential: a bid answering no is flagged when bids are scored")


class JobDetail(Job):
    documents: list[Document] = doc(description="The job's specification files")
    requirements: list[Requirement] = doc(description="Every bid answers each")
    criteria: list[Criterion] = doc(description="How bids are evaluated (none: bids are not scored)")


class CriterionMean(Answer):
    criterion_id: int
    mean: float = doc(description=f"The scorers' mean score, 0 to {MAX_SCORE}")


class RankedBid(Answer):
    bid_id: int
    bidder: str
    rank: Annotated[int, Field(ge=1)] | None = doc(description="null until the caller has scored the bid")
    total: float | None = doc(description="Out of 100: the mean of the scorers' weighted totals; null until the "
                                          "caller has scored the bid (scorers see each other's scores only then)")
    scorers: Annotated[int, Field(ge=0)]
    scored_by_you: bool
    criteria: list[CriterionMean] = doc(description="Empty until the caller has scored the bid")
    flagged_requirements: list[int] = doc(description="Essential requirements the bid answered no to, or not at all")


class Ranking(Answer):
    job_id: int
    scoring_open: bool = doc(description="Scores may change (bids closed, the job not awarded or cancelled)")
    criteria: list[Criterion]
    items: list[RankedBid] = doc(description="The bids the caller scored, highest total first (ties in the order "
                                             "the bids came), then the others")


class Score(Answer):
    criterion_id: int
    score: Annotated[int, Field(ge=0, le=MAX_SCORE)]
    comment: str


class BidScores(Answer):
    bid_id: int
    scores: list[Score] = doc(description="The caller's own scores")
    ranked: RankedBid


class DocumentList(Answer):
    items: list[Document]


class DocumentUpload(BaseModel):
    """A multipart/form-data body: one or more files, each in a part named ``documents``."""

    documents: list[bytes] = doc(description="The files (PDF, OpenDocument, Word/Excel, PNG, JPEG, text or "
                                             "CSV; the type is told from the content; DOCUMENTS_MAX_MB each)")


class Page(Answer):
    page: Annotated[int, Field(ge=1)]
    per_page: Annotated[int, Field(ge=1, le=MAX_PER_PAGE)]
    total: Annotated[int, Field(ge=0)]
    total_capped: bool = doc(description="total is a lower bound")


class JobPage(Page):
    items: list[Job]
    notices: list[str] = Field(default_factory=list,
                               description="With q only: how the search was understood")


class Question(Answer):
    id: int
    job_id: int
    text: str
    answer: str | None
    asked_at: Time
    answered_at: Time | None
    coop: CoopRef | None = doc(description="The asking co-op: for the poster's co-op alone")
    documents: list[Document] = doc(default=[], description="Files sent with the question")
    answer_documents: list[Document] = doc(default=[], description="Files published with the answer")


class QuestionList(Answer):
    answered: list[Question]
    pending: list[Question]


class JobRef(Answer):
    id: int
    title: str


class RequirementAnswer(Answer):
    requirement_id: int
    answer: str


class Bid(Answer):
    id: int
    job: JobRef
    coop: CoopRef
    consortium_id: int | None
    status: BidStatus
    price_type: BudgetType
    amount: int | None
    days: int | None
    available_from: Day | None
    proposal: str
    answers: list[RequirementAnswer]
    feedback: str
    agreed_value: int | None
    agreed_start: Day | None
    submitted_at: Time | None
    withdrawn_at: Time | None
    decided_at: Time | None
    updated_at: Time


class BidPage(Page):
    items: list[Bid]


class Interest(Answer):
    job_id: int
    coop: CoopRef
    bid_by: Day
    state: InterestState


class Notification(Answer):
    id: int
    kind: NotificationKind
    job_id: int | None
    message: str
    url: str = doc(description="A path on the site")
    created_at: Time
    read_at: Time | None


class NotificationPage(Page):
    items: list[Notification]


class OpenApiDocument(BaseModel):
    """This document."""

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


# Open on purpose, with the key properties only: the full shape is the OCDS 1.1 release and
# release package schemas (https://standard.open-contracting.org/1.1/en/schema/).
Uri = Annotated[str, WithJsonSchema({"type": "string", "format": "uri"})]


class OcdsRelease(BaseModel):
    model_config = ConfigDict(extra="allow")

    ocid: str
    id: str
    date: Time
    tag: Annotated[list[str], Field(min_length=1)]
    initiationType: Literal["tender"]
    parties: list[dict[str, Any]]
    buyer: dict[str, Any] = doc(required=["id", "name"])
    tender: dict[str, Any] = doc(required=["id", "title", "status"])
    awards: list[dict[str, Any]] = Field(default_factory=list)
    bids: dict[str, Any] = Field(default_factory=dict, json_schema_extra={"required": ["details"]})


class OcdsLinks(BaseModel):
    next: Uri | None = None
    prev: Uri | None = None


class OcdsReleasePackage(BaseModel):
    model_config = ConfigDict(extra="allow")

    uri: Uri
    version: Literal["1.1"]
    publishedDate: Time
    publisher: dict[str, Any] = doc(required=["name"])
    extensions: list[Uri] = Field(default_factory=list)
    releases: list[OcdsRelease]
    links: OcdsLinks = Field(default_factory=OcdsLinks)


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
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
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
