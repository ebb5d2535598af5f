"""Personal secret tokens (private feed addresses, API tokens), made, listed, revoked and looked
up the same way: only a SHA-256 of the token is stored, so the plain token is shown once."""
from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import DateTime, ForeignKey, String, select
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from ..extensions import db
from .hooks import hook
from .models import created_column
from .rules import RuleError
from .time import utcnow

if TYPE_CHECKING:
    from typing import Any

MAX_TOKENS_PER_USER = 20
# A token's last use is written at most this often (feed readers and scripts poll; each poll
# need not write).
LAST_USED_RESOLUTION = timedelta(minutes=5)
MAX_TOKEN_LENGTH = 100


T = TypeVar("T", bound="PersonalToken")


class TokenRuleError(RuleError):
    """A change that the rules refuse; ``field`` names the form field at fault, if any."""


class PersonalToken:
    """Columns of a per-user secret token. ``AUDIT`` names its audit events; ``NOUN`` and
    ``NOUNS`` are how messages speak of it."""

    AUDIT = "token"
    NOUN, NOUNS = "token", "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(80), default="")
    created_at = created_column()
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    if TYPE_CHECKING:
        # db.Model's constructor, which every token class inherits along with these columns.
        def __init__(self, **columns: Any) -> None: ...

    @declared_attr
    def user_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)

    @declared_attr
    def user(cls) -> Mapped["User"]:  # noqa: F821
        return relationship()


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def create_token(model: type[T], user: Any, label: str = "") -> tuple[T, str]:
    """Make a ``model`` token for ``user``; returns (token, plain token). Show the plain token once."""
    live = db.session.scalar(
        select(db.func.count(model.id)).where(model.user_id == user.id, model.revoked_at.is_(None))
    )
    if (live or 0) >= MAX_TOKENS_PER_USER:
        raise TokenRuleError(
            f"You have {MAX_TOKENS_PER_USER} {model.NOUNS} already: revoke one you no longer use first.",
            field="label",
        )
    plain = secrets.token_urlsafe(32)
    token = model(user=user, token_hash=hash_token(plain), label=(label or "").strip()[:80])
    db.session.add(token)
    hook("record")(f"{model.AUDIT}.created", token, actor=user, label=token.label)
    return token, plain


def user_tokens(model: type[T], user: Any) -> list[T]:
    """The user's tokens, live ones first, newest first."""
    return list(db.session.scalars(
        select(model).where(model.user_id == user.id)
        .order_by(model.revoked_at.is_not(None), model.created_at.desc(), model.id.desc())
    ))


def revoke_token(token: PersonalToken, user: Any) -> None:
    if token.user_id != user.id:
        raise TokenRuleError(f"This is not one of your {token.NOUNS}.")
    if token.revoked_at is not None:
        raise TokenRuleError(f"This {token.NOUN} was already revoked.")
    token.revoked_at = utcnow()
    hook("record")(f"{token.AUDIT}.revoked", token, actor=user, label=token.label)


def owner_of(model: type[PersonalToken], plain: str | None) -> Any:
    """The active user of a live ``model`` token, or None for an unknown, revoked or malformed
    token and for a deactivated user. Notes the token's use (the caller commits)."""
    if not plain or len(plain) > MAX_TOKEN_LENGTH:
        return None
    token = db.session.scalar(select(model).where(model.token_hash == hash_token(plain)))
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token.user


def create_from_form(model: type[PersonalToken], user: Any, form: Any) -> str | None:
    """The body of a "make a token" form's view: the plain token, or None with the refusal of
    the rules shown on the form (nothing saved)."""
    from .work import save_change

    if not form.validate_on_submit():
        return None
    saved = save_change(lambda: create_token(model, user, form.label.data), form)
    return saved.result[1] if saved else None


def revoke_own(model: type[PersonalToken], token_id: int, user: Any, revoked_message: str) -> None:
    """The body of a "Revoke" button's view: 404 for a token that is not ``user``'s (never
    confirm it exists), 400 without a valid form; a refusal of the rules is flashed."""
    from flask import abort

    from .forms import ActionForm
    from .work import save_change

    token = db.session.get(model, token_id)
    if token is None or token.user_id != user.id:
        abort(404)
    if not ActionForm().validate():
        abort(400)
    save_change(lambda: revoke_token(token, user), success=revoked_message)
