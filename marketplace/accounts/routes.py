"""Account pages: register and confirm the address, sign in and out, password reset, dashboard
and settings; and the refusal of acting to users who have not confirmed their address."""
from flask import (Blueprint, abort, current_app, flash, make_response, redirect, render_template,
                   request, url_for)
from flask_login import current_user, login_required, login_user, logout_user

from ..api import services as api_services
from ..api.models import ApiToken
from ..coops.models import CoopRole
from ..core.tokens import create_from_form, revoke_own
from ..core.forms import ActionForm
from ..core.work import save_change
from ..extensions import db
from ..federation import current_viewer
from ..jobs.services import JobFilters, count_jobs
from ..mail import MailError, send_mail
from . import services
from .forms import (PASSWORD_HINT, ApiTokenForm, ChangePasswordForm, ForgotPasswordForm, LoginForm, NameForm,
                    RegisterForm, ResetPasswordForm, TimeZoneForm)

bp = Blueprint("accounts", __name__)


@bp.context_processor
def _hints():
    return {"password_hint": PASSWORD_HINT}


def _client_address():
    return (request.remote_addr or "unknown")[:64]


def _next_url():
    return services.safe_next_url(request.args.get("next")) or url_for("accounts.dashboard")


def _send(user, subject, template, **context):
    """Send an account message; a failure is logged, never shown (the answer must not differ)."""
    try:
        send_mail(user.email, subject, template, user=user, zone=user.time_zone, **context)
    except MailError:
        current_app.logger.exception("Mail %r to user %s failed", template, user.id)


def _send_confirmation_link(user):
    _send(user, "Confirm your email address", "confirm_email",
          link=url_for("accounts.confirm_email", token=services.make_verify_token(user), _external=True),
          hours=services.verify_link_hours())


def _send_registration_notice(user):
    _send(user, "Someone tried to register with your email address", "registration_notice",
          login_link=url_for("accounts.login", _external=True),
          reset_link=url_for("accounts.forgot_password", _external=True))


def _remember_device(response, user):
    """The device cookie: this browser is known to ``user``'s account from now on (only the
    sign-in page reads it)."""
    response.set_cookie(
        services.DEVICE_COOKIE, services.make_device_cookie(user), max_age=services.device_cookie_days() * 86400,
        path=url_for("accounts.login"), secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True,
        samesite="Lax",
    )
    return response


# --- registering and confirming the address --------------------------------------------------

@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.dashboard"))
    form = RegisterForm()
    if form.validate_on_submit():
        def change():
            user, created = services.register_user(form.name.data, form.email.data, form.password.data)
            return user, created, user is not None and services.note_verification_mail(user)

        saved = save_change(change, form)
        if saved:
            user, created, mail = saved.result
            # The same answer whether or not the address had an account: nobody is signed in
            # (a session naming a new user would tell), and only the mail differs.
            if mail:
                (_send_confirmation_link if created else _send_registration_notice)(user)
            flash(f"We sent a message to {form.email.data}.", "info")
            return redirect(url_for("accounts.registered"))
    return render_template("accounts/register.html", form=form), (422 if form.errors else 200)


@bp.get("/register/check-email")
def registered():
    return render_template("accounts/registered.html")


@bp.route("/account/confirm/<token>", methods=["GET", "POST"])
def confirm_email(token):
    """A confirmation link shows a button: mail scanners open links, and must not confirm an
    address that someone else registered."""
    try:
        user = services.user_for_verify_token(token)
    except services.VerifyLinkError as error:
        return render_template("accounts/confirm_refused.html", reason=error.message), 400
    if user.email_verified:
        return render_template("accounts/confirm.html", user=user, form=None)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate():
            abort(400)
        services.confirm_email(user)
        db.session.commit()
        if current_user.is_authenticated and current_user.id == user.id:
            flash("Your email address is confirmed. Welcome!", "success")
            return redirect(url_for("accounts.dashboard"))
        flash("Your email address is confirmed. Sign in to carry on.", "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/confirm.html", user=user, form=form)


@bp.post("/account/confirm/resend")
@login_required
def resend_confirmation():
    if not ActionForm().validate():
        abort(400)
    user = current_user._get_current_object()
    if user.email_verified:
        flash("Your email address is already confirmed.", "info")
    elif services.note_verification_mail(user):
        db.session.commit()
        _send_confirmation_link(user)
        flash(f"We sent a new link to {user.email}. It works for {services.verify_link_hours()} hours.", "success")
    else:
        flash("We sent a link less than a minute ago: check your email (and its spam folder), "
              "or try again in a minute.", "error")
    return redirect(url_for("accounts.dashboard"))


# Pages an unconfirmed user may still post to: their own account and signing out.
OPEN_TO_UNCONFIRMED = {
    "accounts.login", "accounts.logout", "accounts.register", "accounts.forgot_password",
    "accounts.reset_password", "accounts.confirm_email", "accounts.resend_confirmation",
    "accounts.change_name", "accounts.change_password", "accounts.revoke_api_token",
    "notifications.read", "notifications.read_all", "notifications.settings", "coops.leave",
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@bp.before_app_request
def _unconfirmed_users_only_look():
    """Every page that changes something (any that takes a POST, its form included) is refused
    to a signed-in user who has not confirmed their address (``services.why_user_cannot_act``),
    except their own account's. The API checks its writes itself (``api.base.token_user``)."""
    rule = request.url_rule
    if (rule is None or request.blueprint == "api" or not ((rule.methods or set()) & WRITE_METHODS)
            or request.endpoint in OPEN_TO_UNCONFIRMED or not current_user.is_authenticated):
        return None
    reason = services.why_user_cannot_act(current_user)
    if reason is None:
        return None
    return render_template("accounts/confirm_first.html", reason=reason, confirm_banner=False), 403


# --- signing in and out ----------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_next_url())
    form = LoginForm()
    paused = None
    if form.validate_on_submit():
        # A failed attempt is noted in the database; a successful one forgets this client's.
        saved = save_change(lambda: services.authenticate(form.email.data, form.password.data, _client_address(),
                                                          request.cookies.get(services.DEVICE_COOKIE)), show=False)
        if isinstance(saved.error, services.SignInThrottled):
            paused = saved.error
        elif saved.error is not None:
            form.form_errors.append(saved.error.message)
        else:
            user = saved.result
            if user is not None:
                login_user(user, remember=form.remember.data)
                flash(f"Signed in as {user.name}.", "success")
                return _remember_device(redirect(_next_url()), user)
            form.form_errors.append(services.BAD_CREDENTIALS)
    if paused is not None:
        return render_template("accounts/login.html", form=form, paused=paused), 429, {
            "Retry-After": str(paused.seconds)}
    return render_template("accounts/login.html", form=form, paused=None), (422 if form.errors else 200)


@bp.post("/logout")
def logout():
    # CSRFProtect checks every POST, so a third-party page cannot sign people out. Signing out
    # ends every session of the user (a copied cookie, a remember-me cookie, other devices).
    # The device cookie stays: this is still a browser its owner signed in on.
    if current_user.is_authenticated:
        current_user.end_sessions()
        db.session.commit()
    logout_user()
    flash("You are signed out.", "success")
    return redirect(url_for("jobs.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = services.find_user(form.email.data)
        if user is not None and user.active:
            try:
                send_mail(
                    user.email, "Reset your password", "password_reset", user=user,
                    link=url_for("accounts.reset_password", token=services.make_reset_token(user), _external=True),
                    max_age_minutes=current_app.config["PASSWORD_RESET_MAX_AGE"] // 60,
                )
            except MailError:
                # Answer as always (saying otherwise would tell who has an account); the log has it.
                current_app.logger.exception("Password reset mail to user %s failed", user.id)
        flash(f"If an account exists for {form.email.data}, we have sent it a link to reset the password. "
              "Check your email.", "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot.html", form=form), (422 if form.errors else 200)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    try:
        user = services.user_for_reset_token(token)
    except services.ResetLinkError as error:
        return render_template("accounts/reset_refused.html", reason=error.message,
                               form=ForgotPasswordForm()), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        if save_change(lambda: services.reset_password(user, form.password.data), form):
            logout_user()
            login_user(user)
            flash("Your password is changed and you are signed in.", "success")
            return _remember_device(redirect(url_for("accounts.dashboard")), user)
    return render_template("accounts/reset.html", form=form, user=user), (422 if form.errors else 200)


@bp.get("/dashboard")
@login_required
def dashboard():
    viewer = current_viewer()
    links = services.coop_links(current_user)
    drafts = count_jobs(viewer, JobFilters(state="draft")) if links else (0, False)
    return render_template(
        "accounts/dashboard.html", links=links, requests=services.pending_join_requests(current_user),
        drafts=drafts, admin_role=CoopRole.ADMIN.value, register_coop_url=_register_coop_url(),
    )


def _register_coop_url():
    # The co-ops feature's registration form; its directory explains the way in otherwise.
    endpoint = "coops.new" if "coops.new" in current_app.view_functions else "coops.index"
    return url_for(endpoint)


@bp.get("/account")
@login_required
def settings():
    return _settings_page()


@bp.post("/account/name")
@login_required
def change_name():
    form = NameForm(prefix="name")
    if form.validate_on_submit():
        saved = save_change(lambda: services.change_name(current_user, form.name.data), form)
        if saved:
            flash("Your name is saved." if saved.result else "Your name is unchanged.", "success")
            return redirect(url_for("accounts.settings"))
    return _settings_page(name_form=form)


@bp.post("/account/time-zone")
@login_required
def change_time_zone():
    form = TimeZoneForm(prefix="zone")
    if form.validate_on_submit():
        saved = save_change(lambda: services.change_time_zone(current_user, form.time_zone.data), form)
        if saved:
            flash(f"Dates are now shown in {form.time_zone.data.replace('_', ' ')} time." if saved.result
                  else "Your time zone is unchanged.", "success")
            return redirect(url_for("accounts.settings"))
    return _settings_page(zone_form=form)


@bp.post("/account/password")
@login_required
def change_password():
    form = ChangePasswordForm(prefix="password")
    if form.validate_on_submit():
        if save_change(lambda: services.change_password(current_user, form.current_password.data,
                                                        form.new_password.data), form):
            login_user(current_user._get_current_object())  # this session goes on; the others end
            flash("Your password is changed. You are signed out everywhere else.", "success")
            return redirect(url_for("accounts.settings"))
    return _settings_page(password_form=form)


@bp.post("/account/api-tokens")
@login_required
def create_api_token():
    form = ApiTokenForm(prefix="token")
    plain = create_from_form(ApiToken, current_user, form)
    if plain is not None:
        return _settings_page(new_token=plain)
    return _settings_page(token_form=form)


@bp.post("/account/api-tokens/<int:token_id>/revoke")
@login_required
def revoke_api_token(token_id):
    revoke_own(ApiToken, token_id, current_user,
               "API token revoked: scripts using it now get “401 Unauthorized”.")
    return redirect(url_for("accounts.settings", _anchor="api-tokens-heading"))


def _settings_page(name_form=None, password_form=None, token_form=None, new_token=None, zone_form=None):
    failed = name_form or password_form or token_form or zone_form
    name_form = name_form or NameForm(prefix="name", formdata=None, data={"name": current_user.name})
    zone_form = zone_form or TimeZoneForm(prefix="zone", formdata=None, data={"time_zone": current_user.time_zone})
    password_form = password_form or ChangePasswordForm(prefix="password", formdata=None)
    token_form = token_form or ApiTokenForm(prefix="token", formdata=None)
    response = make_response(render_template(
        "accounts/settings.html", name_form=name_form, password_form=password_form, zone_form=zone_form,
        token_form=token_form, new_token=new_token, api_tokens=api_services.user_tokens(current_user),
    ), 422 if failed is not None else 200)
    # The page may show a new API token once: never keep it in a cache.
    response.headers["Cache-Control"] = "no-store"
    return response
