"""Read endpoints: jobs (with the site's filters), co-ops and skills. Thin views over the
jobs, co-ops and skills services, filtered by the federation module like every page."""
from flask import jsonify, request
from sqlalchemy import select

from ..coops.models import Coop
from ..core.fragments import remembered
from ..core.time import site_today
from ..extensions import db
from ..federation import audience_key
from ..federation.policy import get_job_or_404
from ..jobs.services import JobFilters, list_jobs, load_job, next_state_change
from ..search import MAX_PAGE, SORTS, SearchTimeout, SearchUnavailable
from ..search.documents import STATIC_LABELS
from ..search.services import index_in_step, search_jobs
from ..skills.models import Skill
from ..skills.services import find_skill
from .base import MAX_PER_PAGE, ApiError, api_viewer, bp, int_arg
from .serializers import coop_json, job_json, skill_json


def _filters():
    args = request.args
    filters = JobFilters()
    if args.get("skill"):
        skill = find_skill(args["skill"])
        if skill is None:
            raise ApiError(400, "bad_parameter", "unknown skill", {"skill": "unknown skill"})
        filters.skill = skill
    if args.get("coop"):
        coop = db.session.scalar(select(Coop).where(Coop.slug == args["coop"]))
        if coop is None:
            raise ApiError(400, "bad_parameter", "unknown co-op", {"coop": "unknown co-op"})
        filters.coop = coop
    for name in ("kind", "state", "visibility"):
        if args.get(name):
            setattr(filters, name, args[name])
    filters.looking_for_partners = args.get("looking_for_partners") in ("1", "true")
    return filters


MAX_QUERY = 500


def _search(viewer, page_no, per_page):
    """``q`` given: the site's search (index filtered by the visibility rule), with the same
    filters as facets."""
    args, filters = request.args, _filters()
    if len(args["q"]) > MAX_QUERY:
        raise ApiError(400, "bad_parameter", f"q is longer than {MAX_QUERY} characters", {"q": "too long"})
    if filters.looking_for_partners:
        raise ApiError(400, "bad_parameter", "looking_for_partners cannot be combined with q",
                       {"looking_for_partners": "not with q"})
    sort = args.get("sort") or "relevance"
    if sort not in SORTS:
        raise ApiError(400, "bad_parameter", "unknown sort", {"sort": f"one of {', '.join(SORTS)}"})
    facets = {}
    for name in ("kind", "state", "visibility"):
        value = args.get(name)  # not the list's defaults: search spans every state unless asked
        if value:
            if value not in STATIC_LABELS[name]:
                raise ApiError(400, "bad_parameter", f"unknown {name}", {name: "unknown value"})
            facets[name] = value
    if filters.skill:
        facets["skill"] = filters.skill.slug
    if filters.coop:
        facets["coop"] = str(filters.coop.id)
    try:
        jobs, total, notices = search_jobs(viewer, args["q"], facets, sort, page_no, per_page)
    except SearchTimeout:
        raise ApiError(503, "search_timeout", "The search took too long: try again, or with more specific words")
    except SearchUnavailable:
        raise ApiError(503, "search_unavailable", "The search index is being rebuilt: try again shortly")
    return {
        "items": [job_json(j) for j in jobs],
        "page": min(page_no, MAX_PAGE), "per_page": per_page,
        "total": total, "total_capped": total > MAX_PAGE * per_page, "notices": notices,
    }


@bp.get("/jobs")
def jobs_index():
    page_no = int_arg("page", 1)
    per_page = int_arg("per_page", 20, high=MAX_PER_PAGE)
    viewer = api_viewer()
    if request.args.get("q", "").strip():
        return jsonify(_kept_for(viewer, lambda: _search(viewer, page_no, per_page), search=True))
    return jsonify(_kept_for(viewer, lambda: _list(viewer, page_no, per_page)))


def _kept_for(viewer, answer, search=False):
    """``answer()`` (a JSON-ready dict), kept like the shared page parts: per audience and
    address until the next write or deadline. A search's answer only when the index had
    caught up with the database."""
    settled = []

    def compute():
        settled.append(not search or index_in_step())
        return answer()

    key = ("api", request.full_path, audience_key(viewer), site_today())
    return remembered(key, compute, expires=next_state_change, keep=lambda: settled[0])


def _list(viewer, page_no, per_page):
    try:
        page = list_jobs(viewer, _filters(), page_no, per_page)
    except ValueError:
        raise ApiError(400, "bad_parameter", "unknown filter value")
    return {
        "items": [job_json(j) for j in page.items],
        "page": page.page, "per_page": page.per_page,
        "total": page.total, "total_capped": page.capped,
    }


@bp.get("/jobs/<int:job_id>")
def jobs_show(job_id):
    get_job_or_404(job_id, api_viewer())
    return jsonify(job_json(load_job(job_id)))


@bp.get("/coops/<slug>")
def coops_show(slug):
    coop = db.session.scalar(select(Coop).where(Coop.slug == slug))
    if coop is None:
        raise ApiError(404, "not_found", "no such co-op")
    return jsonify(coop_json(coop))


@bp.get("/skills")
def skills_index():
    skills = db.session.scalars(select(Skill).order_by(Skill.group, Skill.name)).all()
    return jsonify({"items": [skill_json(s) for s in skills]})
