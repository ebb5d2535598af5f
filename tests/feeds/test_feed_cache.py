"""Feeds are kept like the shared page parts: per audience and address until the next write
or the next deadline. A reader's poll is then answered without rendering, its conditional GET
without reading the jobs; and reading a private feed (which notes the token's use) leaves every
cached page valid."""
from datetime import timedelta

from sqlalchemy import select

from marketplace.core.revision import SiteRevision
from marketplace.core.time import frozen_now, utcnow
from marketplace.extensions import db

from ..factories import make_coop, make_job
from ..factories import counted_statements
from .conftest import parse_feed, private_token


def _token():
    return db.session.scalar(select(SiteRevision.token))


def _get(client, url, **headers):
    with counted_statements() as ran:
        response = client.get(url, headers=headers)
    return response, len(ran)


def test_a_polled_feed_is_served_from_the_cache(client, networks):
    coop = make_coop("Poster", {networks["cotech"]: "active"})
    make_job(coop, "public", "open", title="Orchard survey")
    first, rendered = _get(client, "/feeds/jobs.atom")
    again, kept = _get(client, "/feeds/jobs.atom")
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    assert kept < rendered
    unchanged, conditional = _get(client, "/feeds/jobs.atom", **{"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304 and conditional <= kept
    make_job(coop, "public", "open", title="Orchard pruning")  # a write: the next poll sees it
    assert {e.title for e in parse_feed(client.get("/feeds/jobs.atom")).entries} == {
        "Orchard survey", "Orchard pruning"}


def test_a_deadline_takes_a_job_out_of_the_open_jobs_feed_without_a_write(client, networks):
    coop = make_coop("Poster", {networks["cotech"]: "active"})
    now = utcnow()
    make_job(coop, "public", "open", title="Closing soon", questions_deadline=now + timedelta(hours=1),
             bids_deadline=now + timedelta(hours=2))
    make_job(coop, "public", "open", title="Closing later", bids_deadline=now + timedelta(days=9))
    assert len(parse_feed(client.get("/feeds/jobs.rss")).entries) == 2
    with frozen_now(now + timedelta(hours=3)):
        assert [e.title for e in parse_feed(client.get("/feeds/jobs.rss")).entries] == ["Closing later"]


def test_reading_a_private_feed_keeps_the_site_revision(client, world):
    """The token's last use is noted, but no shared page shows it: the revision every cached
    page and feed is kept under stays the same (it changed on every reader's poll)."""
    token = private_token(world["users"]["cotech_only"])
    before = _token()
    assert client.get(f"/feeds/private/{token}/jobs.atom").status_code == 200
    db.session.expire_all()
    assert _token() == before


def test_private_feeds_are_kept_per_token_and_audience(client, world):
    """Two members of different audiences, one after the other and twice round: each gets its
    own feed, from the cache the second time."""
    from .conftest import matrix_titles
    from .test_feed_visibility import _want

    tokens = {kind: private_token(world["users"][kind]) for kind in ("cotech_only", "workers_only", "poster")}
    for _round in (1, 2):
        for kind, token in tokens.items():
            parsed = parse_feed(client.get(f"/feeds/private/{token}/jobs.atom?state=any"))
            assert matrix_titles(parsed) == _want(kind), kind


def test_a_polled_feed_reads_nothing_but_the_site_revision(client, world):
    """A poll answered from the cache neither checks the feed's arguments nor looks its skill
    or co-op up again: those are made into the feed's query only when it is built."""
    for path in ("jobs.atom?skill=python&kind=tender", "skills/python.rss", "coops/poster-co-op.atom",
                 "kinds/tender.rss"):
        first, _ = _get(client, "/feeds/" + path)
        again, kept = _get(client, "/feeds/" + path)
        assert again.status_code == 200 and again.data == first.data, path
        assert kept == 1, path  # the revision the cached feed is kept under
    assert client.get("/feeds/skills/no-such-skill.rss").status_code == 404
    assert client.get("/feeds/jobs.atom?kind=nonsense").status_code == 400


def test_cached_feeds_never_cross_audiences(app, world):
    """Every kind of reader, one after another and twice round, each on every public feed (signed
    in: public feeds carry public jobs whoever asks) and every private feed of its own token:
    each gets exactly what it may see, whoever asked before, the second round from the cache."""
    from ..conftest import login
    from .conftest import SEES, STATES, matrix_titles, private_token
    from .test_feed_visibility import FEED_PATHS, _want

    readers = {}
    for kind in SEES:
        user = world["users"][kind]
        client = app.test_client()
        if user is not None:
            login(client, user)
        readers[kind] = (client, private_token(user) if user is not None else None)
    statements = {}
    for round_ in (1, 2):
        for kind, (client, token) in readers.items():
            for path in FEED_PATHS:
                path = path.format(fmt="atom").rstrip("?")
                addresses = [("public", f"/feeds/{path}")]
                if token is not None:
                    addresses.append(("private", f"/feeds/private/{token}/{path}"))
                for which, url in addresses:
                    with counted_statements() as ran:
                        parsed = parse_feed(client.get(url))
                    states = STATES if "state=any" in url else ("open",)
                    if which == "public":
                        want = {("public", s) for s in states if s != "draft"}
                    else:
                        want = _want(kind) if "state=any" in url else _want(kind, ("open",))
                    assert matrix_titles(parsed) == want, (round_, kind, url)
                    statements[round_, kind, which, path] = len(ran)
    first = next(iter(readers))  # public feeds: one audience, rendered for the first reader alone
    for (round_, kind, which, path), count in statements.items():
        if which == "private" and round_ == 2:
            assert count < statements[1, kind, which, path], (kind, path)
        if which == "public" and (round_, kind) != (1, first):
            assert count < statements[1, first, which, path], (round_, kind, path)
