"""One unit of work for the web views: run a change, then commit it, or roll it back and show
why the rules refused it. Services decide and lock; views never commit by hand. (The API has
its own: ``api.idempotency.commit_with_answer`` stores the answer with the change.)"""
from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar
from flask import flash
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from .cache import forget
from .forms import attach_error
from .rules import RuleError

if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Callable

# Tries of a change that lost a race on a unique index (``retry=True``).
ATTEMPTS = 3


T = TypeVar("T")


class Saved:
    """What ``save_change`` did: true when the change was committed (``result`` is what it
    returned), false when the rules refused it (``error``; nothing was written)."""

    __slots__ = ("result", "error")

    def __init__(self, result: Any=None, error: RuleError | None=None) -> None:
        self.result, self.error = result, error

    def __bool__(self) -> bool:
        return self.error is None


def flush_retrying(change: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """Run ``change()`` and flush it. When a concurrent request wins a unique index first (two
    first submits of one co-op's bid, two awards), everything is rolled back and ``change``
    runs again: it then finds what the other request wrote (and edits it, or refuses)."""
    for attempt in range(attempts):
        try:
            result = change()
            db.session.flush()
            return result
        except IntegrityError:
            db.session.rollback()
            if attempt == attempts - 1:
                raise
    raise ValueError(f"flush_retrying needs at least one attempt, not {attempts}")


def save_change(change: Callable[[], Any], form: Any=None, success: str | None = None, *, retry: bool = False,
                show: bool = True) -> Saved:
    """Run ``change()`` and commit it: the view's one transaction. A change the rules refuse
    is rolled back and its message shown on ``form`` (on the field it names), or flashed
    without a form, or left to the caller (``show=False``); anything else is rolled back and
    raised. ``success`` is flashed once committed. ``retry``: a change that may race on a
    unique index is run again (``flush_retrying``)."""
    try:
        result = flush_retrying(change, ATTEMPTS if retry else 1)
        db.session.commit()
    except RuleError as error:
        db.session.rollback()
        if show and form is not None:
            attach_error(form, error)
        elif show:
            flash(error.message, "error")
        return Saved(error=error)
    except Exception:
        db.session.rollback()
        raise
    forget("viewer")  # the change may have changed what the user sees (memberships, co-ops)
    if success:
        flash(success, "success")
    return Saved(result)
