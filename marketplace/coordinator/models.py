"""What the coordinator keeps: each co-op's stated capacity, and invitations to bid."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import choice_check, choice_column, created_column, updated_column
from ..extensions import db


class CoopCapacity(db.Model):
    """A co-op's own word on how many people are free to start work, and its day rates (GBP).

    ``people_1m`` are free within the next month, ``people_3m`` within three months and
    ``people_6m`` within six. A missing row or a missing number means "not said".
    """

    __tablename__ = "coop_capacity"
    __table_args__ = (
        CheckConstraint("people_1m IS NULL OR people_1m >= 0", name="people_1m_not_negative"),
        CheckConstraint("people_3m IS NULL OR people_3m >= 0", name="people_3m_not_negative"),
        CheckConstraint("people_6m IS NULL OR people_6m >= 0", name="people_6m_not_negative"),
        CheckConstraint("day_rate_min IS NULL OR day_rate_min >= 0", name="day_rate_min_not_negative"),
        CheckConstraint("day_rate_max IS NULL OR day_rate_min IS NULL OR day_rate_max >= day_rate_min",
                        name="day_rate_range"),
    )

    coop_id: Mapped[int] = mapped_column(ForeignKey("coop.id", ondelete="CASCADE"), primary_key=True)
    people_1m: Mapped[int | None] = mapped_column(Integer)
    people_3m: Mapped[int | None] = mapped_column(Integer)
    people_6m: Mapped[int | None] = mapped_column(Integer)
    day_rate_min: Mapped[int | None] = mapped_column(Integer)
    day_rate_max: Mapped[int | None] = mapped_column(Integer)
    updated_at = updated_column()

    coop: Mapped["Coop"] = relationship()  # noqa: F821

    @property
    def is_empty(self) -> bool:
        return all(v is None for v in (self.people_1m, self.people_3m, self.people_6m,
                                       self.day_rate_min, self.day_rate_max))

    @property
    def day_rate_label(self) -> str:
        low, high = self.day_rate_min, self.day_rate_max
        if low is None and high is None:
            return ""
        if low is not None and high is not None and low != high:
            return f"£{low:,}–£{high:,} a day"
        return f"£{(low if low is not None else high):,} a day"


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return {"pending": "Waiting for an answer", "accepted": "Accepted",
                "declined": "Declined"}[self]


class Invitation(db.Model):
    """An invitation to a co-op to bid on a job (a referral), from the poster's co-op or a
    coordinator. One per co-op and job."""

    __tablename__ = "invitation"
    __table_args__ = (
        UniqueConstraint("job_id", "coop_id"),
        choice_check("status", InvitationStatus),
        Index("ix_invitation_coop_id_created_at", "coop_id", "created_at"),
        Index("ix_invitation_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    coop_id: Mapped[int] = mapped_column(ForeignKey("coop.id", ondelete="CASCADE"))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    status: Mapped[str] = choice_column(InvitationStatus, default=InvitationStatus.PENDING)
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    created_at = created_column()
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    job: Mapped["Job"] = relationship()  # noqa: F821
    coop: Mapped["Coop"] = relationship()  # noqa: F821
    invited_by: Mapped["User | None"] = relationship(foreign_keys=[invited_by_id])  # noqa: F821
    answered_by: Mapped["User | None"] = relationship(foreign_keys=[answered_by_id])  # noqa: F821

    @property
    def status_label(self) -> str:
        return InvitationStatus(self.status).label

    @property
    def is_pending(self) -> bool:
        return self.status == InvitationStatus.PENDING

    def __repr__(self) -> str:
        return f"<Invitation job={self.job_id} coop={self.coop_id} {self.status}>"


# Indexes on bids for the coordinator's reads. Recent awards per co-op (the fairness of the
# ranking, the coordinator's dashboard) come from a small partial index.
from ..bids.models import Bid  # noqa: E402

Index("ix_bid_awarded_decided_at", Bid.decided_at, Bid.coop_id,
      sqlite_where=text("status = 'awarded'"), postgresql_where=text("status = 'awarded'"))
# A co-op's past bids by status with their jobs, read without touching the bids themselves
# (the track record of the ranking).
Index("ix_bid_coop_id_status_job_id", Bid.coop_id, Bid.status, Bid.job_id)
