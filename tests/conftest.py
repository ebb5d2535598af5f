"""Test fixtures: one app per run, a clean database per test, clients and login helpers.

The suite runs on SQLite by default and on PostgreSQL when ``TEST_DATABASE_URL`` is set
(``make test`` and ``.ci/run`` do both). Under pytest-xdist each worker process has its own
database (a SQLite file, or a PostgreSQL database named after the worker), search index
directory and ports.
"""
import os
from collections import Counter

import pytest
from flask import has_app_context
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from marketplace import create_app
from marketplace.extensions import db
from marketplace.search import SearchUnavailable, backend

from . import factories
from .servers import threaded_app

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
DATABASE = "PostgreSQL" if TEST_DATABASE_URL else "SQLite"
# A cheap hash for the many users tests make; production's default stays scrypt (test_config).
TEST_PASSWORD_HASH = "pbkdf2:sha256:1"
CHROMIUM = "/usr/bin/chromium"
BROWSER_SKIP_REASON = "chromium is not installed (apt-get install chromium)"


def pytest_configure(config):
    config.addinivalue_line("markers", "no_app_context: the test manages its own apps and contexts")


def pytest_report_header(config):
    return f"database: {TEST_DATABASE_URL or 'SQLite (temporary file)'}"


POSTGRES_SKIP_REASON = "needs PostgreSQL: set TEST_DATABASE_URL (as make test does)"
SQLITE_ONLY_REASON = "slow, and what it checks does not depend on the database: run with SQLite"


def pytest_collection_modifyitems(config, items):
    skips = {}
    if not os.path.exists(CHROMIUM):
        skips["browser"] = pytest.mark.skip(reason=BROWSER_SKIP_REASON)
    if not (TEST_DATABASE_URL or "").startswith("postgresql"):
        skips["postgres_only"] = pytest.mark.skip(reason=POSTGRES_SKIP_REASON)
    else:
        skips["sqlite_only"] = pytest.mark.skip(reason=SQLITE_ONLY_REASON)
    for item in items:
        for keyword, skip in skips.items():
            if keyword in item.keywords:
                item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    """One line per reason tests were skipped, and the database last, next to the failures,
    so that a failure always names its database."""
    reasons = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        if isinstance(report.longrepr, tuple):
            reasons[report.longrepr[2].removeprefix("Skipped: ")] += 1
    for reason, count in reasons.most_common():
        what = "browser tests" if reason == BROWSER_SKIP_REASON else "tests"
        terminalreporter.write_line(f"skipped {count} {what}: {reason}")
    terminalreporter.write_line(f"database: {DATABASE} ({TEST_DATABASE_URL or 'temporary file'})")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if not TEST_DATABASE_URL:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        yield TEST_DATABASE_URL
        return
    # One database per xdist worker, made afresh and dropped at the end.
    url = make_url(TEST_DATABASE_URL)
    url = url.set(database=f"{url.database}_{worker}")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        admin.dispose()


class IsolatedClient(FlaskClient):
    """Each request runs in its own application context, as in production: its own ``g``,
    its own database session. The test's session is expired afterwards so that it reads
    what the request wrote. What the factories built reaches the search index first."""

    def open(self, *args, **kwargs):
        factories.settle_index(self.application)
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            db.session.expire_all()
        return response


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "MAIL_BACKEND": "memory",
        "SERVER_NAME": "marketplace.test",
        "PASSWORD_HASH_METHOD": TEST_PASSWORD_HASH,
        # Every test call comes from one address: the rate-limit tests set their own limits.
        "API_RATE_LIMIT": "100000/minute",
        "API_ADDRESS_RATE_LIMIT": "100000/minute",
        "DOCUMENTS_PATH": str(tmp_path_factory.mktemp("documents")),
    })
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


@pytest.fixture(autouse=True)
def _database(request, app):
    """Each test runs inside an app context and leaves every table empty."""
    if "no_app_context" in request.keywords:
        yield
        return
    with app.app_context():
        yield
        db.session.rollback()
        _empty_all_tables()
        _empty_search_index(app)
        db.session.remove()


def _empty_search_index(app):
    """Tests share one Whoosh index: emptied with the tables (they are emptied without the
    search queue), so that the next test's counts from the index are of its own jobs alone."""
    if app.config["SEARCH_BACKEND"] != "whoosh":
        return  # the PostgreSQL backend's documents are a table, emptied with the rest
    engine = backend(app)
    try:
        if not engine.versions():
            return
    except SearchUnavailable:
        pass
    engine.create_empty()


def _empty_all_tables():
    # The site revision stays (emptying the rest is a write, which gives it a new token).
    # DELETE, children first, in one round trip: on PostgreSQL a TRUNCATE of every table costs
    # ~100 ms a test, a DELETE of a test's few rows ~3 ms.
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name != "site_revision"]
    if db.engine.dialect.name == "postgresql":
        db.session.connection().exec_driver_sql("; ".join(f'DELETE FROM "{t.name}"' for t in tables))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def csrf(app):
    """Turn CSRF protection on for one test (it is off elsewhere to keep form posts short)."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


class SettledRunner(FlaskCliRunner):
    """Commands see what the factories built in the search index, as requests do."""

    def invoke(self, *args, **kwargs):
        factories.settle_index(self.app)
        return super().invoke(*args, **kwargs)


@pytest.fixture
def runner(app):
    app.test_cli_runner_class = SettledRunner
    return app.test_cli_runner()


@pytest.fixture
def networks():
    return factories.make_networks()


@pytest.fixture
def skills():
    return factories.make_skills()


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on 127.0.0.1 (a free port) in a thread, CSRF on.

    Yields the base URL. Requests run in the server thread with their own app contexts;
    ``marketplace.core.time.frozen_now`` applies to them too (same process).
    """
    app.config["WTF_CSRF_ENABLED"] = True

    def settled(environ, start_response):
        factories.settle_index(app)
        return app(environ, start_response)

    try:
        with threaded_app(app, settled) as url:
            yield url
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture(scope="session")
def chromium():
    """Headless Chromium (Debian's, driven by Playwright), started once per test process;
    each test gets a context of its own (cookies, storage) from ``browser_page``."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(BROWSER_SKIP_REASON)
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium, live_server):
    """A page of a fresh browser context whose addresses are relative to the live server."""
    context = chromium.new_context(base_url=live_server)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()


def login(client, user):
    """Sign ``user`` in on ``client`` the way Flask-Login does: through the session."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


def logout(client):
    with client.session_transaction() as session:
        session.clear()
    return client
