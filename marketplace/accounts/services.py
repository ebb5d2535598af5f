"""Accounts: registering, signing in (with throttling), password resets and changes,
and loading users for Flask-Login. Business rules as plain functions; callers commit."""
import hashlib
import hmac
from datetime import timedelta, timezone
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit.services import record
from ..coops.models import Coop, CoopMember, CoopRole, JoinRequest, JoinRequestStatus
from ..core.time import utcnow
from ..extensions import db
from ..federation.models import NetworkCoordinator
from .models import LoginFailure, User, hash_method

NAME_MAX = 120
EMAIL_MAX = 254
PASSWORD_MIN = 10
# A generous cap: hashing megabytes of "password" on every attempt would be a cheap attack.
PASSWORD_MAX = 200
EMAIL_TAKEN = "An account with this email address already exists. Sign in, or reset your password."
BAD_CREDENTIALS = "The email address or password is not right."
RESET_SALT = "password-reset"


class AccountError(Exception):
    """A change that the rules refuse; ``field`` names the form field at fault, if any."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


class SignInThrottled(AccountError):
    """Too many failed sign-ins: no attempt is checked until ``retry_at`` (naive UTC)."""

    def __init__(self, retry_at):
        super().__init__("Too many failed attempts to sign in.")
        self.retry_at = retry_at


def load_user(session_id):
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

def normalise_email(email):
    return (email or "").strip().lower()


def find_user(email):
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def check_email(email):
    """A well-formed address of the right length, lower-cased (as stored)."""
    email = normalise_email(email)
    if not email or len(email) > EMAIL_MAX:
        raise AccountError(f"Give an email address of at most {EMAIL_MAX} characters.", field="email")
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise AccountError("This is not a valid email address.", field="email") from None
    return email


def check_name(name):
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise AccountError(f"Give a name of at most {NAME_MAX} characters.", field="name")
    return name


def check_password(password, field="password"):
    if not PASSWORD_MIN <= len(password or "") <= PASSWORD_MAX:
        raise AccountError(
            f"The password must be between {PASSWORD_MIN} and {PASSWORD_MAX} characters long.", field=field
        )
    return password


# --- registering -----------------------------------------------------------------------------

def _new_user(name, email, password, is_site_admin=False):
    """Add a user, or refuse a duplicate email (also when another request wins a race to it)."""
    name, email, password = check_name(name), check_email(email), check_password(password)
    if find_user(email) is not None:
        raise AccountError(EMAIL_TAKEN, field="email")
    user = User(name=name, email=email, is_site_admin=is_site_admin, active=True)
    user.set_password(password)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        # Another request registered the same address between the check and the insert.
        # The session is unusable until the caller rolls back.
        raise AccountError(EMAIL_TAKEN, field="email") from None
    return user


def register_user(name, email, password):
    """Someone making their own account."""
    user = _new_user(name, email, password)
    record("user.registered", user, actor=user)
    return user


def create_user(name, email, password, is_site_admin=False, actor=None):
    """An account made for someone (by a site admin, or on the command line: no actor)."""
    user = _new_user(name, email, password, is_site_admin)
    record("user.created", user, actor=actor, site_admin=is_site_admin)
    return user


# --- signing in and throttling ---------------------------------------------------------------

def _window():
    return timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])


def _limits():
    per_email = current_app.config["LOGIN_MAX_FAILURES"]
    return per_email, 4 * per_email


def _unlocks_at(column, value, limit, since):
    """When fewer than ``limit`` failures on ``column`` remain in the window, or None if
    there are fewer already: the ``limit``-th most recent failure ages out then."""
    nth = db.session.scalar(
        select(LoginFailure.created_at)
        .where(column == value, LoginFailure.created_at > since)
        .order_by(LoginFailure.created_at.desc(), LoginFailure.id.desc())
        .offset(limit - 1).limit(1)
    )
    return None if nth is None else nth + _window()


def throttled_until(email, ip):
    """The moment sign-ins for this email or from this address may resume, or None."""
    since = utcnow() - _window()
    per_email, per_ip = _limits()
    times = [
        _unlocks_at(LoginFailure.email, normalise_email(email), per_email, since),
        _unlocks_at(LoginFailure.ip, ip, per_ip, since),
    ]
    return max((t for t in times if t is not None), default=None)


def note_failure(email, ip):
    """Remember a failed sign-in; rows older than the window are pruned at the same time."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.created_at <= utcnow() - _window()))
    db.session.add(LoginFailure(email=normalise_email(email)[:EMAIL_MAX], ip=ip))


def clear_failures(email):
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == normalise_email(email)))


# Checked against when the email is unknown, so that the answer takes as long as for a
# wrong password and the two cannot be told apart (one per hash method in use).
_DUMMY_HASHES = {}


def _dummy_check(password):
    method = hash_method()
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("not a password of anyone", method=method)
    check_password_hash(_DUMMY_HASHES[method], password)


def authenticate(email, password, ip):
    """The user with this email and password, or None (a failure is noted: commit it too).

    Raises ``SignInThrottled`` without checking the password while the email or the
    client address is locked out.
    """
    retry_at = throttled_until(email, ip)
    if retry_at is not None:
        raise SignInThrottled(retry_at)
    user = find_user(email)
    if user is None:
        _dummy_check(password or "")
    if user is None or not user.check_password(password or ""):
        note_failure(email, ip)
        return None
    if not user.active:
        raise AccountError("This account has been closed. Ask the site's administrators if this is a mistake.")
    clear_failures(user.email)
    user.last_login_at = utcnow()
    return user


# --- where to go after signing in ------------------------------------------------------------

def safe_next_url(target):
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

class _SiteClockSigner(TimestampSigner):
    """Timestamps from the site's clock, so that token age follows ``frozen_now`` in tests."""

    def get_timestamp(self):
        return int(utcnow().replace(tzinfo=timezone.utc).timestamp())


def _reset_serializer():
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=RESET_SALT, signer=_SiteClockSigner
    )


def _password_fingerprint(user):
    """Changes whenever the password does: a used (or outdated) reset link stops working."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def make_reset_token(user):
    return _reset_serializer().dumps({"user": user.id, "password": _password_fingerprint(user)})


class ResetLinkError(AccountError):
    """A reset link that cannot be used (expired, tampered with or already used)."""


def user_for_reset_token(token):
    """The user a reset link was made for, or ``ResetLinkError`` saying why it cannot be used."""
    try:
        payload = _reset_serializer().loads(
            token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"]
        )
    except SignatureExpired:
        raise ResetLinkError("This link has expired. Ask for a new one below.") from None
    except BadSignature:
        raise ResetLinkError("This link is not valid. Check that you copied all of it, or ask for a new one.") from None
    user = None
    if isinstance(payload, dict) and isinstance(payload.get("user"), int):
        user = db.session.get(User, payload["user"])
    if (user is None or not user.active
            or not hmac.compare_digest(str(payload.get("password")), _password_fingerprint(user))):
        raise ResetLinkError("This link has already been used. Ask for a new one if you need to.")
    return user


def reset_password(user, password):
    check_password(password)
    user.set_password(password)
    user.end_sessions()
    clear_failures(user.email)
    record("user.password_reset", user, actor=user)


# --- account settings ------------------------------------------------------------------------

def change_name(user, name):
    name = check_name(name)
    if name == user.name:
        return False
    before, user.name = user.name, name
    record("user.updated", user, actor=user, fields=["name"], name_from=before, name_to=name)
    return True


def change_password(user, current, new, actor=None):
    """Change a password; the user must give the current one (``actor`` is the user)."""
    if not user.check_password(current or ""):
        raise AccountError("Your current password is not right.", field="current_password")
    check_password(new, field="new_password")
    user.set_password(new)
    user.end_sessions()
    record("user.password_changed", user, actor=actor or user)


def set_password(user, password, actor=None):
    """An administrator's reset of a password (no current password needed)."""
    check_password(password)
    user.set_password(password)
    user.end_sessions()
    clear_failures(user.email)
    record("user.password_set", user, actor=actor)


# --- roles given when an account is made -----------------------------------------------------

def add_coop_member(user, coop, role, actor=None):
    link = CoopMember(coop=coop, user=user, role=CoopRole(role).value)
    db.session.add(link)
    record("coop.member_added", coop, actor=actor, coop=coop, user_id=user.id, role=link.role)
    return link


def add_coordinator(user, network, actor=None):
    db.session.add(NetworkCoordinator(user=user, network=network))
    record("network.coordinator_added", network, actor=actor, user_id=user.id)



# --- the dashboard ---------------------------------------------------------------------------

def coop_links(user):
    """The user's co-op memberships, by co-op name, with the co-ops loaded."""
    return db.session.scalars(
        select(CoopMember).join(CoopMember.coop).options(contains_eager(CoopMember.coop))
        .where(CoopMember.user_id == user.id).order_by(Coop.name)
    ).all()


def pending_join_requests(user):
    return db.session.scalars(
        select(JoinRequest).join(JoinRequest.coop).options(contains_eager(JoinRequest.coop))
        .where(JoinRequest.user_id == user.id, JoinRequest.status == JoinRequestStatus.PENDING.value)
        .order_by(JoinRequest.created_at.desc(), JoinRequest.id.desc())
    ).all()
