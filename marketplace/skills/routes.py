"""Skill pages: the taxonomy, and each skill's co-ops and jobs."""
from flask import Blueprint, abort, current_app, render_template, request

from ..coops.services import coops_offering
from ..federation import current_viewer
from ..jobs.services import JobFilters, list_jobs
from . import services

bp = Blueprint("skills", __name__, url_prefix="/skills")


@bp.get("/")
def index():
    skills = services.all_skills()
    groups = {}
    for skill in skills:
        groups.setdefault(skill.group, []).append(skill)
    return render_template(
        "skills/index.html", groups=groups, coop_counts=services.coop_counts(),
        job_counts=services.visible_open_job_counts(current_viewer()),
    )


@bp.get("/<slug>")
def show(slug):
    skill = services.skill_by_slug(slug)
    if skill is None:
        abort(404)
    page = list_jobs(
        current_viewer(), JobFilters(skill=skill),
        page=request.args.get("page", 1, type=int) or 1, per_page=current_app.config["JOBS_PER_PAGE"],
    )
    coops = coops_offering(skill, current_app.config["COOPS_PER_PAGE"])
    return render_template("skills/show.html", skill=skill, page=page, coops=coops)
