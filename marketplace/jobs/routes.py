"""Job pages: home, list with filters, job page, post, edit, publish, withdraw, cancel."""
from functools import cache, partial
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from ..bids import services as bid_services
from ..bids.forms import InterestForm
from ..bids.policy import can_review_bids, can_see_interested_coops
from ..consortia.panels import consortia_panel
from ..coordinator.services import can_match
from ..coops.services import coops_of
from ..core.check import carried_fields, changing, confirmation, needs_check
from ..core.rules import RuleError
from ..core.forms import ActionForm, id_prefixed
from ..core import revision
from ..core.fragments import framed, remembered, render_shared, shared
from ..core.time import site_today
from ..core.work import save_change
from ..documents import services as documents
from ..evaluation.policy import can_see_scores
from ..extensions import db
from ..federation import audience_key, can_see_outcome, current_viewer, get_job_or_404
from ..federation import posting_visibilities
from ..federation.policy import networks_in_audience
from ..questions import services as question_services
from ..questions.forms import AskForm
from ..skills.services import all_skills
from . import services
from .forms import CancelForm, JobFilterForm, JobForm, WithdrawForm
from .models import Job

bp = Blueprint("jobs", __name__)


@bp.get("/")
def home():
    viewer = current_viewer()

    def render():
        latest = services.list_jobs(viewer, services.JobFilters(), page=1, per_page=6)
        return render_shared("jobs/_home.html", viewer, latest=latest)

    content = shared("jobs.home", viewer, render, expires=services.next_state_change)
    return framed("jobs/home.html", content)


@bp.get("/jobs")
def index():
    viewer = current_viewer()
    content = shared("jobs.index", viewer, lambda: _job_list(viewer), expires=services.next_state_change)
    return framed("jobs/index.html", content)


def _job_list(viewer):
    skills = all_skills()
    form = JobFilterForm(request.args, skills=skills)
    if not form.validate():
        # Drop the bad values and carry on with the rest.
        for field in form:
            if field.errors and field.name != "coop":
                field.data = field.default
    filters = form.filters()
    if form.coop.errors:
        page = None
    else:
        page = services.list_jobs(
            viewer, filters, page=form.page.data or 1, per_page=current_app.config["JOBS_PER_PAGE"],
        )
    return render_shared("jobs/_index.html", viewer, form=form, page=page, filters=filters)


def _job_for_page(job_id, viewer):
    """The job with its co-op, requirements and its bid, interest and answer counts in one
    statement (and its skills in a second)."""
    return get_job_or_404(job_id, viewer, options=[
        joinedload(Job.coop), selectinload(Job.skills), joinedload(Job.requirements), joinedload(Job.criteria),
        *bid_services.with_counts(),
    ])


@bp.get("/jobs/<int:job_id>")
def show(job_id):
    revision.current()  # before the job is read: a shared part is never older than its revision
    viewer = current_viewer()
    changes: list[Any] = []  # when the page next changes

    @cache  # read once, and only if the page is not served from the cache
    def job() -> Job:
        found = get_job_or_404(job_id, viewer)
        db.session.expunge(found)  # the page loads it again, with its counts
        return found

    def next_change(now):
        if not changes:  # the moment after the first ``now`` is the next one for this request too
            changes.append(_next_change(job(), now))
        return changes[0]

    # Whether the viewer may see the job (404 otherwise), and its title: kept like the part, so
    # that a request answered from the cache reads nothing but the revision. A 404 is not kept.
    title = remembered(("jobs.show title", job_id, audience_key(viewer), not viewer.is_anonymous, site_today()),
                       lambda: job().title, expires=next_change)
    # Everything on it comes with the viewer's audience (their co-ops' bids, questions and
    # forms included), so members of one co-op share it; it is built from the audience alone,
    # whatever the user's rows say by now.
    content = shared(
        "jobs.show", viewer, lambda: _job_page(job_id, viewer, partial(render_shared, viewer=viewer)),
        expires=next_change,
    )
    return framed("jobs/show.html", content, title=title)


def _next_change(job, now):
    """When the job page next changes by the clock alone: a deadline, an interest lapsing, or
    an intended award becoming final."""
    final = job.award_final_at
    changes = (services.next_deadline(job, now), bid_services.next_interest_lapse(job, now),
               final if final is not None and final > now else None)
    return min((moment for moment in changes if moment is not None), default=None)


def _job_page(job_id, viewer, render):
    job = _job_for_page(job_id, viewer)
    manage = services.viewer_manages(viewer, job)
    can_review = can_review_bids(viewer, job)
    mine = coops_of(viewer)
    coops = bid_services.able_to_bid(mine, job)
    bidding = bid_services.bidding_panel(job, coops, can_see_interested_coops(viewer, job),
                                         can_see_outcome(viewer, job))
    bidding.waiting = bid_services.waiting_to_act(mine, job) if job.is_open else []
    questions = question_services.questions_panel(job, viewer)
    # Several forms on one page: their fields' ids are prefixed, so that none repeats.
    ask_form = (id_prefixed(AskForm(coops=bidding.coops).receive_documents(None), "ask")
                if bidding.coops and job.questions_open else None)
    interest_form = (id_prefixed(InterestForm(coops=bidding.interest_coops), "interest")
                     if bidding.interest_coops and job.is_open else None)
    return render(
        "jobs/_show.html", job=job, manage=manage,
        events=services.job_history(job, full=manage), labels=services.HISTORY_LABELS,
        editable=services.is_editable(job), withdraw_form=id_prefixed(WithdrawForm(), "withdraw") if manage else None,
        cancel_form=id_prefixed(CancelForm(), "cancel") if manage else None, audience=networks_in_audience(job),
        bidding=bidding, questions=questions, consortia=consortia_panel(job, coops, viewer),
        ask_form=ask_form, interest_form=interest_form, can_review=can_review,
        documents=documents.owned("job", job.id),
        can_match=can_match(viewer, job), can_score=can_see_scores(viewer, job),
    )


def _posting_coops():
    return [link.coop for link in current_user.coop_links if posting_visibilities(link.coop)]


@bp.route("/jobs/new", methods=["GET", "POST"])
@login_required
def new():
    coops = _posting_coops()
    if not coops:
        flash("To post a job you need to belong to a co-op with an active or guest network membership.", "info")
        return redirect(url_for("coops.index"))
    chosen = next((c for c in coops if str(c.id) == request.form.get("coop")), coops[0])
    form = JobForm(coops=coops, skills=all_skills(), visibilities=posting_visibilities(chosen))
    form.receive_documents(current_user)
    if request.method == "GET":
        form.coop.data = chosen.id
        form.visibility.data = form.visibility.choices[0][0]
    if not changing() and form.validate_on_submit():
        if needs_check(form.publish.data):
            return _check_page(form, None)
        def post():
            job = services.post_job(chosen, current_user, form.values(), _chosen_skills(form),
                                    publish=form.publish.data)
            documents.attach(form.pending, "job", job, chosen)
            return job

        saved = save_change(post, form, "Job published." if form.publish.data else
                            "Draft saved. Publish it when it is ready.")
        if saved:
            return redirect(url_for("jobs.show", job_id=saved.result.id))
    return _form_page(form, None)


@bp.route("/jobs/<int:job_id>/edit", methods=["GET", "POST"])
@login_required
def edit(job_id):
    job = _managed_job(job_id)
    if not services.is_editable(job):
        flash("This job is closed or withdrawn and can no longer be edited.", "error")
        return redirect(url_for("jobs.show", job_id=job.id))
    form = JobForm(obj=job if request.method == "GET" else None, coops=[job.coop], skills=all_skills(),
                   visibilities=posting_visibilities(job.coop), job=job)
    form.receive_documents(current_user)
    if request.method == "GET":
        form.coop.data = job.coop_id
        form.skills.data = [s.id for s in job.skills]
        form.requirements.data = "\n".join(r.text for r in job.requirements if r.essential)
        form.nice_to_have.data = "\n".join(r.text for r in job.requirements if not r.essential)
        form.criteria.data = form.criteria_text(services.criteria_values(job))
    if not changing() and form.validate_on_submit():
        if job.status == "draft" and needs_check(form.publish.data):
            return _check_page(form, job)

        def change():
            services.update_job(job, current_user, form.values(), _chosen_skills(form))
            documents.attach(form.pending, "job", job, job.coop)
            if form.publish.data and job.status == "draft":
                services.publish_job(job, current_user)

        if save_change(change, form, "Job saved."):
            return redirect(url_for("jobs.show", job_id=job.id))
    return _form_page(form, job)


def _form_page(form, job):
    attached = documents.owned("job", job.id) if job is not None else []
    return render_template("jobs/form.html", form=form, job=job, attached=attached,
                           removable=job is not None and job.status == "draft"), (422 if form.errors else 200)


def _check_page(form, job):
    return render_template("jobs/check.html", form=form, job=job, action=request.full_path.rstrip("?"),
                           carried=form.carried_with_documents(carried_fields()))


@bp.post("/jobs/<int:job_id>/publish")
@login_required
def publish(job_id):
    job = _managed_job(job_id)
    return _act(job, lambda: services.publish_job(job, current_user), "Job published.")


@bp.post("/jobs/<int:job_id>/withdraw")
@login_required
def withdraw(job_id):
    job = _managed_job(job_id)
    form = WithdrawForm()
    return _ending(job, form, lambda: services.check_withdraw(job), "Withdraw", "Yes, withdraw the job",
                   lambda: services.withdraw_job(job, current_user, form.reason.data), "Job withdrawn.")


@bp.post("/jobs/<int:job_id>/cancel")
@login_required
def cancel(job_id):
    job = _managed_job(job_id)
    form = CancelForm()
    return _ending(job, form, lambda: services.check_cancel(job, current_user, form.reason.data), "Cancel",
                   "Yes, cancel the job", lambda: services.cancel_job(job, current_user, form.reason.data),
                   "Job cancelled.")


def _ending(job, form, check, verb, button, change, message):
    """Withdrawing or cancelling a job: its form's first POST shows what will happen
    (``confirmation``), the second, confirmed, does it."""
    if not form.validate():
        flash("; ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("jobs.show", job_id=job.id))
    if needs_check(True):
        try:
            check()
        except RuleError as error:
            flash(error.message, "error")
            return redirect(url_for("jobs.show", job_id=job.id))
        told = services.followers(job)
        rows = [("Job", job.title), ("Reason", form.reason.data),
                ("Then", "The job takes no more bids, interests or questions; its page says why."),
                ("Who is told", ", ".join(c.name for c in told) or "Nobody follows the job yet")]
        return confirmation(f"{verb} “{job.title}”?", rows, button, url_for("jobs.show", job_id=job.id),
                            danger=True)
    save_change(change, success=message)
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.post("/jobs/<int:job_id>/delete")
@login_required
def delete(job_id):
    job = _managed_job(job_id)
    if not ActionForm().validate():
        abort(400)
    if not save_change(lambda: services.delete_draft(job, current_user), success="Draft deleted."):
        return redirect(url_for("jobs.show", job_id=job.id))
    return redirect(url_for("jobs.index", state="draft"))


def _managed_job(job_id):
    """A job the current user's co-op posted; anyone else gets the same 404 as a hidden job."""
    job = get_job_or_404(job_id)
    if not services.can_manage(current_user, job):
        abort(404 if job.status == "draft" else 403)
    return job


def _act(job, change, message):
    if not ActionForm().validate():
        abort(400)
    save_change(change, success=message)
    return redirect(url_for("jobs.show", job_id=job.id))


def _chosen_skills(form):
    wanted = set(form.skills.data or [])
    return [s for s in all_skills() if s.id in wanted]
