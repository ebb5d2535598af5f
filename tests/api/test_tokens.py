"""Bearer tokens: the API acts as the token's user; bad or revoked tokens are a JSON 401; tokens
are made (shown once) and revoked on the settings page."""
import re

from marketplace.core.tokens import MAX_TOKENS_PER_USER
from marketplace.api import services
from marketplace.api.models import ApiToken
from marketplace.extensions import db

from ..conftest import login
from ..factories import make_coop, make_job, make_user


def _token(user):
    token, plain = services.create_token(user, "test")
    db.session.commit()
    return token, plain


def test_bearer_token_reads_as_its_user(client, networks):
    coop = make_coop("Token Co-op", {networks["cotech"]: "active"})
    job = make_job(coop, "cotech", "open", title="Members only")
    user = make_user(coops=[make_coop("Reader Co-op", {networks["cotech"]: "active"})])
    _, plain = _token(user)
    assert client.get(f"/api/v1/jobs/{job.id}").status_code == 404
    response = client.get(f"/api/v1/jobs/{job.id}", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200 and response.get_json()["title"] == "Members only"
    stored = db.session.scalars(db.select(ApiToken)).one()
    assert stored.token_hash != plain and len(stored.token_hash) == 64
    assert stored.last_used_at is not None


def test_bad_and_revoked_tokens_are_401(client):
    user = make_user()
    token, plain = _token(user)
    for header in ("Bearer nope", "Basic abc", f"Bearer {plain}x"):
        response = client.get("/api/v1/jobs", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.get_json()["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    services.revoke_token(token, user)
    db.session.commit()
    assert client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {plain}"}).status_code == 401


# --- made and revoked on the settings page -------------------------------------------------------

def _new_token_on_page(html):
    found = re.search(r"Your new API token.*?<code>([^<]+)</code>", html, re.S)
    return found.group(1) if found else None


def test_settings_page_makes_a_token_shown_once(client, networks):
    coop = make_coop("Settings Co-op", {networks["cotech"]: "active"})
    job = make_job(coop, "cotech", "open", title="Members only")
    user = make_user(coops=[coop])
    login(client, user)
    response = client.post("/account/api-tokens", data={"token-label": "My script"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    plain = _new_token_on_page(response.get_data(as_text=True))
    assert plain and len(plain) >= 40
    stored = db.session.scalars(db.select(ApiToken)).one()
    assert stored.label == "My script" and stored.token_hash != plain
    # Shown once: the settings page lists it by name only.
    page = client.get("/account").get_data(as_text=True)
    assert "My script" in page and plain not in page and _new_token_on_page(page) is None
    anonymous = client.application.test_client()
    got = anonymous.get(f"/api/v1/jobs/{job.id}", headers={"Authorization": f"Bearer {plain}"})
    assert got.status_code == 200 and got.get_json()["title"] == "Members only"


def test_settings_page_revokes_a_token(client):
    user = make_user()
    token, plain = _token(user)
    login(client, user)
    response = client.post(f"/account/api-tokens/{token.id}/revoke")
    assert response.status_code == 302
    assert "Revoked" in client.get("/account").get_data(as_text=True)
    api = client.application.test_client()
    assert api.get("/api/v1/jobs", headers={"Authorization": f"Bearer {plain}"}).status_code == 401
    # Revoking twice is refused with a message, not an error page.
    again = client.post(f"/account/api-tokens/{token.id}/revoke", follow_redirects=True)
    assert again.status_code == 200 and "already revoked" in again.get_data(as_text=True)


def test_someone_elses_token_cannot_be_revoked(client):
    owner, intruder = make_user(), make_user()
    token, plain = _token(owner)
    login(client, intruder)
    assert client.post(f"/account/api-tokens/{token.id}/revoke").status_code == 404
    assert client.post("/account/api-tokens/999999/revoke").status_code == 404
    db.session.refresh(token)
    assert token.revoked_at is None


def test_bad_token_form_re_renders_and_saves_nothing(client):
    user = make_user()
    login(client, user)
    response = client.post("/account/api-tokens", data={"token-label": "x" * 81})
    assert response.status_code == 422
    assert "Field cannot be longer than 80 characters" in response.get_data(as_text=True)
    assert db.session.scalars(db.select(ApiToken)).all() == []


def test_token_limit_is_a_message(client):
    user = make_user()
    for n in range(MAX_TOKENS_PER_USER):
        _token(user)
    login(client, user)
    response = client.post("/account/api-tokens", data={"token-label": "one more"})
    assert response.status_code == 422
    assert "revoke one you no longer use" in response.get_data(as_text=True)
    assert len(db.session.scalars(db.select(ApiToken)).all()) == MAX_TOKENS_PER_USER


def test_settings_needs_sign_in(client):
    assert client.post("/account/api-tokens", data={"token-label": "x"}).status_code == 302
    assert db.session.scalars(db.select(ApiToken)).all() == []
