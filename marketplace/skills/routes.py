"""Skill pages: the taxonomy, and each skill's co-ops and jobs."""
from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING
from flask import Blueprint, abort, current_app, request

from ..coops.services import coops_offering
from ..core import revision
from ..core.fragments import framed, remembered, render_shared, shared
from ..federation import current_viewer
from ..jobs.services import JobFilters, list_jobs, next_state_change
from . import services

if TYPE_CHECKING:
    from typing import Any

bp = Blueprint("skills", __name__, url_prefix="/skills")


@bp.get("/")
def index():
    viewer = current_viewer()

    def render():
        groups: dict[str, list[Any]] = {}
        for skill in services.all_skills():
            groups.setdefault(skill.group, []).append(skill)
        job_counts, coop_counts = services.skill_counts(viewer)
        return render_shared("skills/_index.html", viewer, groups=groups, coop_counts=coop_counts,
                             job_counts=job_counts)

    content = shared("skills.index", viewer, render, expires=next_state_change)
    return framed("skills/index.html", content)


@bp.get("/<slug>")
def show(slug):
    revision.current()  # before the skill is read: a shared part is never older than its revision

    @cache  # read once, and only if the page is not served from the cache
    def skill():
        return services.skill_by_slug(slug)

    # The skill's name, kept like the part, so that a request answered from the cache reads
    # nothing but the revision (and the member's row). An unknown skill's 404 is not kept.
    name = remembered(("skills.show name", slug), lambda: skill().name if skill() else None,
                      keep=lambda: skill() is not None)
    if name is None:
        abort(404)
    viewer = current_viewer()

    def render():
        page = list_jobs(
            viewer, JobFilters(skill=skill()),
            page=request.args.get("page", 1, type=int) or 1, per_page=current_app.config["JOBS_PER_PAGE"],
            total=services.open_job_count(viewer, skill()),
        )
        coops = coops_offering(skill(), current_app.config["COOPS_PER_PAGE"])
        return render_shared("skills/_show.html", viewer, skill=skill(), page=page, coops=coops)

    content = shared("skills.show", viewer, render, expires=next_state_change)
    return framed("skills/show.html", content, name=name, slug=slug)
