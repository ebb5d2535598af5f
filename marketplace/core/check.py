""""Check your answers" (the GOV.UK pattern) before a form's final step, without JavaScript:
the check page carries what was typed in hidden fields, so going back to change an answer
("Change" posts them back to the form) loses nothing, and its final button confirms it.

The same step, without "Change", asks to confirm a decision that cannot be taken back (an
award, withdrawing a job, dissolving a consortium): the first POST shows what will happen and
who is told (``confirmation``); only the POST of its "Yes" button, with ``confirmed=yes``, acts."""
from __future__ import annotations

from typing import TYPE_CHECKING
from flask import render_template, request

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

CONFIRMED = "confirmed"  # sent by the check page's final button
CHANGE = "change"  # sent by a "Change" button: the id of the field to change


def changing() -> bool:
    """A "Change" button was pressed: show the form again, filled in, without errors."""
    return CHANGE in request.form


def needs_check(final_step: bool) -> bool:
    """The final step (``final_step``: whether its button was pressed) is not yet confirmed."""
    return bool(final_step) and request.form.get(CONFIRMED) != "yes"


def carried_fields() -> list[Any]:
    """What the form sent, as (name, value) pairs for the check page's hidden fields."""
    return [(name, value) for name, values in request.form.lists() if name not in (CONFIRMED, CHANGE)
            for value in values]


def confirmation(heading: str, rows: Iterable[tuple[str, Any]], button: str, cancel_url: str,
                 intro: str = "Nothing has happened yet.", danger: bool = False) -> str:
    """The confirmation page of the form just posted: ``rows`` of (label, value) say what will
    happen and who is told; ``button`` posts the same fields again with ``confirmed=yes``."""
    return render_template("confirm.html", heading=heading, rows=rows, button=button, cancel_url=cancel_url,
                           intro=intro, danger=danger, action=request.full_path.rstrip("?"),
                           carried=carried_fields())
