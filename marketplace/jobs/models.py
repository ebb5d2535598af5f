"""Jobs: tenders, subcontracts and passed-on leads posted by a co-op."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import gettext
from sqlalchemy import (Boolean, CheckConstraint, Column, ColumnElement, Date, DateTime, ForeignKey, Index,
                        Integer, String, Table, Text, case, false)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from ..core.i18n import format_money
from ..core.models import choice_check, choice_column, created_column, updated_column
from ..core.time import utcnow
from ..extensions import db
from ..federation.models import Visibility

if TYPE_CHECKING:
    from ..accounts.models import User
    from ..coops.models import Coop
    from ..skills.models import Skill


class JobKind(StrEnum):
    TENDER = "tender"
    SUBCONTRACT = "subcontract"
    LEAD = "lead"

    @property
    def label(self) -> str:
        return {"tender": "Tender", "subcontract": "Subcontract", "lead": "Passed-on lead"}[self]


class JobStatus(StrEnum):
    """The stored lifecycle step; whether a published job is open is derived (``Job.state``)."""

    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"  # pulled by the poster while bids were open
    AWARDED = "awarded"  # one bid won, after the bids deadline
    CANCELLED = "cancelled"  # bids closed and the poster awarded nothing, with a reason


class JobState(StrEnum):
    """What a viewer is told: the lifecycle step with the deadlines applied."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    AWARDED = "awarded"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.capitalize()


# Steps that are stored as they are; only a published job's state depends on the clock.
_STORED_STATES = {
    JobStatus.DRAFT: JobState.DRAFT,
    JobStatus.WITHDRAWN: JobState.WITHDRAWN,
    JobStatus.AWARDED: JobState.AWARDED,
    JobStatus.CANCELLED: JobState.CANCELLED,
}
# The states in which bids have closed: the deadline passed while the job was published.
BIDS_CLOSED_STATES = frozenset({JobState.CLOSED, JobState.AWARDED, JobState.CANCELLED})


class BudgetType(StrEnum):
    FIXED = "fixed"
    DAY_RATE = "day_rate"

    @property
    def label(self) -> str:
        return {"fixed": "Fixed price", "day_rate": "Day rate"}[self]


class WorkMode(StrEnum):
    REMOTE = "remote"
    HYBRID = "hybrid"
    ON_SITE = "on_site"

    @property
    def label(self) -> str:
        return {"remote": "Remote", "hybrid": "Hybrid", "on_site": "On site"}[self]


class Currency(StrEnum):
    GBP = "GBP"
    EUR = "EUR"
    USD = "USD"

    @property
    def symbol(self) -> str:
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
        # The list pages: newest first, narrowed by the visibility rule (for visitors, whose
        # rule is a visibility and the published status, read in order from the second).
        Index("ix_job_published_at_id", "published_at", "id"),
        Index("ix_job_visibility_status_published", "visibility", "status", "published_at", "id"),
        # Counting open jobs (bids deadline ahead) a viewer may see reads only these indexes:
        # by visibility for visitors, by deadline for members (whose rule ORs in their co-ops).
        Index("ix_job_visibility_status_deadline", "visibility", "status", "bids_deadline"),
        Index("ix_job_deadline_audience", "bids_deadline", "status", "visibility", "coop_id"),
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
    # The poster's choice, when awarding, to show who won and for how much to anonymous
    # visitors too (members of the job's audience always see it: ``federation.policy.can_see_outcome``).
    outcome_public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = choice_column(JobStatus, default=JobStatus.DRAFT)
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="")
    cancelled_reason: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)
    awarded_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When the poster was told that bids closed (nothing happens at the deadline itself:
    # `flask bids notify-closed` (cron) sets this once; pages never write).
    bids_closed_notified_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at = created_column()
    updated_at = updated_column()

    coop: Mapped["Coop"] = relationship()  # noqa: F821
    posted_by: Mapped["User | None"] = relationship()  # noqa: F821
    skills: Mapped[list["Skill"]] = relationship(  # noqa: F821
        secondary=job_skill, order_by="Skill.name"
    )
    requirements: Mapped[list["JobRequirement"]] = relationship(
        back_populates="job", cascade="all, delete-orphan", order_by="JobRequirement.position"
    )
    criteria: Mapped[list["JobCriterion"]] = relationship(
        back_populates="job", cascade="all, delete-orphan", order_by="JobCriterion.position"
    )

    # Counts loaded only by the queries that ask for them (``bids.services.with_counts``),
    # in the same statement as the job; None elsewhere.
    bid_count: Mapped[int | None] = query_expression()
    interest_count: Mapped[int | None] = query_expression()
    answer_count: Mapped[int | None] = query_expression()

    # The derived state, in one place for Python (instances) and SQL (queries):
    # a published job is open until its bids deadline, closed after it. No job flips it.
    @hybrid_property
    def state(self) -> JobState:
        if self.status in _STORED_STATES:
            return _STORED_STATES[JobStatus(self.status)]
        return JobState.OPEN if self.bids_deadline > utcnow() else JobState.CLOSED

    @state.inplace.expression
    @classmethod
    def _state_expression(cls) -> ColumnElement[str]:
        return case(
            *((cls.status == status.value, state.value) for status, state in _STORED_STATES.items()),
            (cls.bids_deadline > utcnow(), JobState.OPEN.value),
            else_=JobState.CLOSED.value,
        )

    @classmethod
    def in_state(cls, state: JobState | str) -> ColumnElement[bool]:
        """``state == X`` as a WHERE clause that an index can serve (the CASE above cannot):
        the same rule, spelled for the query planner."""
        state = JobState(state)
        for status, stored in _STORED_STATES.items():
            if stored == state:
                return cls.status == status.value
        deadline = cls.bids_deadline > utcnow() if state == JobState.OPEN else cls.bids_deadline <= utcnow()
        return (cls.status == JobStatus.PUBLISHED.value) & deadline

    @hybrid_property
    def questions_open(self) -> bool:
        return self.status == JobStatus.PUBLISHED and self.questions_deadline > utcnow()

    @questions_open.inplace.expression
    @classmethod
    def _questions_open_expression(cls) -> ColumnElement[bool]:
        return (cls.status == JobStatus.PUBLISHED.value) & (cls.questions_deadline > utcnow())

    @property
    def is_open(self) -> bool:
        return self.state == JobState.OPEN

    @property
    def bids_closed(self) -> bool:
        """The bids deadline passed while the job was published: bids may be unsealed."""
        return self.state in BIDS_CLOSED_STATES

    @property
    def award_final_at(self) -> datetime | None:
        """When the award becomes final: ``AWARD_STANDSTILL_DAYS`` after it was made (derived,
        no job flips it); None when there is no award."""
        if self.awarded_at is None or self.status != JobStatus.AWARDED:
            return None
        return self.awarded_at + timedelta(days=current_app.config["AWARD_STANDSTILL_DAYS"])

    @property
    def award_intended(self) -> bool:
        """An award in its standstill period: not final yet (never without a standstill)."""
        final = self.award_final_at
        return (final is not None and self.awarded_at is not None  # (set whenever final is)
                and final > self.awarded_at and utcnow() < final)

    @property
    def kind_label(self) -> str:
        return JobKind(self.kind).label

    @property
    def visibility_label(self) -> str:
        return Visibility(self.visibility).label

    @property
    def work_mode_label(self) -> str:
        return WorkMode(self.work_mode).label

    @property
    def budget_label(self) -> str:
        amount = format_money(self.budget_min, self.currency)
        if self.budget_max and self.budget_max != self.budget_min:
            amount += "–" + format_money(self.budget_max, self.currency)
        return gettext("%(amount)s a day", amount=amount) if self.budget_type == BudgetType.DAY_RATE else amount

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.title!r}>"


class RequirementKind(StrEnum):
    ESSENTIAL = "essential"  # a bid that answers "no" or misses it is flagged in the ranking
    NICE_TO_HAVE = "nice_to_have"

    @property
    def label(self) -> str:
        return {"essential": "Essential", "nice_to_have": "Nice to have"}[self]


class JobRequirement(db.Model):
    """A requirement of a job, essential or nice to have: every bid answers each one."""

    __tablename__ = "job_requirement"
    __table_args__ = (Index("ix_job_requirement_job_id_position", "job_id", "position"),
                      choice_check("kind", RequirementKind))

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = choice_column(RequirementKind, default=RequirementKind.ESSENTIAL,
                                      server_default=RequirementKind.ESSENTIAL.value)

    @property
    def essential(self) -> bool:
        return self.kind == RequirementKind.ESSENTIAL

    @property
    def kind_label(self) -> str:
        return RequirementKind(self.kind).label

    job: Mapped[Job] = relationship(back_populates="requirements")

    def __repr__(self) -> str:
        return f"<JobRequirement {self.id} {self.text!r}>"


class JobCriterion(db.Model):
    """An evaluation criterion of a job and its weight in per cent: a job's criteria weigh
    100 % together (``jobs.services.criteria_errors``), and its bids are scored on each."""

    __tablename__ = "job_criterion"
    __table_args__ = (Index("ix_job_criterion_job_id_position", "job_id", "position"),
                      CheckConstraint("weight BETWEEN 1 AND 100", name="weight_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(120))
    weight: Mapped[int] = mapped_column(Integer)

    job: Mapped[Job] = relationship(back_populates="criteria")

    def __repr__(self) -> str:
        return f"<JobCriterion {self.id} {self.name!r} {self.weight}%>"
