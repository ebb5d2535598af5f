"""Accounts: registering and confirming the email address, who may act, signing in (slowed
down with device cookies), password resets and changes, and loading users for Flask-Login.
Business rules as plain functions; callers commit."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import hashlib
import hmac
import math
import secrets
from datetime import timedelta, timezone
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit.services import record
from ..coops.models import Coop, CoopMember, CoopRole, JoinRequest, JoinRequestStatus
from ..core.models import compare_and_set
from ..core.rules import RuleError
from ..core.time import utcnow
from ..extensions import db
from ..federation.models import NetworkCoordinator
from .models import LoginFailure, User, hash_method

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from typing import Any
    from typing import Sequence
    from ..federation.models import Network

NAME_MAX = 120
EMAIL_MAX = 254
PASSWORD_MIN = 10
# A generous cap: hashing megabytes of "password" on every attempt would be a cheap attack.
PASSWORD_MAX = 200
EMAIL_TAKEN = "An account with this email address already exists. Sign in, or reset your password."
BAD_CREDENTIALS = "The email address or password is not right."
RESET_SALT = "password-reset"
VERIFY_SALT = "email-verification"
DEVICE_SALT = "device-cookie"
# The zones a user may choose: the IANA "Area/City" names (not the legacy aliases such as
# "GB" or "EST5EDT"), and UTC.
TIME_ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))) + ["UTC"]
DEVICE_COOKIE = "device"
# Confirmation links and "someone tried to register" notices: at most one a minute per address.
VERIFICATION_MAIL_INTERVAL = timedelta(minutes=1)
UNCONFIRMED = ("Confirm your email address first: we sent a link to {email}. Until you follow it, you can "
               "look around but not join or register a co-op, post work, bid or use API tokens.")
UNCONFIRMED_OTHER = ("{name} has not confirmed their email address yet: they can join once they have "
                     "followed the link we sent them.")


class AccountError(RuleError):
    """A change that the rules refuse; ``field`` names the form field at fault, if any."""


class SignInThrottled(AccountError):
    """Too many failed sign-ins: no attempt is checked until ``retry_at`` (naive UTC)."""

    def __init__(self, retry_at: datetime) -> None:
        self.retry_at = retry_at
        # Rounded up: "try again in 1 minute" must not come a few seconds too early.
        self.seconds = max(1, math.ceil((retry_at - utcnow()).total_seconds()))
        minutes = math.ceil(self.seconds / 60)
        super().__init__(f"Too many attempts: try again in {minutes} minute{'' if minutes == 1 else 's'}.")


def load_user(session_id: str) -> User | None:
    """The user of a session or remember-me cookie (``User.get_id``), while its token is the
    user's current one: a password change or a sign-out ends every other copy."""
    user_id, _, token = str(session_id).partition(":")
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    if user is None or not user.active or not hmac.compare_digest(token, user.session_token or ""):
        return None
    return user


# --- validation ------------------------------------------------------------------------------

def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def check_email(email: str) -> str:
    """A well-formed address of the right length, lower-cased (as stored)."""
    email = normalise_email(email)
    if not email or len(email) > EMAIL_MAX:
        raise AccountError(f"Give an email address of at most {EMAIL_MAX} characters.", field="email")
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise AccountError("This is not a valid email address.", field="email") from None
    return email


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise AccountError(f"Give a name of at most {NAME_MAX} characters.", field="name")
    return name


def check_password(password: str, field: str = "password") -> str:
    if not PASSWORD_MIN <= len(password or "") <= PASSWORD_MAX:
        raise AccountError(
            f"The password must be between {PASSWORD_MIN} and {PASSWORD_MAX} characters long.", field=field
        )
    return password


# --- signed, timed tokens (reset and confirmation links, device cookies) -----------------------

class _SiteClockSigner(TimestampSigner):
    """Timestamps from the site's clock, so that token age follows ``frozen_now`` in tests."""

    def get_timestamp(self) -> int:
        return int(utcnow().replace(tzinfo=timezone.utc).timestamp())


# --- registering -----------------------------------------------------------------------------

def register_user(name: str, email: str, password: str) -> tuple[User | None, bool]:
    """Someone making their own account. Returns (user, created).

    The answer must not tell whether the address has an account, so a taken address is no
    error: nothing is written, and (user, False) names the owner, to be told that someone
    tried; the password is hashed all the same, so that both take as long. A new user's
    address is unconfirmed until the link mailed to it is followed (``confirm_email``). When
    another request takes the address at the same moment, that is a taken address too.
    """
    name, email, password = check_name(name), check_email(email), check_password(password)
    user = find_user(email)
    if user is not None:
        generate_password_hash(password, method=hash_method())
        return user, False
    user = User(name=name, email=email, active=True)
    user.set_password(password)
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:
        # Another request registered the address between the check and the insert.
        return find_user(email), False
    record("user.registered", user, actor=user)
    return user, True


def create_user(name: str, email: str, password: str, is_site_admin: bool = False, actor: User | None = None) -> User:
    """An account made for someone (by a site admin, or on the command line: no actor). Its
    address counts as confirmed: whoever makes the account vouches for it."""
    name, email, password = check_name(name), check_email(email), check_password(password)
    if find_user(email) is not None:
        raise AccountError(EMAIL_TAKEN, field="email")
    user = User(name=name, email=email, is_site_admin=is_site_admin, active=True, email_verified_at=utcnow())
    user.set_password(password)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        # Another request registered the same address between the check and the insert.
        # The session is unusable until the caller rolls back.
        raise AccountError(EMAIL_TAKEN, field="email") from None
    record("user.created", user, actor=actor, site_admin=is_site_admin)
    return user


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
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=VERIFY_SALT, signer=_SiteClockSigner)


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


# --- who may act -----------------------------------------------------------------------------

def why_user_cannot_act(user: User, someone_else: bool = False) -> str | None:
    """None if ``user`` may join co-ops and act (post work, register interest, ask, bid, form
    consortia, use API tokens); otherwise why not. The rule for people, as
    ``federation.policy.why_coop_cannot_act`` is for co-ops: their address must be confirmed.
    ``someone_else``: the message is for another person (an admin adding ``user``)."""
    if user.email_verified:
        return None
    if someone_else:
        return UNCONFIRMED_OTHER.format(name=user.name)
    return UNCONFIRMED.format(email=user.email)


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
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=DEVICE_SALT, signer=_SiteClockSigner)


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


# --- password reset --------------------------------------------------------------------------

def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=RESET_SALT, signer=_SiteClockSigner
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


# --- account settings ------------------------------------------------------------------------

def change_name(user: User, name: str) -> bool:
    name = check_name(name)
    if name == user.name:
        return False
    before, user.name = user.name, name
    record("user.updated", user, actor=user, fields=["name"], name_from=before, name_to=name)
    return True


def change_time_zone(user: User, name: str) -> bool:
    """Show and read ``user``'s dates in the zone ``name``; False when it is unchanged."""
    if name not in TIME_ZONES:
        raise AccountError("Choose a time zone from the list.", field="time_zone")
    if name == user.time_zone:
        return False
    before, user.time_zone = user.time_zone, name
    record("user.updated", user, actor=user, fields=["time_zone"], time_zone_from=before, time_zone_to=name)
    return True


def change_password(user: User, current: str, new: str, actor: User | None = None) -> None:
    """Change a password; the user must give the current one (``actor`` is the user)."""
    if not user.check_password(current or ""):
        raise AccountError("Your current password is not right.", field="current_password")
    check_password(new, field="new_password")
    user.set_password(new)
    user.end_sessions()
    record("user.password_changed", user, actor=actor or user)


def set_password(user: User, password: str, actor: User | None = None) -> None:
    """An administrator's reset of a password (no current password needed)."""
    check_password(password)
    user.set_password(password)
    user.end_sessions()
    clear_failures(user.email)
    record("user.password_set", user, actor=actor)


# --- roles given when an account is made -----------------------------------------------------

def add_coop_member(user: User, coop: Coop, role: str, actor: User | None = None) -> CoopMember:
    link = CoopMember(coop=coop, user=user, role=CoopRole(role).value)
    db.session.add(link)
    record("coop.member_added", coop, actor=actor, coop=coop, user_id=user.id, role=link.role)
    return link


def add_coordinator(user: User, network: Network, actor: User | None = None) -> None:
    db.session.add(NetworkCoordinator(user=user, network=network))
    record("network.coordinator_added", network, actor=actor, user_id=user.id)



# --- the dashboard ---------------------------------------------------------------------------

def coop_links(user: User) -> Sequence[CoopMember]:
    """The user's co-op memberships, by co-op name, with the co-ops loaded."""
    return db.session.scalars(
        select(CoopMember).join(CoopMember.coop).options(contains_eager(CoopMember.coop))
        .where(CoopMember.user_id == user.id).order_by(Coop.name)
    ).all()


def pending_join_requests(user: User) -> Sequence[JoinRequest]:
    return db.session.scalars(
        select(JoinRequest).join(JoinRequest.coop).options(contains_eager(JoinRequest.coop))
        .where(JoinRequest.user_id == user.id, JoinRequest.status == JoinRequestStatus.PENDING.value)
        .order_by(JoinRequest.created_at.desc(), JoinRequest.id.desc())
    ).all()
