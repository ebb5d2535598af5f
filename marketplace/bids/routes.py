"""Bidding pages: interest, the bid form, one bid, the sealed review, the poster's decisions."""
from flask import (Blueprint, Response, abort, flash, redirect, render_template,
                   request, url_for)
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from ..core.templating import format_date, format_datetime
from ..core.check import changing, confirmation, needs_check
from ..core.forms import ActionForm, attach_error
from ..core.rules import RuleError
from ..core.work import save_change
from ..documents import services as documents
from ..extensions import db, login_manager
from ..evaluation.policy import can_see_scores
from ..federation import can_view_job, current_viewer, get_job_or_404
from ..jobs.models import Job
from . import services
from .forms import (AwardForm, FeedbackForm, FeedbackReplyForm, FeedbackRequestForm, InterestForm, WithdrawAwardForm,
                    bid_form)
from .models import Bid
from .panels import check_before_submitting
from .policy import (can_decide_bids, can_download_bids, can_review_bids, can_view_bid, is_own_bid,
                     is_poster)

bp = Blueprint("bids", __name__)


def _job(job_id):
    """The job (404 if the viewer may not see it), then a sign-in for anonymous visitors."""
    job = get_job_or_404(job_id, options=[joinedload(Job.coop), joinedload(Job.requirements)])
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    return job


def _bidding_coops(job):
    coops = services.bidding_coops(current_user, job)
    if not coops:
        if current_user.is_member_of(job.coop) and len(current_user.coop_links) == 1:
            abort(403, description="A co-op cannot bid on its own job.")
        waiting = services.waiting_to_act(current_user.coops, job)
        abort(403, description=" ".join(waiting) or "None of your co-ops can bid on this job: bidding is "
                               "for members of co-ops that can see it, other than the poster.")
    return coops


def _chosen(coops):
    wanted = request.values.get("coop", type=int)
    return next((c for c in coops if c.id == wanted), coops[0])


# --- interest --------------------------------------------------------------------------------

@bp.route("/jobs/<int:job_id>/interest", methods=["GET", "POST"])
def interest(job_id):
    job = _job(job_id)
    coops = _bidding_coops(job)
    form = InterestForm(coops=coops)
    if form.validate_on_submit():
        coop = next(c for c in coops if c.id == form.coop.data)
        if save_change(lambda: services.register_interest(job, coop, current_user, form.bid_by.data), form,
                       f"{coop.name}'s interest is registered. It lapses by itself if no bid follows "
                       f"by {form.bid_by.data:%-d %B %Y}.", retry=True):
            return redirect(url_for("jobs.show", job_id=job.id, _anchor="bidding"))
    return render_template("bids/interest.html", job=job, form=form), (422 if form.errors else 200)


@bp.post("/jobs/<int:job_id>/interest/withdraw")
def withdraw_interest(job_id):
    job = _job(job_id)
    coop = _chosen(_bidding_coops(job))
    _act(lambda: services.withdraw_interest(job, coop, current_user), "Interest withdrawn.")
    return redirect(url_for("jobs.show", job_id=job.id, _anchor="bidding"))


# --- the bid form ----------------------------------------------------------------------------

@bp.route("/jobs/<int:job_id>/bid", methods=["GET", "POST"])
def edit(job_id):
    """Draft, edit and submit the chosen co-op's bid (its one live bid on this job)."""
    job = _job(job_id)
    coops = _bidding_coops(job)
    coop = _chosen(coops)
    if request.method == "GET" and not job.is_open:
        flash(services.closed_message(job) + " It takes no more bids.", "error")
        return redirect(url_for("jobs.show", job_id=job.id))
    form = bid_form(job.requirements, coops).receive_documents(current_user)
    bid = services.live_bid(job, coop)
    if request.method == "GET":
        form.coop.data = coop.id
        if bid is not None:
            form.load(bid)
    if not changing() and form.validate_on_submit():
        check = check_before_submitting(job, form, bid)
        if check is not None:
            return check
        coop = next(c for c in coops if c.id == form.coop.data)
        saved = save_change(form.saving(services.save_bid, coop, job, coop, current_user), form, retry=True)
        if saved:
            bid = saved.result
            if bid.status == "draft":
                flash("Draft saved. Nobody but your co-op can see it; submit it before the deadline.", "success")
            else:
                flash(f"Bid submitted. It stays sealed until bids close on "
                      f"{format_datetime(job.bids_deadline)}; you can edit or withdraw it until then.",
                      "success")
            return redirect(url_for("bids.show", bid_id=bid.id))
    return render_template("bids/form.html", job=job, form=form, bid=bid, coop=coop,
                           attached=documents.owned("bid", bid.id) if bid else []), \
        (422 if form.errors else 200)


def _visible_bid(bid_id):
    """The bid, if the viewer may see its contents; 404 otherwise (never confirm it exists)."""
    bid = db.session.get(Bid, bid_id, options=[joinedload(Bid.job), joinedload(Bid.coop),
                                               selectinload(Bid.answers)])
    if bid is None or not can_view_bid(current_viewer(), bid):
        abort(404)
    return bid


@bp.get("/bids/<int:bid_id>")
def show(bid_id):
    return _render_bid(_visible_bid(bid_id))


def _render_bid(bid, feedback_request_form=None, feedback_reply_form=None):
    viewer = current_viewer()
    own = is_own_bid(viewer, bid)
    may_ask = (own and bid.status == "unsuccessful" and bid.job.award_intended
               and bid.feedback_requested_at is None)
    decide = can_decide_bids(viewer, bid.job)
    may_reply = decide and bid.feedback_requested_at is not None
    return render_template(
        "bids/show.html", bid=bid, job=bid.job, own=own, action_form=ActionForm(),
        documents=documents.owned("bid", bid.id), 
        removable=own and bid.job.is_open and bid.status in ("draft", "submitted"),
        decide=decide,
        award_form=AwardForm(prefix=f"award-{bid.id}", agreed_value=bid.total,
                             agreed_start=bid.available_from),
        feedback_form=FeedbackForm(prefix=f"reject-{bid.id}"),
        feedback_request_form=feedback_request_form or (FeedbackRequestForm() if may_ask else None),
        feedback_reply_form=feedback_reply_form or (
            FeedbackReplyForm(formdata=None, feedback=bid.feedback) if may_reply else None),
    )


@bp.post("/bids/<int:bid_id>/withdraw")
def withdraw(bid_id):
    bid = _visible_bid(bid_id)
    if bid.coop_id not in current_viewer().coop_ids:
        abort(404)
    _act(lambda: services.withdraw_bid(bid, current_user), "Bid withdrawn.")
    return redirect(url_for("jobs.show", job_id=bid.job_id, _anchor="bidding"))


def _act(change, message):
    if not ActionForm().validate():
        abort(400)
    return save_change(change, success=message, retry=True)


# --- the poster's review ---------------------------------------------------------------------

@bp.get("/jobs/<int:job_id>/bids")
def review(job_id):
    job = get_job_or_404(job_id, options=[joinedload(Job.coop), joinedload(Job.requirements)])
    return _render_review(job)


def _render_review(job, forms=None, status=200):
    """Before the deadline: the count only. After: every received bid, side by side, for
    the poster's co-op and the coordinators of the job's networks."""
    viewer = current_viewer()
    unsealed = can_review_bids(viewer, job)
    bids = services.received_bids(job) if unsealed else []
    forms = forms or {}
    award_forms = {b.id: forms.get(("award", b.id)) or AwardForm(
        prefix=f"award-{b.id}", formdata=None, agreed_value=b.total, agreed_start=b.available_from)
        for b in bids}
    feedback_forms = {b.id: forms.get(("reject", b.id)) or FeedbackForm(prefix=f"reject-{b.id}", formdata=None)
                      for b in bids}
    decide = can_decide_bids(viewer, job)
    withdraw_form = forms.get("withdraw_award") or (
        WithdrawAwardForm(formdata=None) if decide and job.award_intended else None)
    return render_template(
        "bids/review.html", job=job, bids=bids, unsealed=unsealed,
        count=len(bids) if unsealed else services.received_count(job),
        decide=decide, action_form=ActionForm(), withdraw_award_form=withdraw_form,
        download=can_download_bids(viewer, job), scores=bool(job.criteria) and can_see_scores(viewer, job),
        award_forms=award_forms, feedback_forms=feedback_forms, failed=list(forms.values()),
    ), status


def _decided_bid(bid_id):
    """A bid the poster's co-op decides on. The rules (``services``) say why a decision is
    refused (sealed until the deadline, already awarded …); anyone else gets 404, or 403
    when they may see the bid (a coordinator reviews but does not decide)."""
    bid = db.session.get(Bid, bid_id, options=[joinedload(Bid.job), joinedload(Bid.coop)])
    viewer = current_viewer()
    if bid is None or not can_view_job(viewer, bid.job):
        abort(404)
    if not is_poster(viewer, bid.job):
        if can_view_bid(viewer, bid):
            abort(403, description="Only the co-op that posted the job decides on its bids.")
        abort(404)
    return bid


def _decide(bid, form_key, form, change, message):
    """Run a decision from the review page; a refused one shows the page again (422)."""
    if form is not None and not form.validate_on_submit():
        return _render_review(bid.job, {form_key: form}, 422)
    if save_change(change, form, message, retry=True) or form is None:
        return redirect(url_for("bids.review", job_id=bid.job_id))
    return _render_review(bid.job, {form_key: form}, 422)


@bp.post("/bids/<int:bid_id>/shortlist")
def shortlist(bid_id):
    bid = _decided_bid(bid_id)
    if not ActionForm().validate():
        abort(400)
    return _decide(bid, None, None, lambda: services.shortlist_bid(bid, current_user),
                   f"{bid.coop.name}'s bid is shortlisted.")


@bp.post("/bids/<int:bid_id>/reject")
def reject(bid_id):
    bid = _decided_bid(bid_id)
    form = FeedbackForm(prefix=f"reject-{bid.id}")
    return _decide(bid, ("reject", bid.id), form,
                   lambda: services.reject_bid(bid, current_user, form.feedback.data),
                   f"{bid.coop.name}'s bid is marked unsuccessful.")


@bp.post("/bids/<int:bid_id>/award")
def award(bid_id):
    """The award form posts here twice: first to see what the award will do (``confirmation``),
    then from that page's "Yes, award" button, with ``confirmed=yes``, to award."""
    bid = _decided_bid(bid_id)
    form = AwardForm(prefix=f"award-{bid.id}")
    if form.validate_on_submit() and needs_check(True):
        try:
            services.check_award(bid, current_user, form.agreed_value.data, form.agreed_start.data)
        except RuleError as error:
            attach_error(form, error)
            return _render_review(bid.job, {("award", bid.id): form}, 422)
        return _confirm_award(bid, form)
    return _decide(bid, ("award", bid.id), form, lambda: services.award_bid(
        bid, current_user, form.agreed_value.data, form.agreed_start.data,
        form.feedback.data, form.others_feedback.data, form.publish_outcome.data,
    ), f"Awarded to {bid.coop.name}. The other bidders have been told.")


def _confirm_award(bid, form):
    job = bid.job
    others = services.rivals(bid)
    final = services.standstill_ends()
    winners = ", ".join(c.name for c in services.bidder_coops(bid))
    rows = [
        ("Winner", bid.bidder_name),
        ("Agreed value", bid.money(form.agreed_value.data)),
        ("Agreed start", format_date(form.agreed_start.data)),
        ("Message to the winner", form.feedback.data),
        ("Marked unsuccessful", ", ".join(o.bidder_name for o in others) or "No other bid is in the running"),
        ("Feedback to them", form.others_feedback.data if others else ""),
        ("Who is told", "; ".join(filter(None, [f"{winners}: they won",
                                                ", ".join(o.bidder_name for o in others)
                                                and f"{', '.join(o.bidder_name for o in others)}: unsuccessful"]))),
        ("When it is final", f"Intended until {format_date(final)}: until then the unsuccessful bidders may ask "
                             f"for feedback, and you may withdraw the award with a reason." if final
         else "At once: an award cannot be taken back."),
        ("Who sees the outcome", "Everyone who can see the job, signed in or not" if form.publish_outcome.data
         else "The members of the networks that can see the job (not visitors who are not signed in)"),
    ]
    return confirmation(f"Award “{job.title}” to {bid.bidder_name}?", rows, "Yes, award",
                        url_for("bids.review", job_id=job.id, _anchor=f"bid-{bid.id}"))


@bp.post("/bids/<int:bid_id>/feedback-request")
def request_feedback(bid_id):
    bid = _visible_bid(bid_id)
    if not is_own_bid(current_viewer(), bid):
        abort(404)
    form = FeedbackRequestForm()
    if form.validate_on_submit() and save_change(
            lambda: services.request_feedback(bid, current_user, form.request.data), form,
            "Your request is sent: the poster has been told.", retry=True):
        return redirect(url_for("bids.show", bid_id=bid.id))
    return _render_bid(bid, feedback_request_form=form), 422


@bp.post("/bids/<int:bid_id>/feedback")
def reply_to_feedback(bid_id):
    """The poster's co-op answers a request for feedback, from the bid's page."""
    bid = _decided_bid(bid_id)
    form = FeedbackReplyForm()
    if form.validate_on_submit() and save_change(
            lambda: services.reply_to_feedback(bid, current_user, form.feedback.data), form,
            "Your feedback is sent: the bidder has been told."):
        return redirect(url_for("bids.show", bid_id=bid.id))
    return _render_bid(bid, feedback_reply_form=form), 422


@bp.post("/jobs/<int:job_id>/award/withdraw")
def withdraw_award(job_id):
    job = get_job_or_404(job_id, options=[joinedload(Job.coop), joinedload(Job.requirements)])
    if not can_decide_bids(current_viewer(), job):
        abort(404)
    form = WithdrawAwardForm()
    if form.validate_on_submit():
        if needs_check(True):
            rows = [("Award withdrawn", _award_summary(job)), ("Reason", form.reason.data),
                    ("Then", "The job is closed again, awaiting your decision: the bids that the award decided "
                             "are back in the running."),
                    ("Who is told", "Every bidder whose bid the award decided")]
            return confirmation(f"Withdraw the intended award of “{job.title}”?", rows,
                                "Yes, withdraw the award", url_for("bids.review", job_id=job.id), danger=True)
        if save_change(lambda: services.withdraw_award(job, current_user, form.reason.data), form,
                       "The intended award is withdrawn. The bidders have been told.", retry=True):
            return redirect(url_for("bids.review", job_id=job.id))
    return _render_review(job, {"withdraw_award": form}, 422)


def _award_summary(job):
    won = services.awarded_bid(job)
    return f"{won.bidder_name}, {won.money(won.agreed_value)}" if won else ""


@bp.get("/jobs/<int:job_id>/bids.csv")
def download(job_id):
    """Every received bid as a spreadsheet, for the poster's co-op once bids close; 404 to
    anyone else and before the deadline (sealed bids stay sealed)."""
    job = get_job_or_404(job_id, options=[joinedload(Job.coop), joinedload(Job.requirements)])
    if not can_download_bids(current_viewer(), job):
        abort(404)
    body = services.bids_csv(job, services.received_bids(job))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="job-{job.id}-bids.csv"',
        "Cache-Control": "private, no-store",
    })


# --- our bids --------------------------------------------------------------------------------

@bp.get("/bids")
@login_required
def mine():
    page = services.coop_bids_page(current_viewer(), request.args.get("page", 1, type=int) or 1)
    return render_template("bids/mine.html", page=page)
