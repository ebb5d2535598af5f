"""The search page: /search?q=… with facets, orders and pages."""
from flask import Blueprint, render_template, request

from ..federation import current_viewer
from . import services
from .forms import SearchForm

bp = Blueprint("search", __name__)


@bp.get("/search")
def index():
    form = SearchForm(request.args)
    problems = form.checked()
    viewer = current_viewer()
    page = services.search(viewer, form, notices=problems)
    popular = services.popular_skills(viewer) if not page.searched or not page.total else []
    # 503 tells browsers and crawlers to come back: the rest of the site is serving.
    status = 503 if page.unavailable else 200
    return render_template("search/index.html", form=form, page=page, popular=popular), status
