"""Scoring pages: the ranking of a job's bids, and the scoring of one bid. Both answer 404 to
everyone but the poster's members once bids close (``policy.can_see_scores``)."""
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from ..bids.models import RECEIVED_STATUSES, Bid
from ..core.work import save_change
from ..extensions import db
from ..federation import current_viewer, get_job_or_404
from ..jobs.models import Job
from . import services
from .forms import score_form
from .policy import can_see_scores

bp = Blueprint("evaluation", __name__)


def _job_with_scores(job_id):
    viewer = current_viewer()
    job = get_job_or_404(job_id, viewer, options=[joinedload(Job.coop), selectinload(Job.criteria),
                                                  selectinload(Job.requirements)])
    if not can_see_scores(viewer, job):
        abort(404)
    return job


# No login_required: a visitor gets the same 404 as everyone else who may not see scores,
# not a sign-in page that would treat the scores as something to be had.
@bp.get("/jobs/<int:job_id>/scores")
def ranking(job_id):
    job = _job_with_scores(job_id)
    return render_template("evaluation/ranking.html", job=job, rows=services.ranking(job, current_user),
                           scoring_open=services.scoring_open(job))


@bp.route("/jobs/<int:job_id>/bids/<int:bid_id>/score", methods=["GET", "POST"])
def score(job_id, bid_id):
    job = _job_with_scores(job_id)
    bid = db.session.get(Bid, bid_id, options=[selectinload(Bid.answers), joinedload(Bid.coop)])
    if bid is None or bid.job_id != job.id or bid.status not in RECEIVED_STATUSES:
        abort(404)
    own, _ = services.bid_scores(bid, current_user)
    form = score_form(job.criteria, own, request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate_on_submit():
        saved = save_change(lambda: services.submit_scores(bid, current_user, form.entries()), form,
                            "Your scores are saved.", retry=True)
        if saved:
            return redirect(url_for("evaluation.score", job_id=job.id, bid_id=bid.id))
    own, scorers = services.bid_scores(bid, current_user)
    return render_template("evaluation/score.html", job=job, bid=bid, form=form, own=own, scorers=scorers,
                           flags=services.flagged_requirements(bid), scoring_open=services.scoring_open(job)), (422 if form.errors else 200)
