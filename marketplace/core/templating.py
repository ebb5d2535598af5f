"""Jinja filters and globals used across the templates (dates, numbers, money and plurals:
core/i18n.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING
import os
from urllib.parse import urlencode

from flask import current_app, has_request_context, request, url_for

from .i18n import (WtformsMessages, format_date, format_datetime, format_money, format_number, iso_datetime,
                   showing_text, time_until)
from .markdown import as_markup
from .time import viewer_zone

if TYPE_CHECKING:
    from typing import Any
    from flask import Flask

WTFORMS_MESSAGES = WtformsMessages()


def _locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return languages[0]
    return request.accept_languages.best_match(languages, default=languages[0])


def _encoded_args() -> dict[str, str]:
    """The current query string as {name: its encoded part}, worked out once per request (kept
    on the request itself, which no other request shares)."""
    encoded = getattr(request, "_encoded_args", None)
    if encoded is None:
        encoded = request._encoded_args = {  # type: ignore[attr-defined]  # kept on this request
            name: urlencode([(name, v) for v in values]) for name, values in request.args.lists()
        }
    return encoded


def url_with(**changes: Any) -> str:
    """The current URL with some query arguments changed (None removes one). A search page
    builds a link per facet value, so the unchanged arguments are encoded only once."""
    parts = dict(_encoded_args())
    for name, value in changes.items():
        if value is None or value == "":
            parts.pop(name, None)
        else:
            parts[name] = urlencode({name: value})
    query = "&".join(parts.values())
    return request.path + ("?" + query if query else "")


def template_url_for(endpoint: str, **values: Any) -> str:
    """``url_for`` in the templates. The address of an endpoint without arguments (the menu's
    links, the style sheet) is built once per app and script root: building one costs more than
    the rest of a link, and every page has a dozen."""
    fixed = not values or (endpoint == "static" and values.keys() == {"filename"})
    if not fixed or endpoint.startswith(".") or not has_request_context():
        return url_for(endpoint, **values)
    key = (endpoint, values.get("filename"), request.script_root)
    built: dict[tuple[str, Any, str], str] = current_app.extensions.setdefault("template_urls", {})
    found = built.get(key)
    if found is None:
        found = built[key] = url_for(endpoint, **values)
    return found


def init_app(app: Flask) -> None:
    from ..extensions import babel
    from . import cache

    cache.init_app(app)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config["LANGUAGES"][0])
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES",
                          os.path.join(os.path.dirname(str(app.template_folder)), "translations"))
    babel.init_app(app, locale_selector=_locale, timezone_selector=lambda: viewer_zone().key)
    app.jinja_env.filters.update(
        datetime=format_datetime, date=format_date, isodatetime=iso_datetime,
        until=time_until, markup=as_markup, number=format_number, money=format_money,
    )
    app.jinja_env.globals.update(url_for=template_url_for, url_with=url_with, showing_text=showing_text,
                                 time_zone_name=lambda: viewer_zone().key.replace("_", " "))
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.before_request
    def _wtforms_messages() -> None:
        request.wtforms_translations = WTFORMS_MESSAGES  # type: ignore[attr-defined]

    @app.context_processor
    def inject() -> dict[Any, Any]:
        return {"site_name": app.config["SITE_NAME"]}
