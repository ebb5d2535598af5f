"""Dates, numbers, money and plurals through Flask-Babel: in the request's locale (en-GB unless
``LANGUAGES`` offers another), dates and times in the viewer's zone (core.time). Templates
reach these as filters (core/templating.py); emails render with them too."""
from __future__ import annotations

from typing import TYPE_CHECKING
import functools

import flask_babel
from babel import support
from flask_babel import gettext, get_locale, ngettext
from wtforms.i18n import messages_path

from .time import to_viewer, utcnow

if TYPE_CHECKING:
    from datetime import date
    from datetime import datetime
    from .pagination import Page


def format_datetime(moment: datetime | None, fmt: str = "d MMM y, HH:mm") -> str:
    """'29 Mar 2027, 12:00 BST': the time in the viewer's zone, named by its abbreviation."""
    if moment is None:
        return ""
    local = to_viewer(moment)
    return f"{flask_babel.format_datetime(local, fmt, rebase=False)} {local.tzname()}"


def format_date(day: date | None, fmt: str = "d MMM y") -> str:
    return flask_babel.format_date(day, fmt) if day else ""


def iso_datetime(moment: datetime | None) -> str:
    return to_viewer(moment).isoformat() if moment else ""


def format_number(number: int | None) -> str:
    return flask_babel.format_decimal(number) if number is not None else ""


def format_money(amount: int | None, currency: str = "GBP") -> str:
    """'£12,500': whole amounts (budgets and prices are whole pounds, euros or dollars)."""
    if amount is None:
        return ""
    return flask_babel.format_currency(amount, str(currency), "¤#,##0", currency_digits=False)


def time_until(moment: datetime | None) -> str:
    """'in 3 days', '2 hours ago' — relative to now."""
    if moment is None:
        return ""
    delta = moment - utcnow()
    seconds = abs(delta.total_seconds())
    units = (
        (86400, lambda n: ngettext("%(num)d day", "%(num)d days", n)),
        (3600, lambda n: ngettext("%(num)d hour", "%(num)d hours", n)),
        (60, lambda n: ngettext("%(num)d minute", "%(num)d minutes", n)),
    )
    for size, words in units:
        if seconds >= size:
            text = words(int(seconds // size))
            break
    else:
        text = gettext("less than a minute")
    if delta.total_seconds() >= 0:
        return gettext("in %(time)s", time=text)
    return gettext("%(time)s ago", time=text)


# "Showing 1 job", "Showing 12 jobs", "Showing 21–40 of 57 jobs": each noun's messages in full,
# so that a translation may word (and inflect) each one its own way.
_SHOWING = {
    "job": (lambda n, **v: ngettext("Showing %(total)s job", "Showing %(total)s jobs", n, **v),
            lambda n, **v: ngettext("Showing %(first)s–%(last)s of %(total)s job",
                                    "Showing %(first)s–%(last)s of %(total)s jobs", n, **v)),
    "co-op": (lambda n, **v: ngettext("Showing %(total)s co-op", "Showing %(total)s co-ops", n, **v),
              lambda n, **v: ngettext("Showing %(first)s–%(last)s of %(total)s co-op",
                                      "Showing %(first)s–%(last)s of %(total)s co-ops", n, **v)),
    "membership": (lambda n, **v: ngettext("Showing %(total)s membership", "Showing %(total)s memberships", n, **v),
                   lambda n, **v: ngettext("Showing %(first)s–%(last)s of %(total)s membership",
                                           "Showing %(first)s–%(last)s of %(total)s memberships", n, **v)),
}


def showing_text(page: Page, noun: str) -> str:
    """What part of a list a page shows (``noun``: job, co-op or membership)."""
    whole, part = _SHOWING[noun]
    if page.pages == 1 and not page.capped:
        return whole(page.total, total=page.total_label)
    return part(page.total, total=page.total_label, first=format_number(page.first_index), last=format_number(page.last_index))


# --- the messages of WTForms' own validators ---------------------------------------------------

@functools.lru_cache(maxsize=None)
def _wtforms_catalogue(locale: str) -> support.Translations | support.NullTranslations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class WtformsMessages:
    """WTForms' messages ("Not a valid choice.") in the request's language. Flask-WTF reads and
    parses their catalogue from disk again in every request that validates a form with an
    empty choice (every job list, co-op directory and feed: 3 ms a request); each process reads
    it once a language here, and Flask-WTF takes it from ``request.wtforms_translations``."""

    def ugettext(self, string: str) -> str:
        return _wtforms_catalogue(str(get_locale())).ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return _wtforms_catalogue(str(get_locale())).ungettext(singular, plural, n)
