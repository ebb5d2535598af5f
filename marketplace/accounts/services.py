"""Accounts: registering and confirming the email address, who may act, signing in (slowed
down with device cookies), password resets and changes, and loading users for Flask-Login.
Business rules as plain functions; callers commit.

Here: loading users, registering, who may act, settings, roles and the dashboard. The limits,
errors and checks are in ``rules``, the emailed links in ``links``, signing in in
``signing_in``; all are named here too."""
from __future__ import annotations

from typing import TYPE_CHECKING

import hmac

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager
from werkzeug.security import generate_password_hash

from ..audit.services import record
from ..coops.models import Coop, CoopMember, CoopRole, JoinRequest, JoinRequestStatus
from ..core import revision
from ..core.time import utcnow
from ..extensions import db
from ..federation.models import NetworkCoordinator
from .models import User, hash_method


# The parts of accounts, named here too (other features and the views use ``services``).
from .links import (ResetLinkError, VerifyLinkError, confirm_email, make_reset_token,  # noqa: F401
                    make_verify_token, note_verification_mail, reset_password, user_for_reset_token,
                    user_for_verify_token, verify_link_hours)
from .rules import (BAD_CREDENTIALS, DEVICE_COOKIE, EMAIL_MAX, EMAIL_TAKEN, NAME_MAX, PASSWORD_MAX,  # noqa: F401
                    PASSWORD_MIN, TIME_ZONES, UNCONFIRMED, UNCONFIRMED_OTHER, VERIFICATION_MAIL_INTERVAL,
                    AccountError, SignInThrottled, check_email, check_name, check_password, find_user,
                    normalise_email)
from .signing_in import (authenticate, clear_failures, device_cookie_days, device_nonce,  # noqa: F401
                         make_device_cookie, note_failure, paused_until, safe_next_url)

if TYPE_CHECKING:
    from typing import Sequence
    from ..federation.models import Network


def load_user(session_id: str) -> User | None:
    """The user of a session or remember-me cookie (``User.get_id``), while its token is the
    user's current one: a password change or a sign-out ends every other copy."""
    user_id, _, token = str(session_id).partition(":")
    try:
        user = revision.get_with_token(User, int(user_id))
    except (TypeError, ValueError):
        return None
    if user is None or not user.active or not hmac.compare_digest(token, user.session_token or ""):
        return None
    return user


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


# --- who may act -----------------------------------------------------------------------------

def why_user_cannot_act(user: User, someone_else: bool = False) -> str | None:
    """None if ``user`` may join co-ops and act (post work, register interest, ask, bid, form
    consortia, use API tokens); otherwise why not. The rule for people, as
    ``federation.acting.why_coop_cannot_act`` is for co-ops: their address must be confirmed.
    ``someone_else``: the message is for another person (an admin adding ``user``)."""
    if user.email_verified:
        return None
    if someone_else:
        return UNCONFIRMED_OTHER.format(name=user.name)
    return UNCONFIRMED.format(email=user.email)


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
