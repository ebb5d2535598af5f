"""Bearer tokens: the API acts as the token's user; bad or revoked tokens are a JSON 401."""
from marketplace.api import services
from marketplace.api.models import ApiToken
from marketplace.extensions import db

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
