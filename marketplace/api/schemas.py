"""What API v1 takes and answers, described once: the request bodies (checked with these
models, in ``bodies``, named here too) and the answers (built as these models by the
serialisers, here). The OpenAPI document is generated from them (api/spec.py).

The models check shapes and types only. What the values may be (deadlines in the future,
budget limits, the skills known, the visibilities a co-op may post with…) is the rules' to
say, in each feature's services, for the site's forms and the API alike; the limits appear
here as documentation (``doc``), not as checks.
"""
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from ..bids.models import BidStatus, InterestState
from ..federation.models import Visibility
from ..evaluation.models import MAX_SCORE
from ..jobs.models import BudgetType, Currency, JobKind, JobState, RequirementKind, WorkMode
from ..notifications.models import NotificationKind
from .bodies import (Body, BidChange, BidCreate, CoopChoice, CoopQuery, CriterionInput, Date,  # noqa: F401
                     InterestCreate, JobCreate, JobQuery, JobUpdate, JobWithdrawal, Paging, QuestionCreate,
                     ScoreInput, ScoresChange, Stripped, UtcDateTime)
from .fields import (MAX_ID, MAX_PER_PAGE, MAX_QUERY, MAX_REASON, STATE_ANY, Answer,  # noqa: F401
                     RequirementAnswer, doc, values)


# --- answers ---------------------------------------------------------------------------------

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
