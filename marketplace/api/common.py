"""What the API's write endpoints share: a refused rule as its JSON error, the co-op that acts,
an object or 404, and a page of a list. The views are in writes.py (jobs, notifications) and
bidding.py (questions, bids, interests)."""
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Response, abort, jsonify

from ..coops.models import Coop
from ..core.pagination import Page
from ..core.rules import RuleError
from ..extensions import db
from . import schemas
from .base import ApiError, int_arg, invalid
from .schemas import MAX_PER_PAGE
from .serializers import plain

ACT_ERRORS = (401, 403, 404, 409, 422)
Found = TypeVar("Found")


def rule_error(error: RuleError, names: Callable[[str], str] | None = None) -> ApiError:
    """A refused rule: a field at fault is a 422, the state of things a 409. ``names`` turns
    the site form's field names into the request body's."""
    db.session.rollback()
    if error.field:
        field = (names or (lambda name: name))(error.field)
        return invalid({field: error.message}, error.message)
    return ApiError(409, "conflict", error.message)


def chosen_coop(coops: list[Coop], slug: str | None) -> Coop:
    """The caller's co-op that acts: the one named by ``coop`` (a slug), which is needed
    only when several of their co-ops could."""
    if slug is not None:
        coop = next((c for c in coops if c.slug == slug), None)
        if coop is None:
            raise invalid({"coop": "Choose one of your co-ops that can act here."})
        return coop
    if len(coops) > 1:
        raise invalid({"coop": "Several of your co-ops can act here: say which."})
    return coops[0]


def get_or_404(model: type[Found], object_id: int, options: Iterable[Any] = ()) -> Found:
    found = db.session.get(model, object_id, options=list(options))
    if found is None:
        abort(404)
    return found


def page_args() -> tuple[int, int]:
    return int_arg("page", 1), int_arg("per_page", 20, high=MAX_PER_PAGE)


def page_response(page: Page, items: list[Any], answer: Callable[..., schemas.Page]) -> Response:
    return jsonify(plain(answer(items=items, page=page.page, per_page=page.per_page, total=page.total,
                                total_capped=page.capped)))
