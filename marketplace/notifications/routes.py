"""Notification pages: the list, marking read, email settings; and the header bell's count."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SubmitField

from ..core.forms import ActionForm
from ..extensions import db
from ..federation import current_viewer
from ..jobs.forms import MultiCheckboxField
from . import services
from .models import SETTABLE_KINDS

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_template_global()
def unread_notification_count():
    """The bell's count: None for anonymous visitors (no query), one query otherwise."""
    if not current_user.is_authenticated:
        return None
    return services.cached_unread_count(current_user, current_viewer())


@bp.get("/")
@login_required
def index():
    page = services.notifications_page(current_user, current_viewer(),
                                       request.args.get("page", 1, type=int) or 1)
    return render_template("notifications/index.html", page=page, action_form=ActionForm())


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id):
    if not ActionForm().validate():
        abort(400)
    if not services.mark_read(current_user, notification_id):
        abort(404)
    db.session.commit()
    return redirect(url_for("notifications.index", page=request.args.get("page", type=int)))


@bp.post("/read-all")
@login_required
def read_all():
    if not ActionForm().validate():
        abort(400)
    count = services.mark_all_read(current_user)
    db.session.commit()
    flash(f"{count} notification{'' if count == 1 else 's'} marked as read." if count else
          "Nothing was unread.", "success")
    return redirect(url_for("notifications.index"))


class EmailSettingsForm(FlaskForm):
    email = MultiCheckboxField("Send me an email too when",
                               choices=[(k.value, k.label) for k in SETTABLE_KINDS])
    submit = SubmitField("Save")


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    form = EmailSettingsForm()
    if request.method == "GET":
        form.email.data = [k.value for k, wanted in services.email_settings(current_user).items() if wanted]
    if form.validate_on_submit():
        services.save_email_settings(current_user, form.email.data or [])
        db.session.commit()
        flash("Email settings saved.", "success")
        return redirect(url_for("notifications.settings"))
    return render_template("notifications/settings.html", form=form), (422 if form.errors else 200)
