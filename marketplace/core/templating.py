"""Jinja filters and globals used across the templates."""
from urllib.parse import urlencode

from flask import request

from .markdown import as_markup
from .time import to_local, utcnow


def format_datetime(moment, fmt="%-d %b %Y, %H:%M"):
    if moment is None:
        return ""
    local = to_local(moment)
    return local.strftime(fmt) + " " + local.tzname()


def format_date(day, fmt="%-d %b %Y"):
    return day.strftime(fmt) if day else ""


def iso_datetime(moment):
    return to_local(moment).isoformat() if moment else ""


def time_until(moment):
    """'in 3 days', '2 hours ago' — relative to now."""
    if moment is None:
        return ""
    delta = moment - utcnow()
    seconds = abs(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            text = f"{n} {unit}{'' if n == 1 else 's'}"
            break
    else:
        text = "less than a minute"
    return f"in {text}" if delta.total_seconds() >= 0 else f"{text} ago"


def _encoded_args():
    """The current query string as {name: its encoded part}, worked out once per request (kept
    on the request itself, which no other request shares)."""
    encoded = getattr(request, "_encoded_args", None)
    if encoded is None:
        encoded = request._encoded_args = {
            name: urlencode([(name, v) for v in values]) for name, values in request.args.lists()
        }
    return encoded


def url_with(**changes):
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


def init_app(app):
    from . import cache

    cache.init_app(app)
    app.jinja_env.filters.update(
        datetime=format_datetime, date=format_date, isodatetime=iso_datetime,
        until=time_until, markup=as_markup,
    )
    app.jinja_env.globals.update(url_with=url_with)
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject():
        return {"site_name": app.config["SITE_NAME"]}
