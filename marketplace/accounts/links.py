"""Signed, timed links sent by email: the confirmation of an address and the password reset (callers
commit). Apart from ``services`` because they are about tokens and their expiry, not accounts."""
from __future__ import annotations

from typing import TYPE_CHECKING

import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..audit.services import record
from ..core.models import compare_and_set
from ..core.time import utcnow
from ..extensions import db
from .models import User
from .rules import (RESET_SALT, VERIFICATION_MAIL_INTERVAL, VERIFY_SALT, AccountError, SiteClockSigner,
                    check_password)
from .signing_in import clear_failures

if TYPE_CHECKING:
    from typing import Any


# --- confirming the email address ------------------------------------------------------------

def note_verification_mail(user: User) -> bool:
    """May a confirmation link or a registration notice go to ``user``'s address now? At most
    one a minute, so that nobody can flood an inbox through the site. If so, this one is noted
    (the caller commits, then sends)."""
    now = utcnow()
    if user.verification_sent_at is not None and now - user.verification_sent_at < VERIFICATION_MAIL_INTERVAL:
        return False
    user.verification_sent_at = now
    return True


def _verify_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=VERIFY_SALT, signer=SiteClockSigner)


def make_verify_token(user: User) -> str:
    """The token of a confirmation link: it names the address, so that it stops working if the
    account's address changes."""
    return _verify_serializer().dumps({"user": user.id, "email": user.email})


def verify_link_hours() -> int:
    return current_app.config["EMAIL_VERIFY_HOURS"]


class VerifyLinkError(AccountError):
    """A confirmation link that cannot be used (expired, tampered with or stale)."""


def _signed_link(serializer: URLSafeTimedSerializer, token: str, max_age: int, error: type[AccountError],
                 expired: str, invalid: str) -> tuple[Any, User | None]:
    """The payload of a signed link, and the active user it names (or None); ``error`` with
    the message ``expired`` or ``invalid`` when the link cannot be read."""
    try:
        payload = serializer.loads(token, max_age=max_age)
    except SignatureExpired:
        raise error(expired) from None
    except BadSignature:
        raise error(invalid) from None
    user = None
    if isinstance(payload, dict) and isinstance(payload.get("user"), int):
        user = db.session.get(User, payload["user"])
    return payload, (user if user is not None and user.active else None)


def user_for_verify_token(token: str) -> User:
    """The user a confirmation link was made for, or ``VerifyLinkError`` saying why it cannot
    be used. A link for an address already confirmed still names its user (following it again
    is harmless)."""
    invalid = "This link is not valid. Check that you copied all of it."
    payload, user = _signed_link(_verify_serializer(), token, verify_link_hours() * 3600, VerifyLinkError,
                                 "This link has expired.", invalid)
    if user is None:
        raise VerifyLinkError(invalid)
    if not hmac.compare_digest(str(payload.get("email")), user.email):
        raise VerifyLinkError("This link was sent to an address that is no longer the account's.")
    return user


def confirm_email(user: User) -> bool:
    """Mark the address confirmed; False if it already was. Compare-and-set, so that the same
    link followed twice at once confirms (and writes an audit event) once."""
    done = compare_and_set(user, User.email == user.email, User.email_verified_at.is_(None),
                           email_verified_at=utcnow())
    if done:
        record("user.email_verified", user, actor=user)
    return bool(done)


# --- password reset --------------------------------------------------------------------------

def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=RESET_SALT, signer=SiteClockSigner
    )


def _password_fingerprint(user: User) -> str:
    """Changes whenever the password does: a used (or outdated) reset link stops working."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def make_reset_token(user: User) -> str:
    return _reset_serializer().dumps({"user": user.id, "password": _password_fingerprint(user)})


class ResetLinkError(AccountError):
    """A reset link that cannot be used (expired, tampered with or already used)."""


def user_for_reset_token(token: str) -> User:
    """The user a reset link was made for, or ``ResetLinkError`` saying why it cannot be used."""
    payload, user = _signed_link(
        _reset_serializer(), token, current_app.config["PASSWORD_RESET_MAX_AGE"], ResetLinkError,
        "This link has expired. Ask for a new one below.",
        "This link is not valid. Check that you copied all of it, or ask for a new one.",
    )
    if (user is None
            or not hmac.compare_digest(str(payload.get("password")), _password_fingerprint(user))):
        raise ResetLinkError("This link has already been used. Ask for a new one if you need to.")
    return user


def reset_password(user: User, password: str) -> None:
    """A new password from a reset link. The link reached the address, so it is confirmed too."""
    check_password(password)
    user.set_password(password)
    user.end_sessions()
    clear_failures(user.email)
    record("user.password_reset", user, actor=user)
    confirm_email(user)
