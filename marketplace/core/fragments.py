"""Page parts shared by every viewer of the same audience: the job lists, skill pages, home,
the job page.

Such a part depends only on what its viewer may see, so it is rendered once and cached under
  - the site revision (``core.revision``), which every write changes in its own transaction;
  - the viewer's audience (``audience_key``, from ``federation`` through ``core.hooks``: everything the visibility rule knows
    of them, their co-ops included) and whether they are signed in;
  - the day, and the address asked for (host, the prefix the site is mounted at, path and query).
It is used until the clock reaches ``expires(now)`` (the next deadline that turns a job from
open to closed: state is derived from the clock, not stored) and never longer than
``PAGE_CACHE_SECONDS`` (0 turns caching off). The page around it (head, header, footer) is
kept the same way per session (``framed``), and takes each request's flashed messages.

A shared part is rendered without the person: in its template ``current_user`` answers only
whether someone is signed in, and the session, flashed messages and the signed-in user's
globals refuse. Views read the site revision before anything the part shows, so a part is
never older than its revision.

A part may hold forms: while it is rendered, every CSRF token (``csrf_token()``, a form's
``hidden_tag()``) is a placeholder (random, kept with the part), and each time the part is
served the placeholder is replaced by the token of the viewer it is served to. A part
rendered outside ``shared`` that holds the request's own token is refused.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar
import hashlib
import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from flask import current_app, g, render_template, request, session
from flask_babel import get_locale
from flask_caching import Cache
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from . import revision
from .hooks import hook
from .time import site_today, utcnow, viewer_zone

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any
    from typing import NoReturn
    from flask import Flask

cache = Cache()


T = TypeVar("T")


class SharedPartError(RuntimeError):
    """A shared part's template asked for something of one particular viewer."""


class _AnyoneSignedIn:
    """``current_user`` inside a shared part: whether someone is signed in, and nothing else."""

    def __init__(self, signed_in: bool) -> None:
        self.is_authenticated = signed_in
        self.is_anonymous = not signed_in

    def __getattr__(self, name: str) -> NoReturn:
        raise SharedPartError(f"a shared page part cannot show current_user.{name}")


class _Refused:
    """A template name that a shared part may not use: it is about one person."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise SharedPartError(f"a shared page part cannot use {self.name}")

    def __getattr__(self, attribute: str) -> NoReturn:
        raise SharedPartError(f"a shared page part cannot use {self.name}")


# The session and what is read from it, and the globals that answer for the signed-in user.
# (CSRF tokens are not among them: a part holds a placeholder for them, see ``shared``.)
PERSONAL = ("session", "get_flashed_messages", "pending_invitations", "unread_notification_count")


def _token_name() -> str:
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


PLACEHOLDER_PREFIX = "csrf-placeholder-"
_PLACEHOLDER = "shared_part_token_placeholder"  # on ``g`` while a part is rendered


def _with_token_placeholder(render: Callable[[], object]) -> tuple[str, str]:
    """(placeholder, ``render()``) with Flask-WTF handing out the placeholder as this
    request's CSRF token (it keeps the token on ``g``): forms built in Python and in templates
    get it alike. The placeholder is new for every rendering, so nobody can know it in time
    to write it into a job's text and have each viewer's token put there."""
    name, placeholder = _token_name(), PLACEHOLDER_PREFIX + secrets.token_hex(16)
    own = g.pop(name, None)
    setattr(g, name, placeholder)
    setattr(g, _PLACEHOLDER, placeholder)
    try:
        html = str(render())
    finally:
        g.pop(name, None)
        g.pop(_PLACEHOLDER, None)
        if own is not None:
            setattr(g, name, own)
    if own and own in html:
        raise SharedPartError("a shared page part cannot hold this request's CSRF token")
    return placeholder, html


def _with_viewers_token(placeholder: str, html: str) -> str:
    """The part as served: its placeholder replaced by this viewer's CSRF token."""
    return html.replace(placeholder, generate_csrf()) if placeholder in html else html


def render_shared(template: str, viewer: Any, **context: Any) -> str:
    """Render ``template`` as a shared part for ``viewer``'s audience. Python code it calls
    must depend on the viewer's audience alone (what ``audience_key`` holds), never on
    ``current_user`` beyond whether someone is signed in."""
    signed_in = not viewer.is_anonymous
    refused = {name: _Refused(name) for name in PERSONAL}
    html = render_template(
        template, **refused, current_user=_AnyoneSignedIn(signed_in),
        viewer=replace(viewer, user_id=0 if signed_in else None), **context,
    )
    # Outside ``shared`` (no placeholder), a token in the part would be this request's.
    token = g.get(_token_name())
    if token and token != g.get(_PLACEHOLDER) and token in html:
        raise SharedPartError("a shared page part cannot hold this request's CSRF token")
    return html


def _keep_seconds() -> int:
    """How long what this request renders may be kept: 0 when caching is off, when the
    database has no revision, or when this request has written and not yet committed."""
    seconds = current_app.config["PAGE_CACHE_SECONDS"]
    if seconds <= 0 or revision.has_pending_writes() or revision.current() is None:
        return 0
    return seconds


def _kept(kind: str, key: object, compute: Callable[[], T],
          expires: Callable[[datetime], datetime | None] | None=None, keep: Callable[[], bool] | None=None) -> T:
    """``compute()``, or what it returned for ``key`` at this site revision, until
    ``PAGE_CACHE_SECONDS`` have passed or the clock reaches ``expires(now)``. With ``keep``,
    a value is kept only if ``keep()`` says so after computing it."""
    seconds = _keep_seconds()
    if not seconds:
        return compute()
    token = revision.current()
    at_revision = getattr(cache.cache, "at_revision", None)
    if at_revision is not None:  # this worker's own store: what older revisions left goes now
        at_revision(token)
    key = f"{kind}:" + hashlib.sha256(repr((token, key)).encode()).hexdigest()
    now, kept = utcnow(), cache.get(key)
    if kept is not None and now < kept[0]:
        return kept[1]
    value = compute()
    if keep is not None and not keep():
        return value
    until = now + timedelta(seconds=seconds)
    change = expires(now) if expires else None
    if change is not None:
        until = min(until, change)
    cache.set(key, (until, value), timeout=seconds)
    return value


def shared(name: str, viewer: Any, render: Callable[[], object],
           expires: Callable[[datetime], datetime | None] | None=None,
           keep: Callable[[], bool] | None=None) -> Markup:
    """The HTML ``render()`` returns (a ``render_shared`` call), from the cache when a viewer
    of the same audience asked for the same address since the last write, with this viewer's
    CSRF token in its forms.
    ``expires(now)``, if given, is when the part next changes by the clock alone (or None);
    ``keep()``, if given, whether what was just rendered may be kept at all."""
    # The day too: what a co-op may do (bid, ask) follows its memberships' dates; and the
    # viewer's time zone and language, which its dates and words are shown in.
    key = (name, hook("audience_key")(viewer), not viewer.is_anonymous, site_today(), viewer_zone().key,
           str(get_locale()), request.url_root, request.full_path)
    placeholder, html = _kept("part", key, lambda: _with_token_placeholder(render), expires, keep)
    return Markup(_with_viewers_token(placeholder, html))


# Where a kept page frame takes this request's flashed messages and its shared part. Random for
# each process, so no text shown on a page can hold it.
_SLOT = "page-frame-slot-" + secrets.token_hex(16)


def framed(template: str, content: Markup, **context: Any) -> str:
    """``render_template(template, content=content, **context)`` for a page around a shared
    part. What surrounds the part (head, header and footer, which show the signed-in viewer's
    own name, links and notifications) is kept too, per session (the user and their session
    token, or nobody), address and ``context``, like the parts: until the next write,
    ``PAGE_CACHE_SECONDS`` or the next day. Each time it is served, it takes this request's
    flashed messages, the part and this viewer's CSRF token."""
    signed_in = current_user.is_authenticated
    key = (template, current_user.get_id() if signed_in else None, repr(sorted(context.items())), site_today(),
           viewer_zone().key, str(get_locale()), request.url_root, request.full_path)
    slots = Markup(_SLOT)
    placeholder, frame = _kept("frame", key, lambda: _with_token_placeholder(
        lambda: render_template(template, content=slots, flash_slot=slots, **context)))
    before, between, after = _with_viewers_token(placeholder, frame).split(_SLOT)
    flashes = render_template("_flashes.html") if session.get("_flashes") else ""
    return before + flashes + between + str(content) + after


def remembered(key: object, compute: Callable[[], T], expires: Callable[[datetime], datetime | None] | None=None,
               keep: Callable[[], bool] | None=None) -> T:
    """``compute()``, kept under ``key`` until the next write (or ``PAGE_CACHE_SECONDS``, or
    ``expires(now)``): for values read from the database on every page, such as a signed-in
    viewer's audience, and for whole feeds. ``key`` must hold everything else the value
    depends on (the user, the day, the audience). ``keep()``: as for ``shared``."""
    return _kept("value", key, compute, expires, keep)


# Flask-Caching's per-process "SimpleCache" is bounded in entries only: ours in bytes as well.
OWN_STORE = {"SimpleCache": "marketplace.core.partcache.PartCache"}


def init_app(app: Flask) -> None:
    config = {**app.config}
    kind = config.get("CACHE_TYPE") or ""
    config["CACHE_TYPE"] = OWN_STORE.get(kind, kind)
    cache.init_app(app, config=config)
