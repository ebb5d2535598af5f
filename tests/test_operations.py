"""Running the site: /healthz, and a database whose connections were cut (as a PostgreSQL
restart cuts them) served again without restarting the app."""
import json
import logging

import psycopg
import pytest
from flask import g

from marketplace import create_app
from marketplace.extensions import db
from marketplace.operations import logs
from marketplace.search import backend

from .conftest import TEST_DATABASE_URL
from .factories import make_coop, make_job


@pytest.fixture
def index(app, tmp_path):
    saved = app.config.get("SEARCH_INDEX_PATH")
    app.config["SEARCH_INDEX_PATH"] = str(tmp_path / "index")
    backend(app).create_empty()
    yield
    app.config["SEARCH_INDEX_PATH"] = saved


def test_healthy(client, index):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_no_search_index_is_unavailable_and_says_no_more(app, client, tmp_path, caplog):
    app.config["SEARCH_INDEX_PATH"] = str(tmp_path / "nothing-here")
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json == {"status": "unavailable"}
    assert "search:" in caplog.text  # the reason goes to the log


@pytest.mark.no_app_context
def test_no_database_is_unavailable(tmp_path, caplog):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SEARCH_INDEX_PATH": str(tmp_path / "index"),
                      "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:9/nothing"})
    with app.app_context():
        backend(app).create_empty()
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json == {"status": "unavailable"}
    assert "database:" in caplog.text and "127.0.0.1" not in response.get_data(as_text=True)


@pytest.mark.postgres_only
def test_connections_cut_by_the_server_are_replaced(app, client, networks):
    """Every connection of the app's pool is ended from the server side, as a restart ends them:
    the next requests are served (the pool tests a connection before lending it)."""
    job = make_job(make_coop("Open Co-op", {networks["cotech"]: "active"}), "public", "open", title="Still here")
    db.session.commit()
    job_id = job.id
    assert client.get(f"/jobs/{job_id}").status_code == 200
    db.session.close()  # the test's own connection goes back to the pool, to be cut as well
    name = db.engine.url.database
    with psycopg.connect(TEST_DATABASE_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True) as admin:
        ended = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              "WHERE datname = %s AND pid <> pg_backend_pid()", (name,)).fetchone()[0]
    assert ended >= 1
    for _ in range(3):
        response = client.get(f"/jobs/{job_id}")
        assert response.status_code == 200 and "Still here" in response.get_data(as_text=True)


# --- logs ------------------------------------------------------------------------------------------

def test_every_request_has_an_id_in_its_answer_and_its_log_line(client, index, caplog):
    caplog.set_level(logging.INFO, logger="marketplace.requests")
    response = client.get("/healthz", headers={"X-Request-ID": "edge-7f3c.1"})
    assert response.headers["X-Request-ID"] == "edge-7f3c.1"  # the proxy's id, passed on
    [line] = [r for r in caplog.records if r.name == "marketplace.requests"]
    assert (line.method, line.path, line.status) == ("GET", "/healthz", 200) and line.ms >= 0
    made = client.get("/healthz", headers={"X-Request-ID": "not ok <script>" + "x" * 200}).headers["X-Request-ID"]
    assert len(made) == 32 and made.isalnum()  # an unusable id is replaced, not echoed


def test_json_lines_carry_the_request_id(app, caplog):
    formatter, request_ids = logs.JsonFormatter(), logs.RequestIdFilter()
    with app.test_request_context("/jobs"):
        g.request_id = "abc123"
        record = logging.LogRecord("marketplace.x", logging.ERROR, __file__, 1, "Failed %s", ("twice",), None)
        record.status = 500
        request_ids.filter(record)
        line = json.loads(formatter.format(record))
    assert line["message"] == "Failed twice" and line["level"] == "ERROR"
    assert line["request_id"] == "abc123" and line["status"] == 500 and line["time"].endswith("Z")


COMMAND_LINE_ONLY = ("alembic", "flask_migrate", "mako", "icalendar", "feedparser")


def test_a_worker_serving_pages_loads_no_command_line_library(app, tmp_path):
    """What only `flask db`, feed fetching or the calendar use is imported when they run: a
    worker that serves pages (a fresh interpreter, as gunicorn forks one) never pays for it."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from marketplace import create_app\n"
        "client = create_app().test_client()\n"
        "statuses = [client.get(path).status_code for path in ('/', '/jobs', '/coops/', '/skills/', '/healthz')]\n"
        "print(statuses)\n"
        f"print(sorted(m for m in {COMMAND_LINE_ONLY!r} if m in sys.modules))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "probe",
           "SEARCH_INDEX_PATH": str(tmp_path / "index"), "INSTANCE_PATH": str(tmp_path / "instance")}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    statuses, loaded = done.stdout.strip().splitlines()[-2:]
    assert "500" not in statuses and loaded == "[]", done.stdout + done.stderr[-2000:]
