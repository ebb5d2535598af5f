"""Network pages: the networks, their member co-ops, coordinators and membership management."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..accounts.models import User
from ..coops.forms import page_arg
from ..coops.services import find_coop
from ..core.forms import ActionForm
from ..core.work import save_change
from ..extensions import db
from . import services
from .forms import CoopApplicationForm, CoordinatorForm, MembershipForm, NetworkForm
from .models import NetworkMembership

bp = Blueprint("federation", __name__, url_prefix="/networks")

MEMBERSHIPS_PER_PAGE = 50


def _network_or_404(slug):
    network = services.network_by_slug(slug)
    if network is None:
        abort(404)
    return network


def _managed_network(slug):
    """A network whose memberships the current user manages (its coordinators, site admins)."""
    network = _network_or_404(slug)
    if not services.can_manage(current_user, network):
        abort(403)
    return network


def _site_admin_only():
    if not services.can_manage_networks(current_user):
        abort(403)


def _membership_or_404(network, membership_id):
    membership = db.session.get(NetworkMembership, membership_id)
    if membership is None or membership.network_id != network.id:
        abort(404)
    return membership


def _check_action():
    if not ActionForm().validate():
        abort(400)


def _applicable_coops(network):
    """The current user's co-ops (as admin) that may apply for ``network``."""
    if not current_user.is_authenticated:
        return []
    return [
        link.coop for link in current_user.coop_links
        if link.is_admin and network in services.networks_open_to(link.coop)
    ]


@bp.get("/")
def index():
    return render_template(
        "federation/index.html", summaries=services.network_summaries(),
        can_create=services.can_manage_networks(current_user),
    )


def _render_show(network, membership_form=None, coordinator_form=None, apply_form=None, status=200):
    manage = services.can_manage(current_user, network)
    site_admin = services.can_manage_networks(current_user)
    if apply_form is None:
        coops = _applicable_coops(network)
        apply_form = CoopApplicationForm(coops=coops) if coops else None
    page = services.memberships_page(network, page_arg(), MEMBERSHIPS_PER_PAGE)
    return render_template(
        "federation/show.html", network=network, page=page,
        states={m.id: services.membership_state(m) for m in page.items},
        coordinators=services.coordinators_of(network) if current_user.is_authenticated else None,
        manage=manage, site_admin=site_admin,
        membership_form=membership_form or (MembershipForm() if manage else None),
        coordinator_form=coordinator_form or (CoordinatorForm() if site_admin else None),
        apply_form=apply_form,
    ), status


@bp.get("/<slug>")
def show(slug):
    return _render_show(_network_or_404(slug))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    _site_admin_only()
    form = NetworkForm()
    if form.validate_on_submit() and save_change(
        lambda: services.create_network(
            current_user, form.slug.data, form.name.data, form.in_federation.data,
            form.description.data or "", form.website.data or "",
        ),
        form, "Network created.",
    ):
        return redirect(url_for("federation.show", slug=form.slug.data.lower()))
    return render_template("federation/new.html", form=form), (422 if form.errors else 200)


# --- memberships -----------------------------------------------------------------------------

@bp.post("/<slug>/memberships")
@login_required
def add_membership(slug):
    network = _managed_network(slug)
    form = MembershipForm()
    if form.validate():
        coop = find_coop(form.coop.data)
        if coop is None:
            form.coop.errors = list(form.coop.errors) + ["There is no co-op with that short name or name."]
        elif save_change(
            lambda: services.add_membership(network, current_user, coop, form.status.data,
                                            form.since.data, form.until.data),
            form, f"{coop.name} added to {network.name}.",
        ):
            return redirect(url_for("federation.show", slug=network.slug))
    return _render_show(network, membership_form=form, status=422)


@bp.route("/<slug>/memberships/<int:membership_id>/edit", methods=["GET", "POST"])
@login_required
def edit_membership(slug, membership_id):
    network = _managed_network(slug)
    membership = _membership_or_404(network, membership_id)
    form = MembershipForm(obj=membership if request.method == "GET" else None, adding=False)
    if form.validate_on_submit() and save_change(
        lambda: services.update_membership(membership, current_user, form.status.data,
                                           form.since.data, form.until.data),
        form, f"Membership of {membership.coop.name} saved.",
    ):
        return redirect(url_for("federation.show", slug=network.slug))
    return render_template(
        "federation/membership.html", network=network, membership=membership,
        form=form, membership_form=form, state=services.membership_state(membership),
    ), (422 if form.errors else 200)


@bp.post("/<slug>/memberships/<int:membership_id>/remove")
@login_required
def remove_membership(slug, membership_id):
    network = _managed_network(slug)
    membership = _membership_or_404(network, membership_id)
    _check_action()
    name = membership.coop.name
    save_change(lambda: services.remove_membership(membership, current_user),
                success=f"{name} removed from {network.name}.")
    return redirect(url_for("federation.show", slug=network.slug))


@bp.post("/<slug>/apply")
@login_required
def apply(slug):
    """A co-op admin applies, from the network's page, for one of their co-ops."""
    network = _network_or_404(slug)
    coops = _applicable_coops(network)
    form = CoopApplicationForm(coops=coops)
    if not coops:
        flash(f"None of the co-ops you administer can apply to {network.name}.", "error")
        return redirect(url_for("federation.show", slug=network.slug))
    if form.validate():
        coop = next(c for c in coops if c.id == form.coop.data)
        if save_change(lambda: services.apply_for_membership(coop, network, current_user), form,
                       f"{coop.name} applied to join {network.name}. A coordinator will decide."):
            return redirect(url_for("federation.show", slug=network.slug))
    return _render_show(network, apply_form=form, status=422)


# --- coordinators ----------------------------------------------------------------------------

@bp.post("/<slug>/coordinators")
@login_required
def add_coordinator(slug):
    _site_admin_only()
    network = _network_or_404(slug)
    form = CoordinatorForm()
    if form.validate() and save_change(
        lambda: services.add_coordinator(network, current_user, form.email.data), form, "Coordinator added.",
    ):
        return redirect(url_for("federation.show", slug=network.slug))
    return _render_show(network, coordinator_form=form, status=422)


@bp.post("/<slug>/coordinators/<int:user_id>/remove")
@login_required
def remove_coordinator(slug, user_id):
    _site_admin_only()
    network = _network_or_404(slug)
    _check_action()
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    save_change(lambda: services.remove_coordinator(network, current_user, user),
                success=f"{user.name} no longer coordinates {network.name}.")
    return redirect(url_for("federation.show", slug=network.slug))
