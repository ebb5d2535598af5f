"""Signing in, slowed down with device cookies, and where to go after it (callers commit). Apart
from ``services`` because the throttling is a mechanism of its own (OWASP's device cookies)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..core.time import utcnow
from ..extensions import db
from .models import LoginFailure, User, hash_method
from .rules import (DEVICE_SALT, EMAIL_MAX, AccountError, SignInThrottled, SiteClockSigner, find_user,
                    normalise_email)

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement


# --- signing in, slowed down with device cookies -----------------------------------------------
# OWASP's "Slow Down Online Guessing Attacks with Device Cookies": a browser that signed in to
# an account holds a signed cookie naming it. Its failures count against that cookie alone, so
# that no one elsewhere can slow down the account's owner on her own browser; every other
# client's failures count per account and per client address. Past LOGIN_MAX_FAILURES of them
# (4x per address) each attempt is refused, without checking the password, for a delay that
# doubles with each further failure, up to LOGIN_MAX_DELAY_MINUTES. Nothing sleeps.

def _window() -> timedelta:
    return timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=DEVICE_SALT, signer=SiteClockSigner)


def device_cookie_days() -> int:
    return current_app.config["DEVICE_COOKIE_DAYS"]


def make_device_cookie(user: User) -> str:
    """A new device cookie for ``user``'s browser: the account and a random nonce, signed."""
    return _device_serializer().dumps({"user": user.id, "nonce": secrets.token_hex(16)})


def device_nonce(cookie: str | None, user: User | None) -> str | None:
    """The nonce of ``cookie`` if it is a valid, unexpired device cookie of ``user``, else None."""
    if user is None or not cookie or len(cookie) > 200:
        return None
    try:
        payload = _device_serializer().loads(cookie, max_age=device_cookie_days() * 86400)
    except BadSignature:  # expired ones too
        return None
    if not isinstance(payload, dict) or payload.get("user") != user.id:
        return None
    nonce = payload.get("nonce")
    return nonce if isinstance(nonce, str) and len(nonce) == 32 else None


def _key(email: str) -> str:
    return normalise_email(email)[:EMAIL_MAX]


def _paused_until(since: datetime, allowed: int, *where: ColumnElement[bool]) -> datetime | None:
    """When the next attempt may be checked, by the failures matching ``where``: after
    ``allowed`` of them, the delay doubles with each one, from the last."""
    count, last = db.session.execute(
        select(func.count(LoginFailure.id), func.max(LoginFailure.created_at))
        .where(LoginFailure.created_at > since, *where)
    ).one()
    if count < allowed:
        return None
    config = current_app.config
    delay = min(config["LOGIN_DELAY_SECONDS"] * 2 ** min(count - allowed, 30), config["LOGIN_MAX_DELAY_MINUTES"] * 60)
    return last + timedelta(seconds=delay)


def paused_until(email: str, ip: str | None, device: str | None = None) -> datetime | None:
    """The moment the next attempt for ``email`` may be checked, or None if it may be now.

    ``device``: the nonce of the client's device cookie for this account; such a client is
    judged by its own failures alone. Any other client by the account's failures from clients
    without one, and by those from its address.
    """
    since = utcnow() - _window()
    allowed = current_app.config["LOGIN_MAX_FAILURES"]
    if device is not None:
        times = [_paused_until(since, allowed, LoginFailure.email == _key(email), LoginFailure.device == device)]
    else:
        untrusted = LoginFailure.device.is_(None)
        times = [_paused_until(since, allowed, LoginFailure.email == _key(email), untrusted),
                 _paused_until(since, 4 * allowed, LoginFailure.ip == ip, untrusted)]
    retry_at = max((t for t in times if t is not None), default=None)
    return retry_at if retry_at is not None and retry_at > utcnow() else None


def note_failure(email: str, ip: str | None, device: str | None = None) -> None:
    """Remember a failed sign-in; rows older than the window are pruned at the same time."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.created_at <= utcnow() - _window()))
    db.session.add(LoginFailure(email=_key(email), ip=ip, device=device))


def clear_failures(email: str) -> None:
    """Forget every failure on the account (its owner proved herself: a reset, an admin)."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == _key(email)))


def _forgive(email: str, ip: str | None, device: str | None) -> None:
    """After a successful sign-in, forget this client's own mistakes (not other clients')."""
    this_client = (LoginFailure.device == device if device is not None
                   else (LoginFailure.device.is_(None) & (LoginFailure.ip == ip)))
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == _key(email), this_client))


# Checked against when the email is unknown, so that the answer takes as long as for a
# wrong password and the two cannot be told apart (one per hash method in use).
_DUMMY_HASHES: dict[str, str] = {}


def _dummy_check(password: str) -> None:
    method = hash_method()
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("not a password of anyone", method=method)
    check_password_hash(_DUMMY_HASHES[method], password)


def authenticate(email: str, password: str, ip: str | None, device_cookie: str | None = None) -> User | None:
    """The user with this email and password, or None (a failure is noted: commit it too).

    ``device_cookie``: the client's device cookie, if any. Raises ``SignInThrottled`` without
    checking the password while this client must wait. On success, give the client a new
    device cookie (``make_device_cookie``).
    """
    user = find_user(email)
    device = device_nonce(device_cookie, user)
    retry_at = paused_until(email, ip, device)
    if retry_at is not None:
        raise SignInThrottled(retry_at)
    if user is None:
        _dummy_check(password or "")
    if user is None or not user.check_password(password or ""):
        note_failure(email, ip, device)
        return None
    if not user.active:
        raise AccountError("This account has been closed. Ask the site's administrators if this is a mistake.")
    _forgive(email, ip, device)
    user.last_login_at = utcnow()
    return user


# --- where to go after signing in ------------------------------------------------------------

def safe_next_url(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None.

    Only a relative path starting with a single "/" is accepted: "//host" and "/\\host" are
    read by browsers as another site, and browsers drop tabs and new lines, so any control
    character, white space or backslash is refused outright.
    """
    if not target or not isinstance(target, str) or len(target) > 2000:
        return None
    if any(ch <= " " or ch == "\x7f" or ch == "\\" for ch in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
