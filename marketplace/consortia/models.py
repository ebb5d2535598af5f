"""Consortia, their members (with role and agreed shares), comments on the split, and
co-ops offering themselves as partners on a job."""
from datetime import datetime
from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import (CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import choice_check, choice_column, created_column, updated_column
from ..extensions import db


class ConsortiumStatus(StrEnum):
    FORMING = "forming"
    DISSOLVED = "dissolved"

    @property
    def label(self) -> str:
        return {"forming": "Active", "dissolved": "Dissolved"}[self]


class MemberStatus(StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    # The split changed after the member accepted: it must accept the new one.
    REACCEPT = "reaccept"
    DECLINED = "declined"
    LEFT = "left"

    @property
    def label(self) -> str:
        return MEMBER_STATUS_LABELS[self]


MEMBER_STATUS_LABELS = {
    MemberStatus.INVITED: "Invited, waiting for an answer",
    MemberStatus.ACCEPTED: "Accepted",
    MemberStatus.REACCEPT: "Shares changed: waiting for re-acceptance",
    MemberStatus.DECLINED: "Declined",
    MemberStatus.LEFT: "Left",
}

# In the team: they agreed to take part (the split may await their re-acceptance). They see
# the consortium's bid, and may not bid alone on its job.
IN_TEAM = frozenset({MemberStatus.ACCEPTED, MemberStatus.REACCEPT})
# Taking part in the conversation: the team, and co-ops still deciding on an invitation.
PARTICIPATING = IN_TEAM | {MemberStatus.INVITED}


def values(statuses: Iterable[StrEnum]) -> list[str]:
    return sorted(s.value for s in statuses)


class Consortium(db.Model):
    """Co-ops bidding together: for one job, or a standing team (``job_id`` empty) for
    repeated joint work. The lead co-op bids in the consortium's name."""

    __tablename__ = "consortium"
    __table_args__ = (choice_check("status", ConsortiumStatus),
                      Index("ix_consortium_job_id", "job_id"),
                      Index("ix_consortium_lead_coop_id", "lead_coop_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    lead_coop_id: Mapped[int] = mapped_column(ForeignKey("coop.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = choice_column(ConsortiumStatus, default=ConsortiumStatus.FORMING)
    dissolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at = created_column()
    updated_at = updated_column()

    job: Mapped["Job | None"] = relationship()  # noqa: F821
    lead_coop: Mapped["Coop"] = relationship()  # noqa: F821
    members: Mapped[list["ConsortiumMember"]] = relationship(
        back_populates="consortium", cascade="all, delete-orphan", order_by="ConsortiumMember.id"
    )
    comments: Mapped[list["ConsortiumComment"]] = relationship(
        back_populates="consortium", cascade="all, delete-orphan", order_by="ConsortiumComment.id"
    )

    @property
    def is_standing(self) -> bool:
        return self.job_id is None

    @property
    def is_dissolved(self) -> bool:
        return self.status == ConsortiumStatus.DISSOLVED

    @property
    def status_label(self) -> str:
        return ConsortiumStatus(self.status).label

    @property
    def participants(self) -> "list[ConsortiumMember]":
        return [m for m in self.members if m.status in PARTICIPATING]

    @property
    def team(self) -> "list[ConsortiumMember]":
        return [m for m in self.members if m.status in IN_TEAM]

    def member_for(self, coop_id: int) -> "ConsortiumMember | None":
        return next((m for m in self.members if m.coop_id == coop_id), None)

    def totals(self) -> tuple[int, int]:
        """(work %, money %) over the co-ops taking part."""
        people = self.participants
        return sum(m.work_share for m in people), sum(m.money_share for m in people)

    def __repr__(self) -> str:
        return f"<Consortium {self.id} {self.name!r} lead={self.lead_coop_id} job={self.job_id}>"


class ConsortiumMember(db.Model):
    """A co-op in a consortium: its role and its agreed share of the work and of the money."""

    __tablename__ = "consortium_member"
    __table_args__ = (
        UniqueConstraint("consortium_id", "coop_id"),
        choice_check("status", MemberStatus),
        CheckConstraint("work_share >= 0 AND work_share <= 100", name="work_share_percent"),
        CheckConstraint("money_share >= 0 AND money_share <= 100", name="money_share_percent"),
        Index("ix_consortium_member_coop_id_status", "coop_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consortium_id: Mapped[int] = mapped_column(ForeignKey("consortium.id", ondelete="CASCADE"))
    coop_id: Mapped[int] = mapped_column(ForeignKey("coop.id", ondelete="CASCADE"))
    status: Mapped[str] = choice_column(MemberStatus, default=MemberStatus.INVITED)
    role: Mapped[str] = mapped_column(String(120), default="")
    work_share: Mapped[int] = mapped_column(Integer, default=0)
    money_share: Mapped[int] = mapped_column(Integer, default=0)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at = created_column()
    updated_at = updated_column()

    consortium: Mapped[Consortium] = relationship(back_populates="members")
    coop: Mapped["Coop"] = relationship()  # noqa: F821

    @property
    def status_label(self) -> str:
        return MemberStatus(self.status).label

    @property
    def is_lead(self) -> bool:
        return self.coop_id == self.consortium.lead_coop_id

    def __repr__(self) -> str:
        return f"<ConsortiumMember consortium={self.consortium_id} coop={self.coop_id} {self.status}>"


class ConsortiumComment(db.Model):
    """A comment on the consortium's page (the split, the roles): for its members only."""

    __tablename__ = "consortium_comment"
    __table_args__ = (Index("ix_consortium_comment_consortium_id_id", "consortium_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consortium_id: Mapped[int] = mapped_column(ForeignKey("consortium.id", ondelete="CASCADE"))
    coop_id: Mapped[int] = mapped_column(ForeignKey("coop.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    text_html: Mapped[str] = mapped_column(Text, default="")
    created_at = created_column()

    consortium: Mapped[Consortium] = relationship(back_populates="comments")
    coop: Mapped["Coop"] = relationship()  # noqa: F821
    user: Mapped["User | None"] = relationship()  # noqa: F821


class PartnerOffer(db.Model):
    """A co-op offering itself as a partner on a job; the leads of the job's consortia see it."""

    __tablename__ = "partner_offer"
    __table_args__ = (UniqueConstraint("job_id", "coop_id"), Index("ix_partner_offer_coop_id", "coop_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    coop_id: Mapped[int] = mapped_column(ForeignKey("coop.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(String(500), default="")
    created_at = created_column()
    updated_at = updated_column()

    job: Mapped["Job"] = relationship()  # noqa: F821
    coop: Mapped["Coop"] = relationship()  # noqa: F821
