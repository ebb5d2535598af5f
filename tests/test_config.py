"""Settings come from the environment; production refuses to start without a secret key."""
import pytest

from marketplace import create_app
from marketplace.config import ConfigError

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
