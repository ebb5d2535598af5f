"""Read endpoints: jobs (with the site's filters), co-ops and skills. Thin views over the
jobs, co-ops and skills services, filtered by the federation module like every page."""
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, jsonify, request
from sqlalchemy import select

from ..coops.models import Coop
from ..core.fragments import remembered
from ..core.time import site_today
from ..documents.services import owned
from ..extensions import db
from ..federation import Viewer, audience_key, get_job_or_404
from ..jobs.services import JobFilters, list_jobs, load_job, next_state_change
from ..search import MAX_PAGE, SORTS, SearchTimeout, SearchUnavailable
from ..search.documents import STATIC_LABELS
from ..search.services import index_in_step, search_jobs
from ..skills.models import Skill
from ..skills.services import find_skill
from . import schemas
from .base import ApiError, api_viewer, bp, int_arg
from .schemas import MAX_PER_PAGE, MAX_QUERY
from .ocds import disclosed_awards
from .serializers import coop_json, job_detail_json, job_json, plain, skill_json
from .spec import operation

JobAnswer = dict[str, Any]


def _filters() -> JobFilters:
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


def _search(viewer: Viewer, page_no: int, per_page: int) -> JobAnswer:
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
    facets: dict[str, str] = {}
    for name in ("kind", "state", "visibility"):
        value = args.get(name)  # not the list's defaults: search spans every state unless asked
        if value:
            if value not in STATIC_LABELS[name]:
                raise ApiError(400, "bad_parameter", f"unknown {name}", {name: "unknown value"})
            facets[name] = value
    if filters.skill:
        facets["skill"] = filters.skill.slug
    if isinstance(filters.coop, Coop):
        facets["coop"] = str(filters.coop.id)
    try:
        jobs, total, notices = search_jobs(viewer, args["q"], facets, sort, page_no, per_page)
    except SearchTimeout:
        raise ApiError(503, "search_timeout", "The search took too long: try again, or with more specific words")
    except SearchUnavailable:
        raise ApiError(503, "search_unavailable", "The search index is being rebuilt: try again shortly")
    awards = disclosed_awards(jobs, viewer)
    return plain(schemas.JobPage(
        items=[job_json(j, awards.get(j.id)) for j in jobs], page=min(page_no, MAX_PAGE), per_page=per_page,
        total=total, total_capped=total > MAX_PAGE * per_page, notices=notices,
    ))


@bp.get("/jobs")
@operation("listJobs", "jobs", {200: (schemas.JobPage, "One page of jobs")}, (400, 401, 503),
           query=schemas.JobQuery, token="optional")
def jobs_index() -> Response:
    """Jobs the caller may see, newest first; with q, a full-text search"""
    page_no = int_arg("page", 1)
    per_page = int_arg("per_page", 20, high=MAX_PER_PAGE)
    viewer = api_viewer()
    if request.args.get("q", "").strip():
        return _kept_for(viewer, lambda: _search(viewer, page_no, per_page), search=True)
    return _kept_for(viewer, lambda: _list(viewer, page_no, per_page))


def _kept_for(viewer: Viewer, answer: Callable[[], JobAnswer], search: bool = False) -> Response:
    """The JSON of ``answer()``, kept like the shared page parts: per audience and address
    until the next write or deadline (as text: serialising the answer again for every
    request cost as much as the rest of it). A search's answer only when the index had caught
    up with the database."""
    settled: list[bool] = []

    def compute() -> str:
        settled.append(not search or index_in_step())
        return f"{current_app.json.dumps(answer())}\n"  # as jsonify writes it

    key = ("api", request.full_path, audience_key(viewer), site_today())
    kept: str = remembered(key, compute, expires=next_state_change, keep=lambda: settled[0])
    return current_app.response_class(kept, mimetype=current_app.json.mimetype)  # type: ignore[attr-defined]


def _list(viewer: Viewer, page_no: int, per_page: int) -> JobAnswer:
    try:
        page = list_jobs(viewer, _filters(), page_no, per_page)
    except ValueError:
        raise ApiError(400, "bad_parameter", "unknown filter value")
    awards = disclosed_awards(page.items, viewer)
    return plain(schemas.JobPage(items=[job_json(j, awards.get(j.id)) for j in page.items], page=page.page,
                                 per_page=page.per_page, total=page.total, total_capped=page.capped))


@bp.get("/jobs/<int:job_id>")
@operation("getJob", "jobs", {200: (schemas.JobDetail, "The job")}, (401, 404), token="optional")
def jobs_show(job_id: int) -> Response:
    """A job the caller may see, with its specification files"""
    viewer = api_viewer()
    get_job_or_404(job_id, viewer)
    job = load_job(job_id)
    assert job is not None  # get_job_or_404 has just found it
    # A job's files are seen by whoever sees the job (federation.policy.can_see_document).
    return jsonify(plain(job_detail_json(job, owned("job", job_id), disclosed_awards([job], viewer).get(job.id))))


@bp.get("/coops/<slug>")
@operation("getCoop", "coops", {200: (schemas.Coop, "The co-op")}, (401, 404), token="optional")
def coops_show(slug: str) -> Response:
    """A co-op's profile"""
    coop = db.session.scalar(select(Coop).where(Coop.slug == slug))
    if coop is None:
        raise ApiError(404, "not_found", "no such co-op")
    return jsonify(plain(coop_json(coop)))


@bp.get("/skills")
@operation("listSkills", "skills", {200: (schemas.SkillList, "Every skill")}, (401,), token="optional")
def skills_index() -> Response:
    """The skill taxonomy, by group and name"""
    skills = db.session.scalars(select(Skill).order_by(Skill.group, Skill.name)).all()
    return jsonify(plain(schemas.SkillList(items=[skill_json(s) for s in skills])))
