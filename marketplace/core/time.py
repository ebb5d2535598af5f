"""Time in one place: stored as naive UTC, shown and entered in the site's time zone.

Tests move the clock with ``frozen_now``; everything that decides "open" or "closed"
asks ``utcnow()`` so that the derived state is the same in Python and in SQL.
"""
import contextlib
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app

_frozen = None


def utcnow():
    """The current time as a naive UTC datetime (what the database stores)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


@contextlib.contextmanager
def frozen_now(moment):
    """Pretend it is ``moment`` (naive UTC) inside the block."""
    global _frozen
    previous, _frozen = _frozen, moment
    try:
        yield moment
    finally:
        _frozen = previous


def site_zone():
    return ZoneInfo(current_app.config["TIMEZONE"])


def aware(moment):
    """Naive UTC → the same moment marked UTC (for feeds and calendars); None stays None."""
    return moment.replace(tzinfo=timezone.utc) if moment is not None else None


def to_local(moment):
    """Naive UTC → aware datetime in the site's time zone."""
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc).astimezone(site_zone())


def site_today():
    """Today's date in the site's time zone: membership dates and other calendar days are
    decided by it (frozen with ``frozen_now`` too)."""
    return to_local(utcnow()).date()


def from_local(moment):
    """Naive datetime typed in the site's time zone → naive UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=site_zone()).astimezone(timezone.utc).replace(tzinfo=None)
