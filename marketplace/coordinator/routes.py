"""Coordinator pages: suggestions for a job and invitations to bid, the coordinator's
dashboard and its CSV export, a co-op's capacity and a co-op's own dashboard."""
import csv
from typing import Any
import io

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, url_for)
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from ..core.forms import ActionForm
from ..coops import services as coops
from ..core.time import utcnow
from ..core.work import save_change
from ..extensions import login_manager
from ..federation import current_viewer, get_job_or_404
from ..jobs.models import Job, JobState
from . import matching, services
from .charts import bar_chart
from .forms import CapacityForm, DeclineForm, InviteForm

bp = Blueprint("coordinator", __name__)

CHART_ROWS = 15


# --- suggestions and invitations -------------------------------------------------------------

def _matchable_job(job_id):
    """The job if the viewer may match it; 404 when they may not see it, 403 when they may
    see it but neither posted it nor coordinate its audience."""
    job = get_job_or_404(job_id, options=[joinedload(Job.coop), selectinload(Job.skills)])
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    if not services.can_match(current_viewer(), job):
        abort(403, description="Suggestions and invitations are for the co-op that posted the job, "
                               "the coordinators of its networks and site admins.")
    return job


@bp.get("/coordinator/jobs/<int:job_id>/matches")
def matches(job_id):
    job = _matchable_job(job_id)
    return _render_matches(job, InviteForm())


def _render_matches(job, form, status=200):
    ranking = matching.rank(job, current_viewer())
    return render_template(
        "coordinator/matches.html", job=job, ranking=ranking, form=form,
        invitations=services.invitations_for_job(job), open=job.state == JobState.OPEN,
    ), status


@bp.post("/coordinator/jobs/<int:job_id>/invite")
def invite(job_id):
    job = _matchable_job(job_id)
    form = InviteForm()
    if form.validate_on_submit():
        saved = save_change(lambda: services.flush_invitations(
            lambda: services.invite(job, form.coops.data, current_user, current_viewer())), form)
        if saved:
            names = ", ".join(i.coop.name for i in saved.result)
            flash(f"Invited to bid: {names}. Their members have been told.", "success")
            return redirect(url_for("coordinator.matches", job_id=job.id, _anchor="invitations"))
    return _render_matches(job, form, 422)


def _own_invitation(invitation_id):
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    invitation = services.visible_invitation(invitation_id, current_viewer())
    if invitation is None:
        abort(404)
    return invitation


@bp.post("/invitations/<int:invitation_id>/accept")
def accept(invitation_id):
    invitation = _own_invitation(invitation_id)
    if not ActionForm().validate():
        abort(400)
    if not save_change(lambda: services.answer(invitation, current_user, accept=True), success=(
            f"{invitation.coop.name} accepted the invitation. Register your interest or bid on the job.")):
        return redirect(url_for("coordinator.coop_dashboard", slug=invitation.coop.slug))
    return redirect(url_for("jobs.show", job_id=invitation.job_id))


@bp.route("/invitations/<int:invitation_id>/decline", methods=["GET", "POST"])
def decline(invitation_id):
    invitation = _own_invitation(invitation_id)
    form = DeclineForm()
    if form.validate_on_submit():
        if save_change(lambda: services.answer(invitation, current_user, accept=False, reason=form.reason.data),
                       form, f"{invitation.coop.name} declined the invitation."):
            return redirect(url_for("coordinator.coop_dashboard", slug=invitation.coop.slug))
    return render_template("coordinator/decline.html", invitation=invitation, form=form), \
        (422 if form.errors else 200)


# --- the coordinator's dashboard -------------------------------------------------------------

def _dashboard_viewer():
    viewer = current_viewer()
    if not services.can_use_dashboard(viewer):
        abort(404)
    return viewer


@bp.get("/coordinator/")
def dashboard():
    viewer = _dashboard_viewer()
    unanswered, unanswered_total = services.unanswered_jobs(viewer)
    figures = services.referrals_and_awards(viewer)
    skills = services.skills_against_demand(viewer)
    charted = [c for c in figures if c.referrals or c.awards][:CHART_ROWS]
    fairness_chart = bar_chart(
        "fairness-chart", "Referrals and awards per co-op, last 12 months",
        "Invitations to bid and awards of the co-ops with the most, over the last 12 months. "
        "The same figures are in the table below.",
        [(c.name, [c.referrals, c.awards]) for c in charted], ["Referrals", "Awards"],
    ) if charted else None
    demand = skills[:CHART_ROWS]
    skills_chart = bar_chart(
        "skills-chart", "Skills asked for in open jobs against co-ops offering them",
        "For the skills most asked for: open jobs asking for the skill, and co-ops of the "
        "network offering it. The same figures are in the table below.",
        [(s.name, [s.demand, s.supply]) for s in demand], ["Open jobs", "Co-ops offering"],
    ) if demand else None
    return render_template(
        "coordinator/dashboard.html", unanswered=unanswered, unanswered_total=unanswered_total,
        closing=services.closing_soon(viewer), figures=figures, charted=charted,
        gini=services.gini([c.awards for c in figures]), skills=skills, fairness_chart=fairness_chart,
        skills_chart=skills_chart, capacity=services.capacity_totals(viewer), now=utcnow(),
    )


@bp.get("/coordinator/export.csv")
def export():
    """Per co-op of the viewer's networks: referrals, awards, capacity and skills."""
    viewer = _dashboard_viewer()
    figures = services.referrals_and_awards(viewer)
    capacities = services.capacities([c.id for c in figures])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["coop", "slug", "referrals_12m", "awards_12m", "people_1m", "people_3m",
                     "people_6m", "day_rate_min", "day_rate_max"])
    for c in sorted(figures, key=lambda c: c.name.lower()):
        cap = capacities.get(c.id)
        writer.writerow([_safe(c.name), c.slug, c.referrals, c.awards] + [
            "" if cap is None or getattr(cap, f) is None else getattr(cap, f)
            for f in ("people_1m", "people_3m", "people_6m", "day_rate_min", "day_rate_max")])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=coordinator-{utcnow():%Y-%m-%d}.csv"})


def _safe(text):
    """A cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- a co-op's capacity and dashboard --------------------------------------------------------

@bp.route("/coops/<slug>/capacity", methods=["GET", "POST"])
@login_required
def capacity(slug):
    coop = coops.coop_by_slug(slug)
    if coop is None:
        abort(404)
    if not coops.is_admin(current_user, coop):
        abort(403)
    stored = services.capacity_of(coop)
    form = CapacityForm(obj=stored if request.method == "GET" else None)
    if form.validate_on_submit():
        if save_change(lambda: services.save_capacity(coop, current_user, form.values()), form,
                       "Capacity saved. Coordinators use it to suggest your co-op for work."):
            return redirect(url_for("coops.show", slug=coop.slug, _anchor="capacity"))
    return render_template("coordinator/capacity.html", coop=coop, form=form), (422 if form.errors else 200)


@bp.get("/coops/<slug>/dashboard")
@login_required
def coop_dashboard(slug):
    """A co-op's own dashboard, for its members."""
    coop = services.member_coop(current_user, slug)
    if coop is None:
        abort(404)
    return render_template(
        "coordinator/coop_dashboard.html", coop=coop, jobs=services.matching_jobs(coop),
        invitations=services.coop_invitations(coop), interests=services.coop_interests(coop),
        bids=services.coop_bids(coop), capacity=services.capacity_of(coop),
        is_admin=coops.is_admin(current_user, coop), action_form=ActionForm(),
        consortia_url=_consortia_url(coop),
    )


def _consortia_url(coop):
    """The consortia pages, once that feature is installed."""
    pages: tuple[tuple[str, dict[str, Any]], ...] = (("consortia.mine", {}), ("consortia.index", {}))
    for endpoint, args in pages:
        if endpoint in current_app.view_functions:
            return url_for(endpoint, **args)
    return None


# --- for templates of other features ---------------------------------------------------------

@bp.app_template_global()
def coop_capacity(coop):
    """The co-op's capacity, if the current viewer may see it (else None)."""
    if not services.can_see_capacity(current_viewer(), coop):
        return None
    return services.capacity_of(coop) or False


@bp.app_template_global()
def pending_invitations():
    if not current_user.is_authenticated:
        return []
    return services.pending_invitations_for(current_user, current_viewer())


@bp.app_template_global()
def can_coordinate():
    return services.can_use_dashboard(current_viewer())

