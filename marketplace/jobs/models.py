"""Jobs: tenders, subcontracts and passed-on leads posted by a co-op."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (Boolean, CheckConstraint, Column, Date, DateTime, ForeignKey, Index,
                        Integer, String, Table, Text, case)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import choice_check, choice_column, created_column, updated_column
from ..core.time import utcnow
from ..extensions import db
from ..federation.models import Visibility


class JobKind(StrEnum):
    TENDER = "tender"
    SUBCONTRACT = "subcontract"
    LEAD = "lead"

    @property
    def label(self):
        return {"tender": "Tender", "subcontract": "Subcontract", "lead": "Passed-on lead"}[self]


class JobStatus(StrEnum):
    """The stored lifecycle step; whether a published job is open is derived (``Job.state``)."""

    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class JobState(StrEnum):
    """What a viewer is told: the lifecycle step with the deadlines applied."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"

    @property
    def label(self):
        return self.value.capitalize()


class BudgetType(StrEnum):
    FIXED = "fixed"
    DAY_RATE = "day_rate"

    @property
    def label(self):
        return {"fixed": "Fixed price", "day_rate": "Day rate"}[self]


class WorkMode(StrEnum):
    REMOTE = "remote"
    HYBRID = "hybrid"
    ON_SITE = "on_site"

    @property
    def label(self):
        return {"remote": "Remote", "hybrid": "Hybrid", "on_site": "On site"}[self]


class Currency(StrEnum):
    GBP = "GBP"
    EUR = "EUR"
    USD = "USD"

    @property
    def symbol(self):
        return {"GBP": "£", "EUR": "€", "USD": "$"}[self]


job_skill = Table(
    "job_skill",
    db.metadata,
    Column("job_id", Integer, ForeignKey("job.id", ondelete="CASCADE"), primary_key=True),
    Column("skill_id", Integer, ForeignKey("skill.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_job_skill_skill_id_job_id", "skill_id", "job_id"),
)


class Job(db.Model):
    __tablename__ = "job"
    __table_args__ = (
        choice_check("kind", JobKind),
        choice_check("status", JobStatus),
        choice_check("visibility", Visibility),
        choice_check("budget_type", BudgetType),
        choice_check("work_mode", WorkMode),
        choice_check("currency", Currency),
        CheckConstraint("budget_min >= 0", name="budget_min_not_negative"),
        CheckConstraint("budget_max IS NULL OR budget_max >= budget_min", name="budget_range"),
        CheckConstraint("bids_deadline > questions_deadline", name="deadlines_in_order"),
        # The list pages: newest first, narrowed by the visibility rule.
        Index("ix_job_published_at_id", "published_at", "id"),
        Index("ix_job_visibility_status", "visibility", "status"),
        Index("ix_job_bids_deadline", "bids_deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coop_id: Mapped[int] = mapped_column(ForeignKey("coop.id", ondelete="CASCADE"), index=True)
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = choice_column(JobKind, default=JobKind.TENDER)
    budget_type: Mapped[str] = choice_column(BudgetType, default=BudgetType.FIXED)
    budget_min: Mapped[int] = mapped_column(Integer, default=0)
    budget_max: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = choice_column(Currency, default=Currency.GBP)
    location: Mapped[str] = mapped_column(String(120), default="")
    work_mode: Mapped[str] = choice_column(WorkMode, default=WorkMode.REMOTE)
    questions_deadline: Mapped[datetime] = mapped_column(DateTime)
    bids_deadline: Mapped[datetime] = mapped_column(DateTime)
    start_date: Mapped[date | None] = mapped_column(Date)
    visibility: Mapped[str] = choice_column(Visibility, default=Visibility.COTECH)
    looking_for_partners: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = choice_column(JobStatus, default=JobStatus.DRAFT)
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at = created_column()
    updated_at = updated_column()

    coop: Mapped["Coop"] = relationship()  # noqa: F821
    posted_by: Mapped["User | None"] = relationship()  # noqa: F821
    skills: Mapped[list["Skill"]] = relationship(  # noqa: F821
        secondary=job_skill, order_by="Skill.name"
    )

    # The derived state, in one place for Python (instances) and SQL (queries):
    # a published job is open until its bids deadline, closed after it. No job flips it.
    @hybrid_property
    def state(self):
        if self.status == JobStatus.DRAFT:
            return JobState.DRAFT
        if self.status == JobStatus.WITHDRAWN:
            return JobState.WITHDRAWN
        return JobState.OPEN if self.bids_deadline > utcnow() else JobState.CLOSED

    @state.inplace.expression
    @classmethod
    def _state_expression(cls):
        return case(
            (cls.status == JobStatus.DRAFT.value, JobState.DRAFT.value),
            (cls.status == JobStatus.WITHDRAWN.value, JobState.WITHDRAWN.value),
            (cls.bids_deadline > utcnow(), JobState.OPEN.value),
            else_=JobState.CLOSED.value,
        )

    @hybrid_property
    def questions_open(self):
        return self.status == JobStatus.PUBLISHED and self.questions_deadline > utcnow()

    @questions_open.inplace.expression
    @classmethod
    def _questions_open_expression(cls):
        return (cls.status == JobStatus.PUBLISHED.value) & (cls.questions_deadline > utcnow())

    @property
    def is_open(self):
        return self.state == JobState.OPEN

    @property
    def kind_label(self):
        return JobKind(self.kind).label

    @property
    def visibility_label(self):
        return Visibility(self.visibility).label

    @property
    def work_mode_label(self):
        return WorkMode(self.work_mode).label

    @property
    def budget_label(self):
        symbol = Currency(self.currency).symbol
        amount = f"{symbol}{self.budget_min:,}"
        if self.budget_max and self.budget_max != self.budget_min:
            amount += f"–{symbol}{self.budget_max:,}"
        return amount + (" a day" if self.budget_type == BudgetType.DAY_RATE else "")

    def __repr__(self):
        return f"<Job {self.id} {self.title!r}>"
