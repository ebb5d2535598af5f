"""CoTech Marketplace: a work-sharing and bid marketplace for co-ops."""
import os

import click
from flask import Flask, abort, render_template, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from . import config as settings
from .core import input as input_guard
from .extensions import csrf, db, limiter, login_manager
from .operations import logs

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(overrides=None):
    """The application factory. ``overrides`` (a dict) wins over the environment."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH") or os.path.join(PROJECT_ROOT, "instance"),
        template_folder=os.path.join(PROJECT_ROOT, "templates"),
    )
    app.config.update(settings.from_environment(app.instance_path))
    app.config.update(overrides or {})
    if app.config.get("SESSION_COOKIE_SECURE"):
        app.config["REMEMBER_COOKIE_SECURE"] = True  # remember-me is Secure whenever sessions are
    settings.check(app.config, app.debug)
    from .documents import check_settings as check_document_settings
    check_document_settings(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config["TRUST_PROXY_HEADERS"]:
        hops = app.config["TRUST_PROXY_HEADERS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    _init_extensions(app)
    _guard_requests(app)
    _register_blueprints(app)
    _register_cli(app)
    _register_template_helpers(app)
    _register_error_pages(app)
    from .search import init_app as init_search
    init_search(app)
    if not app.debug and not app.testing:
        logs.configure(app)
    return app


def _init_extensions(app):
    from . import models  # noqa: F401  (every model registered before mappers configure)
    from .core import fragments, headers
    from .operations import metrics  # here, not above: gunicorn_conf sets its directory first

    logs.init_app(app)  # first: every later hook's lines carry the request id
    metrics.init_app(app)  # next: requests refused by a later hook are counted too
    headers.init_app(app)
    db.init_app(app)
    app.cli.add_command(_MigrationCommands())
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    fragments.init_app(app)
    _provide_core_hooks(app)
    from .documents import hooks as document_hooks
    document_hooks.register()
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"

    from .accounts.services import load_user

    login_manager.user_loader(load_user)


def init_migrations(app):
    """Flask-Migrate on ``app`` (its ``upgrade()`` and the others need it); returns its ``db``
    command group."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        from .search.models import in_models

        Migrate(app, db, directory=os.path.join(PROJECT_ROOT, "migrations"), render_as_batch=True,
                compare_type=True, include_object=in_models)
    from flask_migrate.cli import db as commands

    return commands


class _MigrationCommands(click.Command):
    """``flask db …``. Flask-Migrate brings Alembic and Mako, about 10 MB in every process that
    imports them: loaded when this command runs, never in a worker that serves pages. Its own
    command group then reads the arguments, as if it had been registered itself."""

    def __init__(self):
        super().__init__("db", help="Perform database migrations (Flask-Migrate).", add_help_option=False,
                         context_settings={"ignore_unknown_options": True, "allow_extra_args": True})

    def invoke(self, ctx):
        from flask.cli import ScriptInfo

        commands = init_migrations(ctx.ensure_object(ScriptInfo).load_app())
        with commands.make_context(ctx.info_name, list(ctx.args), parent=ctx.parent) as inner:
            return commands.invoke(inner)


def _provide_core_hooks(app):
    # Core imports no feature: the features hand it what it needs (see core.hooks).
    from .audit.services import record
    from .core import hooks
    from .federation import audience_key

    hooks.provide(app, audience_key=audience_key, record=record)


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in every route: ids are the database's 32-bit integers, so a larger number
    names no row: 404 before any query (PostgreSQL would refuse it with an error). NotFound
    rather than a failed match, which would make the other methods' routes answer 405."""

    def to_python(self, value):
        from .core.models import MAX_ROW_ID

        number = super().to_python(value)
        if number > MAX_ROW_ID:
            raise NotFound()
        return number


def _guard_requests(app):
    app.url_map.converters["int"] = RowIdConverter

    @app.before_request
    def _refuse_nul_in_path():
        # No name in the database holds a NUL (PostgreSQL cannot store one): such a path names
        # nothing, and is a 404 before a query sees it. (Pages ignore bad query arguments with
        # a message; the API refuses them: api/base.py.)
        if "\x00" in request.path:
            abort(404)

    @app.before_request
    def _refuse_bad_text():
        # One place for every form and API field (core/input.py); nothing is read or written.
        if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
            return None
        fields = input_guard.bad_fields()
        if not fields:
            return None
        if request.path.startswith("/api/"):
            from .api.base import error_response

            return error_response(422, "invalid", input_guard.MESSAGE, fields)
        abort(400, description=input_guard.MESSAGE)


def _register_blueprints(app):
    from .search.routes import bp as search_bp
    app.register_blueprint(search_bp)
    from .accounts.routes import bp as accounts_bp
    from .bids.routes import bp as bids_bp
    from .coops.routes import bp as coops_bp
    from .federation.routes import bp as federation_bp
    from .jobs.routes import bp as jobs_bp
    from .notifications.routes import bp as notifications_bp
    from .questions.routes import bp as questions_bp
    from .skills.routes import bp as skills_bp

    app.register_blueprint(jobs_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(coops_bp)
    app.register_blueprint(skills_bp)
    app.register_blueprint(federation_bp)
    app.register_blueprint(bids_bp)
    app.register_blueprint(questions_bp)
    app.register_blueprint(notifications_bp)
    from .feeds.routes import bp as feeds_bp
    app.register_blueprint(feeds_bp)
    from .alerts.routes import bp as alerts_bp
    app.register_blueprint(alerts_bp)
    from .consortia.routes import bp as consortia_bp
    app.register_blueprint(consortia_bp)
    from .coordinator.routes import bp as coordinator_bp
    app.register_blueprint(coordinator_bp)
    from .api import bp as api_bp
    app.register_blueprint(api_bp)
    from .operations.routes import bp as operations_bp
    app.register_blueprint(operations_bp)
    from .documents.routes import bp as documents_bp
    app.register_blueprint(documents_bp)
    from .evaluation.routes import bp as evaluation_bp
    app.register_blueprint(evaluation_bp)


def _register_cli(app):
    from .search.cli import search_cli
    app.cli.add_command(search_cli)
    from .accounts.cli import users_cli
    from .bids.cli import bids_cli
    from .demo.cli import demo_cli
    from .skills.cli import skills_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(skills_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(bids_cli)
    from .feeds.cli import feeds_cli
    app.cli.add_command(feeds_cli)
    from .alerts.cli import alerts_cli
    app.cli.add_command(alerts_cli)
    from .documents.cli import documents_cli
    app.cli.add_command(documents_cli)


def _register_template_helpers(app):
    from . import federation
    from .core import templating

    templating.init_app(app)
    federation.init_app(app)


def _register_error_pages(app):
    for code, title in {
        400: "Bad request", 403: "Not allowed", 404: "Page not found",
        405: "Method not allowed", 413: "Too large", 429: "Too many requests",
        500: "Something went wrong",
    }.items():
        def handler(error, code=code, title=title):
            if code == 500:
                db.session.rollback()
            if request.path.startswith("/api/"):
                from .api.base import http_error_response

                return http_error_response(error)
            return render_template("errors.html", code=code, title=title, error=error), code

        app.register_error_handler(code, handler)

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_template(
            "errors.html", code=400, title="Form expired",
            error="The form was too old or came from another site. Go back, reload it and try again.",
        ), 400
