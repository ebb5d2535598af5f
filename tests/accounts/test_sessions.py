"""Sessions end when they should: a copied session cookie or a remember-me cookie stops working
once its user signs out, changes the password, has it reset or set by an administrator; the
remember-me cookie is Secure when sessions are, and lasts REMEMBER_DAYS."""
from datetime import timedelta

from marketplace import create_app
from marketplace.accounts import services
from marketplace.extensions import db

from .conftest import NEW_PASSWORD, sign_in, signed_in_user_id

HOST = "marketplace.test"


def _copy(app, client):
    """A second browser holding copies of ``client``'s cookies (a stolen or synced session)."""
    other = app.test_client()
    for name in ("session", "remember_token"):
        cookie = client.get_cookie(name, domain=HOST)
        if cookie is not None:
            other.set_cookie(name, cookie.value, domain=HOST)
    return other


def _signed_in(client):
    return client.get("/dashboard").status_code == 200


def test_signing_out_ends_every_copy_of_the_session(app, client, ann):
    sign_in(client, remember="y")
    copy = _copy(app, client)
    remembered = app.test_client()
    remembered.set_cookie("remember_token", client.get_cookie("remember_token", domain=HOST).value, domain=HOST)
    assert _signed_in(copy) and _signed_in(remembered)
    client.post("/logout")
    assert not _signed_in(client)
    assert not _signed_in(copy)
    assert not _signed_in(remembered)
    # Signing in again works, with a new session.
    sign_in(client)
    assert _signed_in(client) and not _signed_in(copy)


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, client, ann):
    sign_in(client, remember="y")
    elsewhere = app.test_client()
    sign_in(elsewhere, remember="y")
    copy = _copy(app, client)
    response = client.post("/account/password", data={
        "password-current_password": "correct horse battery", "password-new_password": NEW_PASSWORD,
        "password-confirm": NEW_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _signed_in(client) and signed_in_user_id(client) == str(ann.id)
    assert not _signed_in(elsewhere)
    assert not _signed_in(copy)
    elsewhere.delete_cookie("session", domain=HOST)  # the remember-me cookie alone
    assert not _signed_in(elsewhere)


def test_a_reset_or_an_administrator_setting_the_password_ends_every_session(app, client, ann):
    sign_in(client, remember="y")
    copy = _copy(app, client)
    services.reset_password(ann, NEW_PASSWORD)
    db.session.commit()
    assert not _signed_in(client) and not _signed_in(copy)
    sign_in(client, password=NEW_PASSWORD)
    assert _signed_in(client)
    services.set_password(ann, "yet another password", actor=None)
    db.session.commit()
    assert not _signed_in(client)


def test_the_remember_me_cookie_is_secure_when_sessions_are_and_lasts_the_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    monkeypatch.setenv("REMEMBER_DAYS", "14")
    app = create_app()
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=14)
    assert create_app({"SESSION_COOKIE_SECURE": True}).config["REMEMBER_COOKIE_SECURE"] is True  # an override too
    monkeypatch.delenv("SESSION_COOKIE_SECURE")
    assert create_app().config["REMEMBER_COOKIE_SECURE"] is False
