"""Migration 0007 takes the people who already have accounts as confirmed, so that a live site's
users keep working; 0008 leaves failed sign-ins in place."""
from datetime import datetime

import pytest
from flask_migrate import downgrade, upgrade

from marketplace.extensions import db

from ..test_migrations import _app, empty_database  # noqa: F401

pytestmark = pytest.mark.no_app_context


def test_existing_users_are_confirmed(empty_database):  # noqa: F811
    app = _app(empty_database)
    made = datetime(2024, 3, 1, 9, 30)
    with app.app_context():
        upgrade(revision="0006")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO \"user\" (email, name, password_hash, is_site_admin, active, created_at, session_token) "
                "VALUES ('old@example.coop', 'Old', 'x', false, true, '2024-03-01 09:30:00', 'abc')")
            conn.exec_driver_sql(
                "INSERT INTO login_failure (email, ip, created_at) VALUES ('old@example.coop', '10.0.0.1', "
                "'2024-03-01 09:30:00')")
        upgrade()
        with db.engine.connect() as conn:
            verified, sent = conn.exec_driver_sql(
                "SELECT email_verified_at, verification_sent_at FROM \"user\"").one()
            assert str(verified)[:19] == str(made) and sent is None  # SQLite answers text
            assert conn.exec_driver_sql("SELECT email, device FROM login_failure").one() == ("old@example.coop", None)
        downgrade(revision="0006")
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT email FROM \"user\"").scalar() == "old@example.coop"
        db.engine.dispose()
