"""Co-ops, their members and requests to join them."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (Column, DateTime, ForeignKey, Index, Integer, String, Table, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import choice_check, choice_column, created_column, updated_column
from ..extensions import db


class CoopRole(StrEnum):
    MEMBER = "member"
    ADMIN = "admin"


class JoinRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


JOIN_REQUEST_LABELS = {
    JoinRequestStatus.PENDING: "Waiting for an answer",
    JoinRequestStatus.APPROVED: "Approved",
    JoinRequestStatus.DECLINED: "Declined",
}


coop_skill = Table(
    "coop_skill",
    db.metadata,
    Column("coop_id", Integer, ForeignKey("coop.id", ondelete="CASCADE"), primary_key=True),
    Column("skill_id", Integer, ForeignKey("skill.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_coop_skill_skill_id", "skill_id"),
)


class Coop(db.Model):
    __tablename__ = "coop"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    website: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int | None] = mapped_column(Integer)
    location: Mapped[str] = mapped_column(String(120), default="")
    created_at = created_column()
    updated_at = updated_column()

    members: Mapped[list["CoopMember"]] = relationship(
        back_populates="coop", cascade="all, delete-orphan"
    )
    memberships: Mapped[list["NetworkMembership"]] = relationship(  # noqa: F821
        back_populates="coop", cascade="all, delete-orphan"
    )
    skills: Mapped[list["Skill"]] = relationship(  # noqa: F821
        secondary=coop_skill, back_populates="coops", order_by="Skill.name"
    )

    def __repr__(self) -> str:
        return f"<Coop {self.slug}>"


class CoopMember(db.Model):
    __tablename__ = "coop_member"
    __table_args__ = (UniqueConstraint("coop_id", "user_id"), choice_check("role", CoopRole))

    id: Mapped[int] = mapped_column(primary_key=True)
    coop_id: Mapped[int] = mapped_column(ForeignKey("coop.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = choice_column(CoopRole, default=CoopRole.MEMBER)
    created_at = created_column()

    coop: Mapped[Coop] = relationship(back_populates="members")
    user: Mapped["User"] = relationship(back_populates="coop_links")  # noqa: F821

    @property
    def is_admin(self) -> bool:
        return self.role == CoopRole.ADMIN


class JoinRequest(db.Model):
    """A user asking to join a co-op; the co-op's admins approve or decline."""

    __tablename__ = "join_request"
    __table_args__ = (
        choice_check("status", JoinRequestStatus),
        # One open request per user and co-op.
        Index(
            "uq_join_request_pending", "coop_id", "user_id", unique=True,
            sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coop_id: Mapped[int] = mapped_column(ForeignKey("coop.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = choice_column(JoinRequestStatus, default=JoinRequestStatus.PENDING)
    created_at = created_column()
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    coop: Mapped[Coop] = relationship()
    user: Mapped["User"] = relationship(foreign_keys=[user_id])  # noqa: F821

    @property
    def status_label(self) -> str:
        return JOIN_REQUEST_LABELS[JoinRequestStatus(self.status)]
