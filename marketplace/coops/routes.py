"""Co-op pages: the directory, profiles, registering and editing, members, requests to join."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..core.forms import ActionForm
from ..core.fragments import framed, render_shared, shared
from ..core.work import save_change
from ..federation import current_viewer
from ..federation import services as federation
from ..federation.forms import NetworkApplicationForm
from ..jobs.services import JobFilters, list_jobs
from ..skills.services import all_skills
from . import services
from .forms import CoopForm, DirectoryFilterForm, JoinRequestForm, MemberForm, RoleForm, page_arg

bp = Blueprint("coops", __name__, url_prefix="/coops")


def _coop_or_404(slug, members=False):
    coop = services.coop_by_slug(slug, members=members)
    if coop is None:
        abort(404)
    return coop


def _admin_coop(slug):
    """A co-op the current user administers; anyone else is refused (profiles are public, so 403)."""
    coop = _coop_or_404(slug)
    if not services.is_admin(current_user, coop):
        abort(403)
    return coop


def _check_action():
    if not ActionForm().validate():
        abort(400)


# --- directory and profile -------------------------------------------------------------------

@bp.get("/")
def index():
    viewer = current_viewer()
    # A shared part (core/fragments.py): rendered once per audience until the next write.
    content = shared("coops.index", viewer, lambda: _directory(viewer))
    return framed("coops/index.html", content)


def _directory(viewer):
    networks, skills = federation.all_networks(), all_skills()
    form = DirectoryFilterForm(request.args, networks=networks, skills=skills)
    ignored = not form.validate()
    if ignored:
        # Drop the values that were not understood and carry on with the rest.
        for field in form:
            if field.errors:
                field.data = field.default
    filters = services.DirectoryFilters(
        network=next((n for n in networks if n.slug == form.network.data), None),
        skill=next((s for s in skills if s.slug == form.skill.data), None),
        name=form.q.data or "",
    )
    page = services.list_coops(filters, page=form.page.data or 1,
                               per_page=current_app.config["COOPS_PER_PAGE"])
    return render_shared("coops/_index.html", viewer, form=form, page=page, filters=filters,
                         ignored=ignored, state_of=federation.membership_state)


@bp.get("/<slug>")
def show(slug):
    signed_in = current_user.is_authenticated
    coop = _coop_or_404(slug, members=signed_in)
    jobs = list_jobs(current_viewer(), JobFilters(coop=coop, state="any"), page=page_arg(),
                     per_page=current_app.config["JOBS_PER_PAGE"])
    is_member = services.is_member(current_user, coop)
    is_admin = services.is_admin(current_user, coop)
    apply_form = None
    if is_admin:
        open_networks = federation.networks_open_to(coop)
        if open_networks:
            apply_form = NetworkApplicationForm(networks=open_networks)
    return render_template(
        "coops/show.html", coop=coop, page=jobs,
        memberships=services.current_memberships(coop),
        members=sorted(coop.members, key=lambda m: (m.role, m.user.name.lower())) if signed_in else None,
        is_member=is_member, is_admin=is_admin, apply_form=apply_form,
        pending=services.pending_request(coop, current_user) if signed_in and not is_member else None,
    )


# --- registering and editing -----------------------------------------------------------------

def _chosen(objects, ids):
    wanted = set(ids or [])
    return [o for o in objects if o.id in wanted]


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    skills, networks = all_skills(), federation.all_networks()
    form = CoopForm(skills=skills, networks=networks)
    if form.validate_on_submit():
        saved = save_change(lambda: services.register_coop(
            current_user, form.values(), _chosen(skills, form.skills.data), _chosen(networks, form.networks.data),
        ), form)
        if saved:
            coop = saved.result
            message = f"{coop.name} is registered, and you are its admin."
            if form.networks.data:
                message += " Its network memberships are pending until a coordinator approves them."
            flash(message, "success")
            return redirect(url_for("coops.show", slug=coop.slug))
    return render_template("coops/form.html", form=form, coop=None), (422 if form.errors else 200)


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug):
    coop = _admin_coop(slug)
    skills = all_skills()
    form = CoopForm(obj=coop if request.method == "GET" else None, skills=skills)
    if request.method == "GET":
        form.skills.data = [s.id for s in coop.skills]
    if form.validate_on_submit() and save_change(
        lambda: services.update_coop(coop, current_user, form.values(), _chosen(skills, form.skills.data)),
        form, "Profile saved.",
    ):
        return redirect(url_for("coops.show", slug=coop.slug))
    return render_template("coops/form.html", form=form, coop=coop), (422 if form.errors else 200)


# --- members ---------------------------------------------------------------------------------

@bp.route("/<slug>/members", methods=["GET", "POST"])
@login_required
def members(slug):
    coop = _admin_coop(slug)
    form = MemberForm()
    if form.validate_on_submit() and save_change(
        lambda: services.add_member(coop, current_user, form.email.data, form.role.data),
        form, f"{form.email.data} is now a {form.role.data} of {coop.name}.",
    ):
        return redirect(url_for("coops.members", slug=coop.slug))
    return render_template(
        "coops/members.html", coop=coop, form=form, members=services.members_of(coop),
    ), (422 if form.errors else 200)


def _member_or_404(coop, member_id):
    member = services.member_by_id(coop, member_id)
    if member is None:
        abort(404)
    return member


@bp.post("/<slug>/members/<int:member_id>/role")
@login_required
def change_role(slug, member_id):
    coop = _admin_coop(slug)
    member = _member_or_404(coop, member_id)
    form = RoleForm()
    if not form.validate():
        flash("Choose member or admin.", "error")
    else:
        save_change(lambda: services.change_role(coop, current_user, member, form.role.data),
                    success=f"{member.user.name} is now {form.role.data}.")
    return redirect(url_for("coops.members", slug=coop.slug))


@bp.post("/<slug>/members/<int:member_id>/remove")
@login_required
def remove_member(slug, member_id):
    coop = _admin_coop(slug)
    member = _member_or_404(coop, member_id)
    _check_action()
    name = member.user.name
    save_change(lambda: services.remove_member(coop, current_user, member),
                success=f"{name} is no longer a member of {coop.name}.")
    if not services.is_admin(current_user, coop):  # the admin removed themselves
        return redirect(url_for("coops.show", slug=coop.slug))
    return redirect(url_for("coops.members", slug=coop.slug))


@bp.post("/<slug>/leave")
@login_required
def leave(slug):
    coop = _coop_or_404(slug)
    _check_action()
    member = services.membership_for(coop, current_user)
    if member is None:
        flash(f"You are not a member of {coop.name}.", "error")
    else:
        save_change(lambda: services.remove_member(coop, current_user, member),
                    success=f"You left {coop.name}.")
    return redirect(url_for("coops.show", slug=coop.slug))


# --- requests to join ------------------------------------------------------------------------

@bp.route("/<slug>/join", methods=["GET", "POST"])
@login_required
def join(slug):
    coop = _coop_or_404(slug)
    if services.is_member(current_user, coop):
        flash(f"You are already a member of {coop.name}.", "info")
        return redirect(url_for("coops.show", slug=coop.slug))
    form = JoinRequestForm()
    if form.validate_on_submit():
        if save_change(lambda: services.request_to_join(coop, current_user, form.message.data), form,
                       success=f"Your request to join {coop.name} was sent to its admins."):
            return redirect(url_for("coops.my_requests"))
    return render_template(
        "coops/join.html", coop=coop, form=form, pending=services.pending_request(coop, current_user),
    ), (422 if form.errors else 200)


@bp.get("/<slug>/requests")
@login_required
def requests(slug):
    coop = _admin_coop(slug)
    return render_template("coops/requests.html", coop=coop, requests=services.pending_requests(coop))


def _decide(slug, request_id, approve):
    coop = _admin_coop(slug)
    join_request = services.request_by_id(coop, request_id)
    if join_request is None:
        abort(404)
    _check_action()
    name = join_request.user.name
    save_change(lambda: services.decide_request(join_request, current_user, approve),
                success=f"{name} is now a member." if approve else f"The request from {name} was declined.")
    return redirect(url_for("coops.requests", slug=coop.slug))


@bp.post("/<slug>/requests/<int:request_id>/approve")
@login_required
def approve_request(slug, request_id):
    return _decide(slug, request_id, True)


@bp.post("/<slug>/requests/<int:request_id>/decline")
@login_required
def decline_request(slug, request_id):
    return _decide(slug, request_id, False)


@bp.get("/join-requests")
@login_required
def my_requests():
    return render_template("coops/my_requests.html", requests=services.requests_of(current_user))


@bp.post("/<slug>/networks")
@login_required
def apply(slug):
    """Co-op admins apply for a network the co-op does not belong to (pending until decided)."""
    coop = _admin_coop(slug)
    networks = federation.networks_open_to(coop)
    form = NetworkApplicationForm(networks=networks)
    if not form.validate():
        flash("Choose a network that your co-op does not belong to yet.", "error")
    else:
        network = next(n for n in networks if n.id == form.network.data)
        save_change(lambda: federation.apply_for_membership(coop, network, current_user),
                    success=f"{coop.name} applied to join {network.name}. A coordinator will decide.")
    return redirect(url_for("coops.show", slug=coop.slug))
