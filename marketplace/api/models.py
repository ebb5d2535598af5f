"""Personal API tokens, sent as ``Authorization: Bearer …`` and acting as their user; the
requests made under an ``Idempotency-Key`` and the answers they got (api/idempotency.py)."""
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..core.time import utcnow
from ..core.tokens import PersonalToken
from ..extensions import db

MAX_IDEMPOTENCY_KEY = 255


class ApiToken(PersonalToken, db.Model):
    __tablename__ = "api_token"
    AUDIT = "api_token"
    NOUN, NOUNS = "API token", "API tokens"


class IdempotentRequest(db.Model):
    """One caller's request under one key, and the answer it got once it committed."""

    __tablename__ = "idempotent_request"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(MAX_IDEMPOTENCY_KEY))
    fingerprint: Mapped[str] = mapped_column(String(64))  # method, path and body
    status: Mapped[int | None] = mapped_column(Integer)   # None while the request is being worked on
    body: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    claimed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
