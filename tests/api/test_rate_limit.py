"""Rate limits: per API token and per client address, answered with a JSON 429 and Retry-After."""
import pytest

from marketplace.extensions import limiter

from ..factories import bearer, make_user


@pytest.fixture
def limits(app, monkeypatch):
    """Small limits for this test, with fresh counts before and after."""
    def set_limits(per_token="100000/minute", per_address="100000/minute"):
        monkeypatch.setitem(app.config, "API_RATE_LIMIT", per_token)
        monkeypatch.setitem(app.config, "API_ADDRESS_RATE_LIMIT", per_address)
    limiter.reset()
    yield set_limits
    limiter.reset()


def test_address_limit_answers_json_429_with_retry_after(client, limits):
    limits(per_address="3/minute")
    for _ in range(3):
        response = client.get("/api/v1/skills")
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
    refused = client.get("/api/v1/skills")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    error = refused.get_json()["error"]
    assert error["code"] == "too_many_requests" and set(error) == {"code", "message", "fields"}
    # Another address is not held back by this one.
    other = client.get("/api/v1/skills", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200


def test_token_limit_follows_the_token_not_the_address(client, limits):
    limits(per_token="2/minute")
    first, second = bearer(make_user()), bearer(make_user())
    assert [client.get("/api/v1/skills", headers=first).status_code for _ in range(2)] == [200, 200]
    assert client.get("/api/v1/skills", headers=first,
                      environ_base={"REMOTE_ADDR": "192.0.2.8"}).status_code == 429
    # Another token, and calls without a token, keep their own counts.
    assert client.get("/api/v1/skills", headers=second).status_code == 200
    assert client.get("/api/v1/skills").status_code == 200


def test_guessing_tokens_is_limited_by_address(client, limits):
    limits(per_address="3/minute")
    statuses = [client.get("/api/v1/jobs", headers={"Authorization": f"Bearer guess{n}"}).status_code
                for n in range(5)]
    assert statuses == [401, 401, 401, 429, 429]


def test_site_pages_are_not_limited(client, limits):
    limits(per_address="1/minute")
    assert [client.get("/skills/").status_code for _ in range(3)] == [200, 200, 200]
