""""Check your answers" (the GOV.UK pattern) before a form's final step, without JavaScript:
the check page carries what was typed in hidden fields, so going back to change an answer
("Change" posts them back to the form) loses nothing, and its final button confirms it."""
from flask import request

CONFIRMED = "confirmed"  # sent by the check page's final button
CHANGE = "change"  # sent by a "Change" button: the id of the field to change


def changing():
    """A "Change" button was pressed: show the form again, filled in, without errors."""
    return CHANGE in request.form


def needs_check(final_step):
    """The final step (``final_step``: whether its button was pressed) is not yet confirmed."""
    return bool(final_step) and request.form.get(CONFIRMED) != "yes"


def carried_fields():
    """What the form sent, as (name, value) pairs for the check page's hidden fields."""
    return [(name, value) for name, values in request.form.lists() if name not in (CONFIRMED, CHANGE)
            for value in values]
