"""People: users, and the record of failed sign-ins used to slow down guessing."""
from __future__ import annotations

from typing import TYPE_CHECKING
import secrets
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..core.models import created_column
from ..extensions import db

if TYPE_CHECKING:
    from ..coops.models import Coop


def hash_method() -> str:
    """Werkzeug's hash method for new passwords: scrypt unless ``PASSWORD_HASH_METHOD`` says
    otherwise (the test suite sets a cheap one; stored hashes name their own method)."""
    return current_app.config.get("PASSWORD_HASH_METHOD") or "scrypt"


DEFAULT_TIME_ZONE = "Europe/London"


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    is_site_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at = created_column()
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When the owner of the address followed a confirmation link (or an administrator made the
    # account): until then the user may look around but not join a co-op or act.
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The last confirmation link or "someone tried to register" notice sent to the address:
    # such messages go out at most once a minute, so that nobody can flood an inbox.
    verification_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Part of every session and remember-me cookie of the user (``get_id``): a new one ends
    # them all (password changed or reset, signing out).
    session_token: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    # An IANA zone name: every date shown to the user, and typed by them, is in it.
    time_zone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIME_ZONE,
                                           server_default=DEFAULT_TIME_ZONE)

    coop_links: Mapped[list["CoopMember"]] = relationship(  # noqa: F821
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember-me cookie."""
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Every session and remember-me cookie of this user stops working."""
        self.session_token = secrets.token_hex(16)

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=hash_method())

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def coops(self) -> list[Coop]:
        return [link.coop for link in self.coop_links]

    def role_in(self, coop: Coop) -> str | None:
        for link in self.coop_links:
            if link.coop_id == coop.id:
                return link.role
        return None

    def is_member_of(self, coop: Coop) -> bool:
        return self.role_in(coop) is not None

    def is_admin_of(self, coop: Coop) -> bool:
        return self.role_in(coop) == "admin"

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class LoginFailure(db.Model):
    """One failed sign-in. ``device`` is the nonce of the client's device cookie when it held a
    valid one for the account tried: such failures count against that device alone; the others
    count per e-mail address and per client address."""

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_email_at", "email", "created_at"),
        Index("ix_login_failure_ip_at", "ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    device: Mapped[str | None] = mapped_column(String(32))
    created_at = created_column()
