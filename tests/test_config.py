"""Settings come from the environment; production refuses to start without a secret key."""
import pytest

from marketplace import create_app
from marketplace.config import ConfigError

from .conftest import DATABASE

pytestmark = pytest.mark.no_app_context


def test_refuses_to_start_without_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app()


def test_production_settings_from_environment(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example/market")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "true")
    monkeypatch.setenv("JOBS_PER_PAGE", "50")
    app = create_app()
    assert app.config["SECRET_KEY"] == "s3cret"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example/market"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["JOBS_PER_PAGE"] == 50


def test_development_defaults(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    app = create_app({"DEBUG": True})
    assert app.config["SECRET_KEY"]
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/marketplace.db"


def test_passwords_are_hashed_with_scrypt_unless_a_setting_says_otherwise(monkeypatch, tmp_path):
    from marketplace.accounts.models import User

    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.delenv("PASSWORD_HASH_METHOD", raising=False)
    app = create_app()
    assert app.config["PASSWORD_HASH_METHOD"] == "scrypt"
    user = User(email="a@example.coop", name="A")
    with app.app_context():
        user.set_password("correct horse battery")
    assert user.password_hash.startswith("scrypt:")
    assert user.check_password("correct horse battery")

    monkeypatch.setenv("PASSWORD_HASH_METHOD", "pbkdf2:sha256:600000")
    with create_app().app_context():
        user.set_password("another horse")
    assert user.password_hash.startswith("pbkdf2:sha256:600000$")
    assert user.check_password("another horse") and not user.check_password("correct horse battery")


@pytest.mark.skipif(DATABASE != "SQLite", reason="SQLite's settings")
def test_sqlite_connections_use_wal_and_sync_at_checkpoints(app):
    from marketplace.extensions import db

    with app.app_context(), db.engine.connect() as connection:
        pragma = connection.exec_driver_sql
        assert pragma("PRAGMA journal_mode").scalar() == "wal"
        assert pragma("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert pragma("PRAGMA foreign_keys").scalar() == 1
