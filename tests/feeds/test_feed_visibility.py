"""The visibility matrix for feeds: public feeds carry public jobs only, whoever asks; a private
feed carries exactly what its token's owner may see; a revoked or unknown token is a 404; a job
whose visibility changes leaves (or joins) the feeds at once."""
import pytest

from marketplace.extensions import db
from marketplace.jobs import services as job_services

from ..conftest import login
from ..matrix import as_viewer
from .conftest import SEES, STATES, VISIBILITIES, expected, matrix_titles, parse_feed, private_token

FEED_PATHS = ("jobs.{fmt}?state=any", "skills/python.{fmt}?", "coops/poster-co-op.{fmt}?", "kinds/tender.{fmt}?")


def _want(kind, states=STATES):
    return {(v, s) for v in VISIBILITIES for s in states if expected(kind, v, s)}


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_public_feeds_carry_public_jobs_only_whoever_asks(app, world, fmt, subtests):
    for kind in SEES:
        with subtests.test(viewer=kind):
            client = as_viewer(app.test_client(), world, kind)
            parsed = parse_feed(client.get(f"/feeds/jobs.{fmt}?state=any"))
            assert matrix_titles(parsed) == {("public", s) for s in STATES if s != "draft"}, kind
            for path in FEED_PATHS[1:]:
                parsed = parse_feed(client.get("/feeds/" + path.format(fmt=fmt).rstrip("?")))
                assert matrix_titles(parsed) == {("public", "open")}, (kind, path)


def test_private_feeds_carry_what_the_token_owner_may_see(client, world, subtests):
    for kind in [k for k in SEES if k != "anonymous"]:
        with subtests.test(viewer=kind):
            token = private_token(world["users"][kind])
            for fmt in ("atom", "rss"):
                parsed = parse_feed(client.get(f"/feeds/private/{token}/jobs.{fmt}?state=any"))
                assert matrix_titles(parsed) == _want(kind), (kind, fmt)
                parsed = parse_feed(client.get(f"/feeds/private/{token}/jobs.{fmt}"))
                assert matrix_titles(parsed) == _want(kind, ("open",)), (kind, fmt)
            for path in FEED_PATHS[1:]:
                parsed = parse_feed(client.get(f"/feeds/private/{token}/" + path.format(fmt="atom").rstrip("?")))
                assert matrix_titles(parsed) == _want(kind, ("open",)), (kind, path)
            for state in STATES:
                parsed = parse_feed(client.get(f"/feeds/private/{token}/jobs.atom?state={state}"))
                assert matrix_titles(parsed) == _want(kind, (state,)), (kind, state)


def test_a_private_feed_does_not_depend_on_who_is_signed_in(client, world, subtests):
    """The token decides, not the browser's session: an admin's browser reading a workers.coop
    member's private feed sees that member's jobs."""
    for kind in ["cotech_only", "workers_only", "poster", "site_admin"]:
        with subtests.test(viewer=kind):
            token = private_token(world["users"][kind])
            login(client, world["users"]["site_admin"])
            parsed = parse_feed(client.get(f"/feeds/private/{token}/jobs.atom?state=any"))
            assert matrix_titles(parsed) == _want(kind)


def test_revoked_and_unknown_tokens_are_404(client, world):
    from marketplace.feeds import services
    from marketplace.feeds.models import FeedToken

    user = world["users"]["cotech_only"]
    token = private_token(user)
    url = f"/feeds/private/{token}/jobs.atom"
    assert client.get(url).status_code == 200
    row = db.session.query(FeedToken).one()
    services.revoke_token(row, user)
    db.session.commit()
    for path in ("jobs.atom", "jobs.rss", "skills/python.atom", "coops/poster-co-op.rss", "kinds/tender.atom"):
        assert client.get(f"/feeds/private/{token}/{path}").status_code == 404, path
    assert client.get(f"/feeds/private/{token[:-1]}x/jobs.atom").status_code == 404
    assert client.get("/feeds/private/" + "a" * 300 + "/jobs.atom").status_code == 404


def test_a_deactivated_users_token_is_404(client, world):
    user = world["users"]["cotech_only"]
    token = private_token(user)
    user.active = False
    db.session.commit()
    assert client.get(f"/feeds/private/{token}/jobs.atom").status_code == 404


def test_a_private_feed_follows_its_owners_memberships(client, world, networks):
    """Membership ends: the member's private feed narrows at once (no cached viewer)."""
    from marketplace.federation.models import NetworkMembership

    user = world["users"]["cotech_only"]
    token = private_token(user)
    assert ("cotech", "open") in matrix_titles(parse_feed(client.get(f"/feeds/private/{token}/jobs.atom")))
    membership = db.session.query(NetworkMembership).filter_by(coop_id=user.coop_links[0].coop_id).one()
    membership.status = "pending"
    db.session.commit()
    parsed = parse_feed(client.get(f"/feeds/private/{token}/jobs.atom"))
    assert matrix_titles(parsed) == {("public", "open")}


def _job_ids(parsed):
    return {int(e.link.rsplit("/", 1)[1]) for e in parsed.entries}


def test_visibility_change_takes_effect_in_feeds_at_once(client, world):
    """A federation job narrowed to CoTech leaves a workers.coop member's private feed; a public
    job narrowed to members leaves the public feeds, even for a reader holding the old ETag."""
    poster = world["users"]["poster"]
    narrowed = world["jobs"][("federation", "open")]
    unpublicised = world["jobs"][("public", "open")]
    workers_token = private_token(world["users"]["workers_only"])
    cotech_token = private_token(world["users"]["cotech_only"])
    private_url = f"/feeds/private/{workers_token}/jobs.atom"
    before = client.get(private_url)
    assert _job_ids(parse_feed(before)) == {narrowed.id, unpublicised.id}
    public_before = client.get("/feeds/jobs.rss")
    assert _job_ids(parse_feed(public_before)) == {unpublicised.id}

    job_services.update_job(narrowed, poster, {"visibility": "cotech"}, None)
    job_services.update_job(unpublicised, poster, {"visibility": "federation"}, None)
    db.session.commit()

    after = client.get(private_url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert _job_ids(parse_feed(after)) == {unpublicised.id}  # now a federation job
    public_after = client.get("/feeds/jobs.rss", headers={"If-None-Match": public_before.headers["ETag"]})
    assert public_after.status_code == 200
    assert _job_ids(parse_feed(public_after)) == set()
    for path in ("skills/python.atom", "coops/poster-co-op.atom", "kinds/tender.rss"):
        assert _job_ids(parse_feed(client.get(f"/feeds/{path}"))) == set(), path
    # A CoTech member sees both still.
    cotech_ids = _job_ids(parse_feed(client.get(f"/feeds/private/{cotech_token}/jobs.atom")))
    assert {narrowed.id, unpublicised.id} <= cotech_ids

    # And back to public: it rejoins the public feed.
    job_services.update_job(unpublicised, poster, {"visibility": "public"}, None)
    db.session.commit()
    assert _job_ids(parse_feed(client.get("/feeds/jobs.rss"))) == {unpublicised.id}


def test_private_feed_headers_keep_the_address_private(client, world):
    token = private_token(world["users"]["both"])
    response = client.get(f"/feeds/private/{token}/jobs.atom")
    assert response.headers["Cache-Control"] == "private, max-age=300"
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    parsed = parse_feed(response)
    assert token in parsed.feed.links[1].href or any(token in link.href for link in parsed.feed.links)
    again = client.get(f"/feeds/private/{token}/jobs.atom", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_private_feed_notes_the_tokens_last_use(client, world):
    from marketplace.feeds.models import FeedToken

    token = private_token(world["users"]["both"])
    assert db.session.query(FeedToken).one().last_used_at is None
    client.get(f"/feeds/private/{token}/jobs.atom")
    assert db.session.query(FeedToken).one().last_used_at is not None
