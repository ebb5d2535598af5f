"""One Alembic history: empty database → head → base → head, and the models agree with it.

Runs on a fresh SQLite file, and on a fresh PostgreSQL database when the suite runs there.
"""
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from marketplace import create_app, init_migrations
from marketplace.extensions import db
from marketplace.search.models import in_models

from .conftest import TEST_DATABASE_URL

pytestmark = pytest.mark.no_app_context


@pytest.fixture
def empty_database(tmp_path):
    """The URL of a database with nothing in it, dropped afterwards."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    server = make_url(TEST_DATABASE_URL)
    name = f"test_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _app(url):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
    init_migrations(app)
    return app


def _diff(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": True, "include_object": in_models}
        )
        return compare_metadata(context, db.metadata)


def _tables(app):
    with app.app_context():
        return set(inspect(db.engine).get_table_names())


def _queue_ids_are_never_reused(app):
    """The search queue's rows are deleted by id: a new row must never get a deleted row's id."""
    with app.app_context(), db.engine.begin() as conn:
        insert = "INSERT INTO search_queue (kind, object_id, queued_at) VALUES ('job', 1, CURRENT_TIMESTAMP)"
        conn.exec_driver_sql(insert)
        last = conn.exec_driver_sql("SELECT max(id) FROM search_queue").scalar()
        conn.exec_driver_sql("DELETE FROM search_queue")
        conn.exec_driver_sql(insert)
        again = conn.exec_driver_sql("SELECT max(id) FROM search_queue").scalar()
        conn.exec_driver_sql("DELETE FROM search_queue")
    return again > last


def _site_revision_tokens(app):
    with app.app_context(), db.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT id, length(token) FROM site_revision").all()


def test_upgrade_downgrade_and_models_agree(empty_database):
    app = _app(empty_database)
    with app.app_context():
        upgrade()
    assert {"job", "coop", "user", "network", "audit_event"} <= _tables(app)
    assert _diff(app) == [], "models and migrations disagree: run `make migrate m='…'`"
    assert _queue_ids_are_never_reused(app)
    assert _site_revision_tokens(app) == [(1, 32)]  # shared page parts are cached from the start
    with app.app_context():
        downgrade(revision="base")
    assert _tables(app) <= {"alembic_version"}
    with app.app_context():
        upgrade()
    assert _diff(app) == []
    with app.app_context():
        db.engine.dispose()


def test_stored_markdown_headings_are_rendered_again(empty_database):
    """0021 renders again the stored HTML of text with headings (``##`` was h4 under the page's
    h2); an imported job's HTML, which is its feed's, is left alone."""
    from sqlalchemy import text

    from marketplace.feeds.models import FeedSource, ImportedEntry

    from . import factories

    app = _app(empty_database)
    with app.app_context():
        upgrade(revision="0020")
        networks = factories.make_networks()
        coop = factories.make_coop("Headings", {networks["cotech"]: "active"}, description="## What we do")
        job = factories.make_job(coop, description="## Background\n\nText.")
        imported = factories.make_job(coop, description="## Feed")
        source = FeedSource(name="A council", url="https://example.org/feed", coop=coop)
        db.session.add(ImportedEntry(source=source, guid="1", job=imported, content_hash="x"))
        db.session.commit()
        ids = coop.id, job.id, imported.id
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE coop SET description_html = '<h4>What we do</h4>'"))
            conn.execute(text("UPDATE job SET description_html = '<h4>Old</h4>'"))
        db.session.remove()
    with app.app_context():
        upgrade()
        coop_html = db.session.execute(text("SELECT description_html FROM coop WHERE id = :i"), {"i": ids[0]}).scalar()
        jobs = dict(db.session.execute(text("SELECT id, description_html FROM job")).all())
        db.engine.dispose()
    assert coop_html.strip() == "<h3>What we do</h3>"
    assert jobs[ids[1]].strip() == "<h3>Background</h3>\n<p>Text.</p>"
    assert jobs[ids[2]] == "<h4>Old</h4>"  # the feed's HTML, as it was
