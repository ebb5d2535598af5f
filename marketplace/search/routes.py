"""The search page: /search?q=… with facets, orders and pages."""
from typing import Any

from flask import Blueprint, request

from ..core.fragments import framed, render_shared, shared
from ..federation import current_viewer
from ..jobs.services import next_state_change
from . import services
from .forms import SearchForm
from .query import parse

bp = Blueprint("search", __name__)


@bp.get("/search")
def index():
    form = SearchForm(request.args)
    problems = form.checked()
    viewer = current_viewer()
    rendered: dict[str, Any] = {}

    def results():
        # Kept only when the index had caught up with the database before it was read (an
        # empty queue) and every hit was confirmed: otherwise the next request asks again.
        settled = services.index_in_step()
        page = services.search(viewer, form, notices=problems)
        rendered.update(page=page, keep=settled and page.settled)
        popular = services.popular_skills(viewer) if not page.searched or not page.total else []
        return render_shared("search/_results.html", viewer, form=form, page=page, popular=popular,
                             has_feed=_has_feed(page.text, page.scope, page.unavailable))

    content = shared("search.index", viewer, results, expires=next_state_change,
                     keep=lambda: rendered["keep"])
    unavailable = "page" in rendered and rendered["page"].unavailable
    text = parse(form.q.data).text
    # 503 tells browsers and crawlers to come back: the rest of the site is serving.
    page = framed("search/index.html", content, text=text,
                  has_feed=_has_feed(text, form.scope.data or "jobs", unavailable))
    return page, 503 if unavailable else 200


def _has_feed(text, scope, unavailable):
    return bool(text) and scope == "jobs" and not unavailable
