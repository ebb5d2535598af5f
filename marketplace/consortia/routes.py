"""Consortium pages: forming one, its page (members, split, comments, bid), partner offers."""
from __future__ import annotations

from typing import TYPE_CHECKING
from flask import (Blueprint, abort, flash, redirect, render_template, request,
                   url_for)
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from ..core.check import changing, confirmation, needs_check
from ..core.rules import RuleError
from ..core.forms import ActionForm
from ..audit.services import history
from ..bids import services as bid_services
from ..bids.forms import bid_form
from ..bids.panels import check_before_submitting
from ..bids.models import Bid
from ..core.templating import format_datetime
from ..core.work import save_change
from ..documents import services as documents
from ..extensions import db, login_manager
from ..federation import current_viewer, get_job_or_404
from ..jobs.models import Job
from . import policy, services
from .forms import CommentForm, ConsortiumForm, InviteForm, OfferForm, split_form
from .models import Consortium, ConsortiumMember

if TYPE_CHECKING:
    from collections.abc import Sequence
    from ..consortia.models import PartnerOffer

bp = Blueprint("consortia", __name__)


def _signed_in():
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())


def _consortium(consortium_id):
    """The consortium, if the viewer may see its page; 404 otherwise (never confirm it exists)."""
    consortium = db.session.get(Consortium, consortium_id, options=[
        joinedload(Consortium.job), joinedload(Consortium.lead_coop),
        selectinload(Consortium.members).joinedload(ConsortiumMember.coop)])
    if not policy.can_view_consortium(current_viewer(), consortium):
        abort(404)
    return consortium


# --- forming ---------------------------------------------------------------------------------

@bp.get("/consortia")
@login_required
def mine():
    page = services.consortia_of(current_viewer(), request.args.get("page", 1, type=int) or 1)
    return render_template("consortia/mine.html", page=page, viewer=current_viewer())


@bp.route("/consortia/new", methods=["GET", "POST"])
def new():
    """Form a consortium: for a job (``?job=``), or a standing one."""
    job_id = request.args.get("job", type=int)
    job = get_job_or_404(job_id, options=[joinedload(Job.coop)]) if job_id else None
    _signed_in()
    coops = services.leading_coops(current_user, job)
    if not coops:
        abort(403, description="None of your co-ops can bid on this job: a consortium is formed by a "
                               "co-op that may bid on it." if job else "You do not belong to a co-op.")
    form = ConsortiumForm(coops=coops)
    if request.method == "GET" and job is not None:
        form.name.data = f"{coops[0].name} and partners"
    if form.validate_on_submit():
        coop = next(c for c in coops if c.id == form.coop.data)
        saved = save_change(lambda: services.create_consortium(
            current_user, coop, form.name.data, form.description.data, form.role.data, job=job),
            form, "Consortium formed. Invite your partners, then agree the split.", retry=True)
        if saved:
            return redirect(url_for("consortia.show", consortium_id=saved.result.id))
    return render_template("consortia/new.html", form=form, job=job), (422 if form.errors else 200)


# --- the consortium page ---------------------------------------------------------------------

@bp.get("/consortia/<int:consortium_id>")
def show(consortium_id):
    return _render(_consortium(consortium_id))


def _render(consortium, status=200, invite_form=None, split=None, comment_form=None, error=None):
    viewer = current_viewer()
    taking_part = policy.taking_part(viewer, consortium)
    leads = policy.leads(viewer, consortium) and current_user.is_authenticated
    job = consortium.job
    frozen = services.frozen_bid(consortium)
    editable = leads and frozen is None and (job is None or job.is_open)
    my_coops = [m.coop for m in consortium.participants if m.coop_id in viewer.coop_ids]
    if not editable:
        # A refused lead's form that this page will not show: say why at the top instead.
        for form in (invite_form, split):
            if form is not None and form.errors:
                error = error or " ".join(_messages(form))
                invite_form = split = None
    bids: Sequence[Bid] = []
    if taking_part:
        bids = db.session.scalars(
            db.select(Bid).where(Bid.consortium_id == consortium.id).options(joinedload(Bid.job))
            .order_by(Bid.id.desc())).all()
    offers: Sequence[PartnerOffer] = []
    if leads and job is not None and job.is_open:
        offers = services.offers_on(job, {m.coop_id for m in consortium.participants})
    return render_template(
        "consortia/show.html", consortium=consortium, job=job, taking_part=taking_part, leads=leads,
        editable=editable, frozen=frozen,
        show_shares=policy.can_view_shares(viewer, consortium),
        my_members=[m for m in consortium.members if m.coop_id in viewer.coop_ids],
        invite_form=invite_form or (InviteForm(formdata=None) if editable else None),
        invitable=services.invitable_names(consortium) if editable else [],
        split=split or (split_form(consortium.participants, formdata=None) if editable else None),
        comment_form=comment_form or (CommentForm(coops=my_coops, formdata=None) if taking_part else None),
        comments=consortium.comments if taking_part else [],
        events=history(consortium, public_only=False) if taking_part else [],
        bids=bids, offers=offers, action_form=ActionForm(), error=error,
        totals=consortium.totals(),
    ), status


def _messages(form):
    return list(form.form_errors) + [e for name, errors in form.errors.items() if name is not None
                                     for e in errors]


def _lead_consortium(consortium_id):
    consortium = _consortium(consortium_id)
    _signed_in()
    return consortium


@bp.post("/consortia/<int:consortium_id>/invite")
def invite(consortium_id):
    consortium = _lead_consortium(consortium_id)
    form = InviteForm()
    if form.validate_on_submit():
        coop = services.find_coop(form.coop.data)
        if save_change(lambda: services.invite(consortium, current_user, coop, form.role.data), form, retry=True):
            assert coop is not None  # invite refuses a co-op that was not found
            flash(f"{coop.name} is invited. Agree its share of the work and money in the split below.", "success")
            return redirect(url_for("consortia.show", consortium_id=consortium.id))
    return _render(consortium, 422, invite_form=form)


@bp.post("/consortia/<int:consortium_id>/split")
def split(consortium_id):
    consortium = _lead_consortium(consortium_id)
    form = split_form(consortium.participants)
    if form.validate_on_submit():
        saved = save_change(lambda: services.save_split(consortium, current_user, form.rows()), form, retry=True)
        if saved:
            changed = saved.result
            names = [m.coop.name for m in changed if m.status == "reaccept"]
            again = f" Waiting for {', '.join(names)} to accept the new split." if names else ""
            flash(("Split saved." if changed else "Nothing changed.") + again, "success")
            return redirect(url_for("consortia.show", consortium_id=consortium.id))
    return _render(consortium, 422, split=form)


def _member_action(consortium_id, member_id, change, message):
    consortium = _consortium(consortium_id)
    _signed_in()
    if not ActionForm().validate():
        abort(400)
    member = next((m for m in consortium.members if m.id == member_id), None)
    if member is None or member.coop_id not in current_viewer().coop_ids:
        abort(404)
    saved = save_change(lambda: change(consortium, member, current_user), retry=True, show=False)
    if not saved:
        return _render(consortium, 422, error=str(saved.error))
    flash(message.format(coop=member.coop.name, name=consortium.name), "success")
    return redirect(url_for("consortia.show", consortium_id=consortium.id))


@bp.post("/consortia/<int:consortium_id>/members/<int:member_id>/accept")
def accept(consortium_id, member_id):
    return _member_action(consortium_id, member_id, services.accept, "{coop} takes part in “{name}”.")


@bp.post("/consortia/<int:consortium_id>/members/<int:member_id>/decline")
def decline(consortium_id, member_id):
    return _member_action(consortium_id, member_id, services.decline, "{coop} declined.")


@bp.post("/consortia/<int:consortium_id>/members/<int:member_id>/leave")
def leave(consortium_id, member_id):
    return _member_action(consortium_id, member_id, services.leave, "{coop} left “{name}”.")


@bp.post("/consortia/<int:consortium_id>/dissolve")
def dissolve(consortium_id):
    consortium = _lead_consortium(consortium_id)
    if not ActionForm().validate():
        abort(400)
    if needs_check(True):
        try:
            services.check_dissolve(consortium, current_user)
        except RuleError as error:
            return _render(consortium, 422, error=error.message)
        bids = services.live_bids(consortium)
        rows = [("Consortium", consortium.name),
                ("Its bids", ", ".join(f"{b.job.title} ({b.status_label.lower()}): withdrawn" for b in bids)
                 or "It has no bid to withdraw"),
                ("Then", "Its co-ops no longer bid together; the consortium's page stays, marked dissolved."),
                ("Who is told", ", ".join(m.coop.name for m in consortium.participants))]
        return confirmation(f"Dissolve “{consortium.name}”?", rows, "Yes, dissolve it",
                            url_for("consortia.show", consortium_id=consortium.id), danger=True)
    saved = save_change(lambda: services.dissolve(consortium, current_user), retry=True, show=False)
    if not saved:
        return _render(consortium, 422, error=str(saved.error))
    flash("The consortium is dissolved.", "success")
    return redirect(url_for("consortia.show", consortium_id=consortium.id))


@bp.post("/consortia/<int:consortium_id>/comments")
def comment(consortium_id):
    consortium = _consortium(consortium_id)
    _signed_in()
    viewer = current_viewer()
    if not policy.can_comment(viewer, consortium):
        abort(403, description="Only the co-ops taking part in the consortium can comment.")
    coops = [m.coop for m in consortium.participants if m.coop_id in viewer.coop_ids]
    form = CommentForm(coops=coops)
    if form.validate_on_submit():
        coop = next(c for c in coops if c.id == form.coop.data)
        if save_change(lambda: services.add_comment(consortium, current_user, coop, form.text.data), form,
                       "Comment posted.", retry=True):
            return redirect(url_for("consortia.show", consortium_id=consortium.id, _anchor="comments"))
    return _render(consortium, 422, comment_form=form)


# --- bidding as one --------------------------------------------------------------------------

@bp.route("/consortia/<int:consortium_id>/jobs/<int:job_id>/bid", methods=["GET", "POST"])
def bid(consortium_id, job_id):
    """The consortium's one live bid on a job, drafted and submitted by its lead co-op."""
    consortium = _consortium(consortium_id)
    job = get_job_or_404(job_id, options=[joinedload(Job.coop), joinedload(Job.requirements)])
    _signed_in()
    if consortium.job_id not in (None, job.id):
        abort(404)
    if not policy.leads(current_viewer(), consortium):
        abort(403, description=f"Only the lead co-op, {consortium.lead_coop.name}, bids for the consortium.")
    if request.method == "GET" and not job.is_open:
        flash(bid_services.closed_message(job) + " It takes no more bids.", "error")
        return redirect(url_for("consortia.show", consortium_id=consortium.id))
    lead = consortium.lead_coop
    form = bid_form(job.requirements, [lead]).receive_documents(current_user)
    current = services.live_consortium_bid(consortium, job)
    if request.method == "GET":
        form.coop.data = lead.id
        if current is not None:
            form.load(current)
    bidding_for = f"the consortium {consortium.name} (led by {lead.name})"
    if not changing() and form.validate_on_submit():
        check = check_before_submitting(job, form, current, bidding_for=bidding_for)
        if check is not None:
            return check
        done = save_change(form.saving(services.save_consortium_bid, lead, consortium, job, current_user), form,
                           retry=True)
        if done:
            saved = done.result
            if saved.status == "draft":
                flash("Draft saved. Only the consortium's co-ops can see it; submit it before the deadline.",
                      "success")
            else:
                flash(f"Bid submitted for the consortium. It stays sealed until bids close on "
                      f"{format_datetime(job.bids_deadline)}.", "success")
            return redirect(url_for("bids.show", bid_id=saved.id))
    return render_template(
        "bids/form.html", job=job, form=form, bid=current, coop=lead,
        attached=documents.owned("bid", current.id) if current else [],
        action_url=url_for("consortia.bid", consortium_id=consortium.id, job_id=job.id),
        bidding_for=bidding_for,
    ), (422 if form.errors else 200)


# --- partner offers --------------------------------------------------------------------------

@bp.post("/jobs/<int:job_id>/partner-offer")
def offer(job_id):
    job = get_job_or_404(job_id, options=[joinedload(Job.coop)])
    _signed_in()
    coops = bid_services.bidding_coops(current_user, job)
    if not coops:
        abort(403, description="None of your co-ops can bid on this job.")
    form = OfferForm(coops=coops)
    if form.validate_on_submit():
        coop = next(c for c in coops if c.id == form.coop.data)
        if save_change(lambda: services.offer_partnership(job, coop, current_user, form.message.data), form,
                       f"{coop.name} offered itself as a partner. The leads of consortia for this job see it.",
                       retry=True):
            return redirect(url_for("jobs.show", job_id=job.id, _anchor="consortia"))
    return render_template("consortia/offer.html", job=job, form=form), 422


@bp.post("/jobs/<int:job_id>/partner-offer/withdraw")
def withdraw_offer(job_id):
    job = get_job_or_404(job_id)
    _signed_in()
    if not ActionForm().validate():
        abort(400)
    coop = next((c for c in current_user.coops if c.id == request.form.get("coop", type=int)), None)
    if coop is None:
        abort(404)
    save_change(lambda: services.withdraw_offer(job, coop, current_user), success="Offer withdrawn.", retry=True)
    return redirect(url_for("jobs.show", job_id=job.id, _anchor="consortia"))
