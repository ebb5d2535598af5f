"""Saved searches: the list, saving one from /jobs or /search, editing, deleting, and the
one-click unsubscribe link of the emails (RFC 8058)."""
from urllib.parse import parse_qsl

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from ..core.forms import ActionForm
from ..core.work import save_change
from ..extensions import csrf, db
from ..feeds.panels import feed_links
from ..feeds.services import viewer_for_token
from . import calendar, digest, services
from .forms import EditSearchForm, SaveSearchForm

bp = Blueprint("alerts", __name__, url_prefix="/alerts")


@bp.get("/")
@login_required
def index():
    searches = services.searches_for(current_user)
    weekly = [(link.coop, digest.is_getting(link.coop_id, current_user.id)) for link in current_user.coop_links]
    return render_template("alerts/index.html", searches=searches, action_form=ActionForm(), weekly=weekly, weekly_day=digest.when(),
                           feeds={s.id: feed_links("feeds.jobs", query=dict(parse_qsl(s.query)))
                                  for s, _ in searches if not s.match_skills},
                           can_manage=lambda s: services.can_manage(current_user, s))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    coops = [link.coop for link in current_user.coop_links]
    form = SaveSearchForm(coops=coops)
    if request.method == "GET":
        try:
            query_string, query = services.checked_query(request.args)
        except services.AlertRuleError as error:
            flash(str(error), "error")
            return redirect(url_for("jobs.index"))
        form.query.data, form.name.data = query_string, query.title
    if form.validate_on_submit():
        coop = next((c for c in coops if str(c.id) == form.audience.data), None)
        if save_change(lambda: services.save_search(current_user, form.name.data, dict(parse_qsl(form.query.data)),
                                                    form.delivery.data, coop),
                       form, f"Saved “{form.name.data.strip()}”."):
            return redirect(url_for("alerts.index"))
    return render_template("alerts/new.html", form=form), (422 if form.errors else 200)


def _own_or_404(search_id):
    return services.visible_search(current_user, search_id) or abort(404)


@bp.route("/<int:search_id>", methods=["GET", "POST"])
@login_required
def edit(search_id):
    search = _own_or_404(search_id)
    if not services.can_manage(current_user, search):
        abort(403)
    form = EditSearchForm(obj=search if request.method == "GET" else None)
    if form.validate_on_submit() and save_change(
            lambda: services.update_search(search, current_user, form.name.data, form.delivery.data,
                                           form.paused.data), form, "Saved search updated."):
        return redirect(url_for("alerts.index"))
    return render_template("alerts/edit.html", form=form, search=search), (422 if form.errors else 200)


@bp.post("/<int:search_id>/delete")
@login_required
def remove(search_id):
    search = _own_or_404(search_id)
    if not ActionForm().validate():
        abort(400)
    save_change(lambda: services.delete_search(search, current_user), success="Saved search deleted.")
    return redirect(url_for("alerts.index"))


@bp.post("/<int:search_id>/getting")
@login_required
def getting(search_id):
    """A member starts or stops getting their co-op's saved search."""
    search = _own_or_404(search_id)
    if not ActionForm().validate() or search.coop_id is None:
        abort(400)
    wanted = request.form.get("getting") == "yes"
    save_change(lambda: services.set_getting(search, current_user, wanted),
                success=f"You will {'' if wanted else 'no longer '}get “{search.name}”.")
    return redirect(url_for("alerts.index"))


@bp.post("/weekly/<int:coop_id>")
@login_required
def weekly(coop_id):
    """A member starts or stops getting their co-op's weekly digest."""
    link = next((link for link in current_user.coop_links if link.coop_id == coop_id), None) or abort(404)
    if not ActionForm().validate():
        abort(400)
    wanted = request.form.get("getting") == "yes"
    save_change(lambda: digest.set_getting(coop_id, current_user.id, wanted),
                success=f"You will {'' if wanted else 'no longer '}get {link.coop.name}'s weekly digest.")
    return redirect(url_for("alerts.index"))


@bp.get("/calendar/<token>.ics")
def deadlines(token):
    """The private calendar of a feed token's owner (a 404 once the token is revoked)."""
    viewer = viewer_for_token(token) or abort(404)
    db.session.commit()  # the token's last use
    response = Response(calendar.calendar(viewer), mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed link is the proof; mail clients post it without a form (RFC 8058)
def unsubscribe(token):
    found = services.read_unsubscribe_token(token)
    if found is None:
        abort(404)
    search, user = found
    return _unsubscribe_page(search.name, lambda: services.unsubscribe(search, user))


@bp.route("/weekly/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # as above
def weekly_unsubscribe(token):
    coop, user = digest.read_unsubscribe_token(token) or abort(404)
    return _unsubscribe_page(f"{coop.name}'s weekly digest", lambda: digest.set_getting(coop.id, user.id, False))


def _unsubscribe_page(name, stop):
    """Asks first (a GET); a POST, from the page or from a mail client, stops the emails."""
    if request.method == "POST":
        stop()
        db.session.commit()
        return render_template("alerts/unsubscribed.html", name=name)
    return render_template("alerts/unsubscribe.html", name=name)
