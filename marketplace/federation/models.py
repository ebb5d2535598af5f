"""Networks, co-ops' memberships of them, and their coordinators: the data of the visibility rule."""
from datetime import date
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import choice_check, choice_column, created_column
from ..extensions import db


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"
    GUEST = "guest"


class Visibility(StrEnum):
    COTECH = "cotech"
    FEDERATION = "federation"
    PUBLIC = "public"

    @property
    def label(self) -> str:
        return VISIBILITY_LABELS[self]


VISIBILITY_LABELS = {
    Visibility.COTECH: "CoTech only",
    Visibility.FEDERATION: "workers.coop members",
    Visibility.PUBLIC: "Public",
}


class Network(db.Model):
    """A body co-ops belong to. ``circle`` networks see their own posts; ``federation``
    networks' active members see posts open to the whole federation."""

    __tablename__ = "network"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    # Active members of a federation network can see `federation` posts.
    in_federation: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at = created_column()

    memberships: Mapped[list["NetworkMembership"]] = relationship(
        back_populates="network", cascade="all, delete-orphan"
    )
    coordinators: Mapped[list["NetworkCoordinator"]] = relationship(
        back_populates="network", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Network {self.slug}>"


class NetworkMembership(db.Model):
    __tablename__ = "network_membership"
    __table_args__ = (
        UniqueConstraint("coop_id", "network_id"),
        choice_check("status", MembershipStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coop_id: Mapped[int] = mapped_column(ForeignKey("coop.id", ondelete="CASCADE"), index=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("network.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = choice_column(MembershipStatus, default=MembershipStatus.PENDING)
    since: Mapped[date | None] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    created_at = created_column()

    coop: Mapped["Coop"] = relationship(back_populates="memberships")  # noqa: F821
    network: Mapped[Network] = relationship(back_populates="memberships")


class NetworkCoordinator(db.Model):
    """A user who coordinates a network: sees every post in its audience, manages memberships."""

    __tablename__ = "network_coordinator"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("network.id", ondelete="CASCADE"), primary_key=True
    )
    created_at = created_column()

    user: Mapped["User"] = relationship()  # noqa: F821
    network: Mapped[Network] = relationship(back_populates="coordinators")
