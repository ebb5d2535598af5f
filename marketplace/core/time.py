"""Time in one place: stored as naive UTC; shown and entered in the viewer's time zone (a
signed-in user's own, else the site's); calendar days of the rules decided in the site's zone.

Tests move the clock with ``frozen_now``; everything that decides "open" or "closed"
asks ``utcnow()`` so that the derived state is the same in Python and in SQL.
"""
from __future__ import annotations

from typing import TYPE_CHECKING
import contextlib
from typing import overload
from contextvars import ContextVar
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context
from flask_login import current_user

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import date

_frozen: datetime | None = None
# The zone a message is rendered in (its recipient's), whoever's request sends it.
_zone_override: ContextVar[str | None] = ContextVar("zone_override", default=None)


def utcnow() -> datetime:
    """The current time as a naive UTC datetime (what the database stores)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


@contextlib.contextmanager
def frozen_now(moment: datetime) -> Iterator[datetime]:
    """Pretend it is ``moment`` (naive UTC) inside the block."""
    global _frozen
    previous, _frozen = _frozen, moment
    try:
        yield moment
    finally:
        _frozen = previous


def site_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


@overload
def aware(moment: datetime) -> datetime: ...
@overload
def aware(moment: None) -> None: ...
def aware(moment: datetime | None) -> datetime | None:
    """Naive UTC → the same moment marked UTC (for feeds and calendars); None stays None."""
    return moment.replace(tzinfo=timezone.utc) if moment is not None else None


@overload
def to_local(moment: datetime) -> datetime: ...
@overload
def to_local(moment: None) -> None: ...
def to_local(moment: datetime | None) -> datetime | None:
    """Naive UTC → aware datetime in the site's time zone."""
    if moment is None:
        return None
    return _shown_in(moment, site_zone())


def site_today() -> date:
    """Today's date in the site's time zone: membership dates and other calendar days are
    decided by it (frozen with ``frozen_now`` too)."""
    return to_local(utcnow()).date()


@overload
def from_local(moment: datetime) -> datetime: ...
@overload
def from_local(moment: None) -> None: ...
def from_local(moment: datetime | None) -> datetime | None:
    """Naive datetime typed in the site's time zone → naive UTC."""
    if moment is None:
        return None
    return _typed_in(moment, site_zone())


def viewer_zone() -> ZoneInfo:
    """The zone dates are shown and typed in: the recipient's while a message is rendered,
    else the signed-in user's, else the site's (anonymous visitors)."""
    name = _zone_override.get()
    if name is None and has_request_context() and current_user.is_authenticated:
        name = current_user.time_zone
    return ZoneInfo(name) if name else site_zone()


@contextlib.contextmanager
def shown_in(zone: str | None) -> Iterator[None]:
    """Inside the block, dates are shown in the zone named ``zone`` (the site's when None)."""
    token = _zone_override.set(zone or current_app.config["TIMEZONE"])
    try:
        yield
    finally:
        _zone_override.reset(token)


@overload
def to_viewer(moment: datetime) -> datetime: ...
@overload
def to_viewer(moment: None) -> None: ...
def to_viewer(moment: datetime | None) -> datetime | None:
    """Naive UTC → aware datetime in the viewer's zone."""
    if moment is None:
        return None
    return _shown_in(moment, viewer_zone())


@overload
def from_viewer(moment: datetime) -> datetime: ...
@overload
def from_viewer(moment: None) -> None: ...
def from_viewer(moment: datetime | None) -> datetime | None:
    """Naive datetime typed in the viewer's zone → naive UTC."""
    if moment is None:
        return None
    return _typed_in(moment, viewer_zone())


# The first and last hours there are (years 1 and 9999) have no local time in every zone.
OUT_OF_RANGE = "That date is out of range: give one between the years 1 and 9999."


def _shown_in(moment: datetime, zone: ZoneInfo) -> datetime:
    """Naive UTC → aware in ``zone``; in UTC when the zone's date would be past the calendar's
    ends (a deadline in the last hours of 9999, seen from east of Greenwich)."""
    try:
        return moment.replace(tzinfo=timezone.utc).astimezone(zone)
    except OverflowError:
        return moment.replace(tzinfo=timezone.utc)


def _typed_in(moment: datetime, zone: ZoneInfo) -> datetime:
    """Naive, typed in ``zone`` → naive UTC. Raises ValueError (``OUT_OF_RANGE``) when that
    moment is past the calendar's ends in UTC (which forms report as the field's error)."""
    try:
        return moment.replace(tzinfo=zone).astimezone(timezone.utc).replace(tzinfo=None)
    except OverflowError:
        raise ValueError(OUT_OF_RANGE) from None
