"""JSON API v1: thin views over the jobs, co-ops and skills services.

Reads use the same visibility rule as the site (``current_viewer``); a job the caller
may not see answers 404, never 403.
"""
from flask import Blueprint, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from ..coops.models import Coop
from ..extensions import csrf, db
from ..federation.policy import current_viewer, get_job_or_404, viewer_for
from ..jobs.services import JobFilters, list_jobs, load_job
from ..skills.models import Skill
from . import services

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

MAX_PER_PAGE = 100


class ApiError(Exception):
    def __init__(self, status, code, message, fields=None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


def error_response(status, code, message, fields=None):
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return jsonify(body), status


@bp.errorhandler(ApiError)
def _api_error(error):
    return error_response(error.status, error.code, error.message, error.fields)


def http_error_response(error):
    """JSON for any HTTP error under /api/ (also called by the app's handlers for unrouted URLs)."""
    if not isinstance(error, HTTPException):
        return error_response(500, "internal_server_error", "Internal server error")
    code = (error.name or "error").lower().replace(" ", "_")
    return error_response(error.code or 500, code, error.description or error.name)


bp.register_error_handler(HTTPException, http_error_response)


def api_viewer():
    """The caller: a bearer token's user, else the signed-in session (reads only), else anonymous.
    A bearer token that is unknown, revoked or malformed is a 401, never a silent downgrade."""
    header = request.headers.get("Authorization", "")
    if not header:
        return current_viewer()
    scheme, _, plain = header.partition(" ")
    user = services.user_for_token(plain.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        raise ApiError(401, "unauthorized", "Invalid or revoked API token")
    db.session.commit()  # the token's last use
    return viewer_for(user)


def _int_arg(name, default, low=1, high=None):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "bad_parameter", f"{name} must be an integer", {name: "not an integer"})
    if value < low or (high is not None and value > high):
        raise ApiError(400, "bad_parameter", f"{name} is out of range", {name: "out of range"})
    return value


def _filters():
    args = request.args
    filters = JobFilters()
    if args.get("skill"):
        skill = db.session.scalar(select(Skill).where(Skill.slug == args["skill"]))
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


def _dt(value):
    return value.isoformat() + "Z" if value is not None else None


def skill_json(skill):
    return {"slug": skill.slug, "name": skill.name, "group": skill.group}


def coop_ref(coop):
    return {"slug": coop.slug, "name": coop.name}


def job_json(job):
    return {
        "id": job.id,
        "title": job.title,
        "summary": job.summary,
        "description": job.description,
        "kind": job.kind,
        "state": job.state,
        "visibility": job.visibility,
        "budget": {"type": job.budget_type, "min": job.budget_min, "max": job.budget_max,
                   "currency": job.currency},
        "location": job.location,
        "work_mode": job.work_mode,
        "questions_deadline": _dt(job.questions_deadline),
        "bids_deadline": _dt(job.bids_deadline),
        "start_date": job.start_date.isoformat() if job.start_date else None,
        "looking_for_partners": job.looking_for_partners,
        "published_at": _dt(job.published_at),
        "coop": coop_ref(job.coop),
        "skills": [skill_json(s) for s in job.skills],
    }


@bp.get("/jobs")
def jobs_index():
    page_no = _int_arg("page", 1)
    per_page = _int_arg("per_page", 20, high=MAX_PER_PAGE)
    try:
        page = list_jobs(api_viewer(), _filters(), page_no, per_page)
    except ValueError:
        raise ApiError(400, "bad_parameter", "unknown filter value")
    return jsonify({
        "items": [job_json(j) for j in page.items],
        "page": page.page, "per_page": page.per_page,
        "total": page.total, "total_capped": page.capped,
    })


@bp.get("/jobs/<int:job_id>")
def jobs_show(job_id):
    get_job_or_404(job_id, api_viewer())
    return jsonify(job_json(load_job(job_id)))


@bp.get("/coops/<slug>")
def coops_show(slug):
    coop = db.session.scalar(select(Coop).where(Coop.slug == slug))
    if coop is None:
        raise ApiError(404, "not_found", "no such co-op")
    return jsonify({**coop_ref(coop), "website": coop.website, "location": coop.location,
                    "description": coop.description, "size": coop.size})


@bp.get("/skills")
def skills_index():
    skills = db.session.scalars(select(Skill).order_by(Skill.group, Skill.name)).all()
    return jsonify({"items": [skill_json(s) for s in skills]})
