"""Account pages: register, sign in and out, password reset, dashboard and settings."""
from flask import (Blueprint, current_app, flash, make_response, redirect, render_template,
                   request, url_for)
from flask_login import current_user, login_required, login_user, logout_user

from ..api import services as api_services
from ..api.models import ApiToken
from ..coops.models import CoopRole
from ..core.tokens import create_from_form, revoke_own
from ..core.forms import attach_error
from ..extensions import db
from ..federation import current_viewer
from ..jobs.services import JobFilters, count_jobs
from ..mail import MailError, send_mail
from . import services
from .forms import (PASSWORD_HINT, ApiTokenForm, ChangePasswordForm, ForgotPasswordForm, LoginForm, NameForm,
                    RegisterForm, ResetPasswordForm)

bp = Blueprint("accounts", __name__)


@bp.context_processor
def _hints():
    return {"password_hint": PASSWORD_HINT}


def _client_address():
    return (request.remote_addr or "unknown")[:64]




def _next_url():
    return services.safe_next_url(request.args.get("next")) or url_for("accounts.dashboard")


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.dashboard"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register_user(form.name.data, form.email.data, form.password.data)
            db.session.commit()
        except services.AccountError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            login_user(user)
            flash(f"Welcome, {user.name}. Your account is ready.", "success")
            return redirect(url_for("accounts.dashboard"))
    return render_template("accounts/register.html", form=form), (422 if form.errors else 200)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_next_url())
    form = LoginForm()
    retry_at = None
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, _client_address())
            # A failed attempt is noted in the database; a successful one clears the failures.
            db.session.commit()
        except services.SignInThrottled as error:
            db.session.rollback()
            retry_at = error.retry_at
        except services.AccountError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            if user is not None:
                login_user(user, remember=form.remember.data)
                flash(f"Signed in as {user.name}.", "success")
                return redirect(_next_url())
            form.form_errors.append(services.BAD_CREDENTIALS)
    status = 429 if retry_at else (422 if form.errors else 200)
    return render_template("accounts/login.html", form=form, retry_at=retry_at), status


@bp.post("/logout")
def logout():
    # CSRFProtect checks every POST, so a third-party page cannot sign people out. Signing out
    # ends every session of the user (a copied cookie, a remember-me cookie, other devices).
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
        try:
            services.reset_password(user, form.password.data)
            db.session.commit()
        except services.AccountError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            logout_user()
            login_user(user)
            flash("Your password is changed and you are signed in.", "success")
            return redirect(url_for("accounts.dashboard"))
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
        try:
            changed = services.change_name(current_user, form.name.data)
            db.session.commit()
        except services.AccountError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash("Your name is saved." if changed else "Your name is unchanged.", "success")
            return redirect(url_for("accounts.settings"))
    return _settings_page(name_form=form)


@bp.post("/account/password")
@login_required
def change_password():
    form = ChangePasswordForm(prefix="password")
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.new_password.data)
            db.session.commit()
        except services.AccountError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
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


def _settings_page(name_form=None, password_form=None, token_form=None, new_token=None):
    failed = name_form or password_form or token_form
    name_form = name_form or NameForm(prefix="name", formdata=None, data={"name": current_user.name})
    password_form = password_form or ChangePasswordForm(prefix="password", formdata=None)
    token_form = token_form or ApiTokenForm(prefix="token", formdata=None)
    response = make_response(render_template(
        "accounts/settings.html", name_form=name_form, password_form=password_form,
        token_form=token_form, new_token=new_token, api_tokens=api_services.user_tokens(current_user),
    ), 422 if failed is not None else 200)
    # The page may show a new API token once: never keep it in a cache.
    response.headers["Cache-Control"] = "no-store"
    return response
