"""Private feed addresses: made on the user's page, shown once, stored hashed, listed, revoked."""
import hashlib
import re

import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditEvent
from marketplace.extensions import db
from marketplace.feeds import services
from marketplace.feeds.models import FeedToken

from ..conftest import login
from ..factories import make_coop, make_job, make_user


@pytest.fixture
def member(networks):
    coop = make_coop("Members Co-op", {networks["cotech"]: "active"})
    make_job(coop, "cotech", title="Members-only job")
    return make_user("Mo Member", coops=[coop])


def _new_token(html):
    return re.search(r"/feeds/private/([A-Za-z0-9_-]{40,})/jobs\.atom", html).group(1)


def test_the_page_needs_a_signed_in_user(client):
    response = client.get("/feeds/tokens")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post("/feeds/tokens", data={"label": "x"}).status_code == 302
    assert db.session.scalars(select(FeedToken)).all() == []


def test_make_a_token_shown_once_and_stored_hashed(client, member):
    login(client, member)
    response = client.post("/feeds/tokens", data={"label": "Thunderbird"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    plain = _new_token(html)
    assert "it is shown only this once" in html
    assert f"http://marketplace.test/feeds/private/{plain}/jobs.rss" in html

    token = db.session.scalars(select(FeedToken)).one()
    assert token.user_id == member.id and token.label == "Thunderbird"
    assert token.token_hash == hashlib.sha256(plain.encode()).hexdigest() != plain
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "feed_token.created")).one()
    assert event.actor_id == member.id and event.target_id == token.id

    # The address works, and the page never shows it again.
    feed = client.get(f"/feeds/private/{plain}/jobs.atom").get_data(as_text=True)
    assert "Members-only job" in feed
    listing = client.get("/feeds/tokens").get_data(as_text=True)
    assert plain not in listing
    assert "Thunderbird" in listing and "In use" in listing


def test_subscribe_link_gives_the_private_twin_of_a_feed(client, member):
    login(client, member)
    page = client.get("/feeds/tokens?feed=/feeds/jobs.atom?skill%3Dpython%26kind%3Dtender")
    assert "For the feed" in page.get_data(as_text=True)
    html = client.post("/feeds/tokens", data={
        "label": "", "feed": "/feeds/jobs.atom?skill=python&kind=tender&page=4",
    }).get_data(as_text=True)
    plain = _new_token(html)
    assert f"http://marketplace.test/feeds/private/{plain}/jobs.atom?skill=python&amp;kind=tender" in html
    html = client.post("/feeds/tokens", data={"feed": "/feeds/skills/python.rss"}).get_data(as_text=True)
    assert re.search(r"/feeds/private/[\w-]+/skills/python\.rss", html)


@pytest.mark.parametrize("feed", ["https://evil.example/feeds/jobs.atom", "/jobs", "/feeds/tokens",
                                  "/feeds/private/abc/jobs.atom", "javascript:alert(1)", "/feeds/../admin"])
def test_other_addresses_are_ignored(client, member, feed):
    login(client, member)
    html = client.post("/feeds/tokens", data={"feed": feed}).get_data(as_text=True)
    assert "The feed you asked for" not in html and "For the feed" not in html
    assert "evil.example" not in html and "javascript:" not in html


def test_revoke_a_token(client, member):
    login(client, member)
    plain = _new_token(client.post("/feeds/tokens", data={"label": "phone"}).get_data(as_text=True))
    token = db.session.scalars(select(FeedToken)).one()

    response = client.post(f"/feeds/tokens/{token.id}/revoke")
    assert response.status_code == 302
    assert db.session.get(FeedToken, token.id).revoked_at is not None
    assert client.get(f"/feeds/private/{plain}/jobs.atom").status_code == 404
    assert "Revoked" in client.get("/feeds/tokens").get_data(as_text=True)
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "feed_token.revoked")).one()

    # Revoking twice: a message, no change.
    client.post(f"/feeds/tokens/{token.id}/revoke")
    assert "already revoked" in client.get("/feeds/tokens").get_data(as_text=True)


def test_someone_elses_token_cannot_be_revoked(client, member):
    other = make_user("Other Person")
    token, plain = services.create_token(other, "theirs")
    db.session.commit()
    login(client, member)
    assert client.post(f"/feeds/tokens/{token.id}/revoke").status_code == 404
    assert client.post("/feeds/tokens/999999/revoke").status_code == 404
    assert db.session.get(FeedToken, token.id).revoked_at is None
    assert "theirs" not in client.get("/feeds/tokens").get_data(as_text=True)


def test_a_bad_label_is_refused_with_nothing_saved(client, member):
    login(client, member)
    response = client.post("/feeds/tokens", data={"label": "x" * 81})
    assert response.status_code == 422
    assert "There is a problem" in response.get_data(as_text=True)
    assert db.session.scalars(select(FeedToken)).all() == []


def test_too_many_tokens(client, member):
    for n in range(services.MAX_TOKENS_PER_USER):
        services.create_token(member, f"t{n}")
    db.session.commit()
    login(client, member)
    response = client.post("/feeds/tokens", data={"label": "one more"})
    assert response.status_code == 422
    assert "revoke one you no longer use" in response.get_data(as_text=True)
    assert len(db.session.scalars(select(FeedToken)).all()) == services.MAX_TOKENS_PER_USER


def test_csrf_is_required(client, member, csrf):
    login(client, member)
    assert client.post("/feeds/tokens", data={"label": "x"}).status_code in (400, 422)
    assert db.session.scalars(select(FeedToken)).all() == []
    token, _ = services.create_token(member, "kept")
    db.session.commit()
    assert client.post(f"/feeds/tokens/{token.id}/revoke").status_code == 400
    assert db.session.get(FeedToken, token.id).revoked_at is None
