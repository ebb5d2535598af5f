"""Security headers on every kind of answer (core/headers.py): a strict CSP that forbids being
framed, nosniff, a Referrer-Policy that sends no token-bearing address on, HSTS over https."""
import pytest

from marketplace.accounts.services import make_reset_token
from marketplace.extensions import db
from marketplace.feeds.services import create_token

from .factories import make_coop, make_job, make_user


@pytest.fixture
def site(networks):
    coop = make_coop("Header Co-op", {networks["cotech"]: "active"})
    user = make_user(coops=[coop])
    return {"job": make_job(coop, "public", "open"), "user": user}


def _check_common(response, where):
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp, where
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, where
    assert "unsafe-inline" not in csp, where
    assert response.headers["X-Frame-Options"] == "DENY", where
    assert response.headers["X-Content-Type-Options"] == "nosniff", where


def test_every_kind_of_answer_carries_the_headers(client, site):
    job = site["job"]
    for path in ["/", "/jobs", f"/jobs/{job.id}", "/feeds/jobs.rss", "/feeds/jobs.atom", "/api/v1/jobs",
                 f"/api/v1/jobs/{job.id}", "/no/such/page", "/api/v1/nothing", "/login"]:
        response = client.get(path)
        _check_common(response, path)
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path
        assert "Strict-Transport-Security" not in response.headers, path  # plain http


def test_addresses_that_hold_a_token_send_no_referrer(client, site):
    _, plain = create_token(site["user"], "reader")
    reset = make_reset_token(site["user"])
    db.session.commit()
    for path in [f"/feeds/private/{plain}/jobs.atom", f"/feeds/private/{plain}/jobs.rss",
                 f"/password/reset/{reset}", "/password/reset/not-a-token"]:
        response = client.get(path)
        assert response.status_code in (200, 302, 400, 404), path
        assert response.headers["Referrer-Policy"] == "no-referrer", path
        _check_common(response, path)


def test_hsts_over_https_only(app, client, site):
    secure = client.get("/jobs", base_url="https://marketplace.test")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    # A client cannot claim https for itself: without trusted proxies the header is ignored.
    spoofed = client.get("/jobs", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in spoofed.headers
    app.config["HSTS_SECONDS"] = 0
    try:
        assert "Strict-Transport-Security" not in client.get("/jobs", base_url="https://marketplace.test").headers
    finally:
        app.config["HSTS_SECONDS"] = 31536000
