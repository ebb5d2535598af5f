"""What feeds show on other features' pages: the feed addresses that match a page (its RSS and
Atom feeds, the private address, the alert to save; ``templates/feeds/_links.html``)."""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import url_for
from flask_login import current_user

from .queries import kept_args as search_args

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def _feed_values(endpoint: str, slug: str | None, query: Mapping[str, Any] | None) -> dict[str, Any]:
    values: dict[str, Any] = {"slug": slug} if slug is not None else {}
    if endpoint == "feeds.jobs" and query is not None:
        values.update(search_args(query))
    return values


def feed_alternates(endpoint: str, slug: str | None = None, query: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The Atom and RSS addresses of a page's feed, for its head (every page that lists jobs)."""
    values = _feed_values(endpoint, slug, query)
    return {fmt: url_for(endpoint, fmt=fmt, _external=True, **values) for fmt in ("atom", "rss")}


def feed_links(endpoint: str, slug: str | None = None, query: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The feed addresses matching a page, for ``templates/feeds/_links.html``."""
    values = _feed_values(endpoint, slug, query)
    atom = url_for(endpoint, fmt="atom", _external=True, **values)
    atom_path = urlsplit(atom)._replace(scheme="", netloc="").geturl()
    alert_args: dict[str, Any] = search_args(query) if endpoint == "feeds.jobs" and query is not None else {}
    return {
        "atom": atom,
        "subscribe": url_for("feeds.subscribe", feed=atom_path),
        "rss": url_for(endpoint, fmt="rss", _external=True, **values),
        "private": url_for("feeds.tokens", feed=atom_path),
        "signed_in": current_user.is_authenticated,
        # A list or search query can be saved as an email alert.
        "alert": url_for("alerts.new", **alert_args) if endpoint == "feeds.jobs" and query is not None else None,
    }
