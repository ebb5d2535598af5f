"""The limits and messages of accounts, their errors, the checks of an email address, a name and a
password, and the signer of every link and cookie: what registering, confirming, signing in
and resetting all use, apart so that each of those can live in a module of its own."""
from __future__ import annotations

from datetime import datetime

import math
from datetime import timedelta, timezone
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from itsdangerous import TimestampSigner
from sqlalchemy import select

from ..core.rules import RuleError
from ..core.time import utcnow
from ..extensions import db
from .models import User


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

class SiteClockSigner(TimestampSigner):
    """Timestamps from the site's clock, so that token age follows ``frozen_now`` in tests."""

    def get_timestamp(self) -> int:
        return int(utcnow().replace(tzinfo=timezone.utc).timestamp())
