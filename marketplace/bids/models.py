"""Bids and interests: a co-op's response to a job, and its word that one will follow."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_babel import gettext, ngettext
from sqlalchemy import (CheckConstraint, ColumnElement, Date, DateTime, ForeignKey, Index, Integer, Text,
                        UniqueConstraint, and_, case, exists, select, text)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from ..core.i18n import format_money
from ..core.models import choice_check, choice_column, created_column, updated_column
from ..core.time import utcnow
from ..extensions import db
from ..jobs.models import BudgetType

if TYPE_CHECKING:
    from ..accounts.models import User
    from ..consortia.models import Consortium
    from ..coops.models import Coop
    from ..jobs.models import Job, JobRequirement


class BidStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"
    SHORTLISTED = "shortlisted"
    AWARDED = "awarded"
    UNSUCCESSFUL = "unsuccessful"

    @property
    def label(self) -> str:
        return self.value.capitalize()


# A co-op has at most one live bid per job (enforced by uq_bid_live); withdrawn bids stay as records.
LIVE_STATUSES = frozenset(s for s in BidStatus if s != BidStatus.WITHDRAWN)
# Bids the poster has received: counted on the job page, reviewed once bids close.
RECEIVED_STATUSES = frozenset({BidStatus.SUBMITTED, BidStatus.SHORTLISTED, BidStatus.AWARDED,
                               BidStatus.UNSUCCESSFUL})
# Bids still in the running once bids close: the poster may shortlist, award or turn them down.
DECIDABLE_STATUSES = frozenset({BidStatus.SUBMITTED, BidStatus.SHORTLISTED})


def status_values(statuses: Iterable[StrEnum]) -> list[str]:
    """The values of a set of statuses, in a stable order (for ``IN (…)`` clauses)."""
    return sorted(s.value for s in statuses)


def price_text(price_type: str, amount: int | None, days: int | None, currency: str) -> str:
    """'£9,000', or '£450 a day × 20 days'."""
    if amount is None:
        return gettext("No price yet")
    price = format_money(amount, currency)
    if price_type == BudgetType.DAY_RATE:
        if days:
            return ngettext("%(price)s a day × %(num)d day", "%(price)s a day × %(num)d days", days, price=price)
        return gettext("%(price)s a day", price=price)
    return price


class Bid(db.Model):
    __tablename__ = "bid"
    __table_args__ = (
        choice_check("status", BidStatus),
        choice_check("price_type", BudgetType),
        CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
        CheckConstraint("days IS NULL OR days > 0", name="days_positive"),
        CheckConstraint("agreed_value IS NULL OR agreed_value >= 0", name="agreed_value_not_negative"),
        # One live bid per co-op per job: a second submit edits the first, even under a race.
        Index("uq_bid_live", "job_id", "coop_id", unique=True,
              sqlite_where=text("status <> 'withdrawn'"),
              postgresql_where=text("status <> 'withdrawn'")),
        # One live bid per consortium per job (its coop_id is the lead co-op, so uq_bid_live
        # also keeps the lead from bidding alone beside it).
        Index("uq_bid_live_consortium", "job_id", "consortium_id", unique=True,
              sqlite_where=text("status <> 'withdrawn' AND consortium_id IS NOT NULL"),
              postgresql_where=text("status <> 'withdrawn' AND consortium_id IS NOT NULL")),
        # At most one awarded bid per job.
        Index("uq_bid_awarded", "job_id", unique=True,
              sqlite_where=text("status = 'awarded'"),
              postgresql_where=text("status = 'awarded'")),
        Index("ix_bid_job_id_status", "job_id", "status"),
        Index("ix_bid_coop_id_id", "coop_id", "id"),
    )


    # Not stored: set by bids.services.save_bid to say whether that call created the bid or
    # edited one (a concurrent request's, perhaps), so an API can answer 201 or 200 truly.
    created_now = False

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    coop_id: Mapped[int] = mapped_column(ForeignKey("coop.id", ondelete="CASCADE"))
    # A consortium's bid: ``coop_id`` is then its lead co-op.
    consortium_id: Mapped[int | None] = mapped_column(ForeignKey("consortium.id", ondelete="CASCADE"),
                                                      index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    status: Mapped[str] = choice_column(BidStatus, default=BidStatus.DRAFT)
    price_type: Mapped[str] = choice_column(BudgetType, default=BudgetType.FIXED)
    # The fixed price, or the day rate; whole units of the job's currency.
    amount: Mapped[int | None] = mapped_column(Integer)
    days: Mapped[int | None] = mapped_column(Integer)
    available_from: Mapped[date | None] = mapped_column(Date)
    proposal: Mapped[str] = mapped_column(Text, default="")
    proposal_html: Mapped[str] = mapped_column(Text, default="")
    # The poster's word to the bidder when shortlisting, awarding or turning the bid down.
    feedback: Mapped[str] = mapped_column(Text, default="")
    agreed_value: Mapped[int | None] = mapped_column(Integer)
    # An unsuccessful bidder's request for feedback during the award's standstill period.
    feedback_request: Mapped[str] = mapped_column(Text, default="", server_default="")
    feedback_requested_at: Mapped[datetime | None] = mapped_column(DateTime)
    agreed_start: Mapped[date | None] = mapped_column(Date)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at = created_column()
    updated_at = updated_column()

    job: Mapped["Job"] = relationship()  # noqa: F821
    coop: Mapped["Coop"] = relationship()  # noqa: F821
    created_by: Mapped["User | None"] = relationship()  # noqa: F821
    consortium: Mapped["Consortium | None"] = relationship()  # noqa: F821
    answers: Mapped[list["BidAnswer"]] = relationship(
        back_populates="bid", cascade="all, delete-orphan"
    )

    @property
    def status_label(self) -> str:
        return BidStatus(self.status).label

    @property
    def bidder_name(self) -> str:
        """Who bids: the co-op, or the consortium and its lead."""
        if self.consortium_id is not None:
            assert self.consortium is not None  # loaded through consortium_id
            return f"{self.consortium.name} (consortium led by {self.coop.name})"
        return self.coop.name

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def total(self) -> int | None:
        """The whole price: the fixed price, or the day rate times the days."""
        if self.amount is None:
            return None
        if self.price_type == BudgetType.DAY_RATE:
            return self.amount * self.days if self.days else None
        return self.amount

    @property
    def price_label(self) -> str:
        return price_text(self.price_type, self.amount, self.days, self.job.currency)

    def money(self, amount: int | None) -> str:
        return format_money(amount, self.job.currency)

    def answer_to(self, requirement: JobRequirement) -> str:
        return next((a.answer for a in self.answers if a.requirement_id == requirement.id), "")

    def __repr__(self) -> str:
        return f"<Bid {self.id} job={self.job_id} coop={self.coop_id} {self.status}>"


class BidAnswer(db.Model):
    """A bid's answer to one of the job's essential requirements."""

    __tablename__ = "bid_answer"
    __table_args__ = (UniqueConstraint("bid_id", "requirement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bid.id", ondelete="CASCADE"))
    requirement_id: Mapped[int] = mapped_column(
        ForeignKey("job_requirement.id", ondelete="CASCADE"), index=True
    )
    answer: Mapped[str] = mapped_column(Text, default="")

    bid: Mapped[Bid] = relationship(back_populates="answers")


class InterestState(StrEnum):
    ACTIVE = "active"
    LAPSED = "lapsed"  # its date passed without a bid: it claims nothing any more
    BID = "bid"  # a bid followed

    @property
    def label(self) -> str:
        return {"active": "Intends to bid", "lapsed": "Lapsed", "bid": "Bid received"}[self]


class Interest(db.Model):
    """A co-op saying "we intend to bid by this date". It never blocks anyone else, and
    lapses by itself (``state``, derived from the date and the clock) if no bid follows."""

    __tablename__ = "interest"
    __table_args__ = (UniqueConstraint("job_id", "coop_id"), Index("ix_interest_coop_id", "coop_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    coop_id: Mapped[int] = mapped_column(ForeignKey("coop.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    bid_by: Mapped[date] = mapped_column(Date)
    created_at = created_column()
    updated_at = updated_column()

    job: Mapped["Job"] = relationship()  # noqa: F821
    coop: Mapped["Coop"] = relationship()  # noqa: F821
    # The co-op's received bid on the same job, if any (read-only: bids live on their own).
    received_bid: Mapped[Bid | None] = relationship(
        primaryjoin=lambda: and_(
            foreign(Bid.job_id) == Interest.job_id, foreign(Bid.coop_id) == Interest.coop_id,
            Bid.status.in_(status_values(RECEIVED_STATUSES)),
        ),
        viewonly=True, uselist=False,
    )

    # Derived in one place for Python and SQL; no job flips it.
    @hybrid_property
    def state(self) -> InterestState:
        if self.received_bid is not None:
            return InterestState.BID
        if self.bid_by < utcnow().date():
            return InterestState.LAPSED
        return InterestState.ACTIVE

    @state.inplace.expression
    @classmethod
    def _state_expression(cls) -> ColumnElement[str]:
        has_bid = exists(select(Bid.id).where(
            Bid.job_id == cls.job_id, Bid.coop_id == cls.coop_id,
            Bid.status.in_(status_values(RECEIVED_STATUSES)),
        ))
        return case(
            (has_bid, InterestState.BID.value),
            (cls.bid_by < utcnow().date(), InterestState.LAPSED.value),
            else_=InterestState.ACTIVE.value,
        )

    def __repr__(self) -> str:
        return f"<Interest job={self.job_id} coop={self.coop_id} by={self.bid_by}>"
