"""Feeds of full-text searches: ``q`` in a feed address runs the site's search as the feed's
viewer (public feeds: an anonymous visitor; private feeds: the token's owner), newest first;
/search offers the feed of what it shows. The visibility matrix, through search feeds."""
import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.jobs import services as job_services

from ..factories import make_job
from ..feeds.conftest import matrix_titles, parse_feed, private_token
from .conftest import SEES, STATES, VISIBILITIES, expected


def _want(kind, states=STATES):
    return {(v, s) for v in VISIBILITIES for s in states if expected(kind, v, s)}


@pytest.mark.parametrize("kind", SEES)
def test_a_public_search_feed_carries_public_jobs_only_whoever_asks(client, world, kind):
    user = world["users"][kind]
    if user is not None:
        from ..conftest import login

        login(client, user)
    for fmt in ("atom", "rss"):
        parsed = parse_feed(client.get(f"/feeds/jobs.{fmt}?q=matrix"))
        # A search spans every state unless one is chosen, as on /search; drafts are nobody's.
        assert matrix_titles(parsed) == {("public", s) for s in STATES if s != "draft"}, (kind, fmt)


@pytest.mark.parametrize("kind", [k for k in SEES if k != "anonymous"])
def test_a_private_search_feed_carries_what_the_token_owner_may_see(client, world, kind):
    token = private_token(world["users"][kind])
    parsed = parse_feed(client.get(f"/feeds/private/{token}/jobs.atom?q=matrix"))
    assert matrix_titles(parsed) == _want(kind), kind  # the poster's drafts too, as in /jobs's feed
    parsed = parse_feed(client.get(f"/feeds/private/{token}/jobs.rss?q=matrix&state=open"))
    assert matrix_titles(parsed) == _want(kind, ("open",)), kind


def test_a_search_feed_holds_what_the_search_page_finds_newest_first(client, poster, search):
    _, coop = poster
    now = utcnow()
    old = make_job(coop, "public", "open", title="Food co-op website rebuild", published_at=now - timedelta(days=3))
    new = make_job(coop, "public", "open", title="Food co-op stock system", published_at=now - timedelta(days=1),
                   kind="subcontract")
    make_job(coop, "public", "open", title="Housing co-op website")
    make_job(coop, "cotech", "open", title="Food co-op members' area")
    page = search('"food co-op"', sort="newest")
    parsed = parse_feed(client.get('/feeds/jobs.atom?q="food co-op"'))
    assert [e.title for e in parsed.entries] == page.titles == [new.title, old.title]
    assert parsed.feed.title.startswith("Jobs matching “\"food co-op\"”")
    page_link = next(link.href for link in parsed.feed.links if link.rel == "alternate")
    assert urlsplit(page_link).path == "/search"
    assert parse_qs(urlsplit(page_link).query) == {"q": ['"food co-op"'], "sort": ["newest"]}
    # The filters of /search narrow it too.
    parsed = parse_feed(client.get('/feeds/jobs.rss?q="food co-op"&kind=tender&state=open'))
    assert [e.title for e in parsed.entries] == [old.title]


def test_synonyms_and_edits_reach_search_feeds(client, poster, skills):
    from marketplace.search import forget_skills

    user, coop = poster
    skills["accessibility"].synonyms = "a11y;wcag"
    db.session.commit()
    forget_skills()
    job = make_job(coop, "public", "open", title="Audit of a booking site", skills=[skills["accessibility"]])
    url = "/feeds/jobs.atom?q=a11y"
    first = client.get(url)
    assert [e.title for e in parse_feed(first).entries] == [job.title]
    job_services.update_job(job, user, {"visibility": "cotech"}, None)
    db.session.commit()
    after = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200 and parse_feed(after).entries == []


def test_a_search_feed_answers_conditional_gets(client, poster):
    _, coop = poster
    make_job(coop, "public", "open", title="Website for a bakery")
    first = client.get("/feeds/jobs.rss?q=website")
    assert first.status_code == 200
    again = client.get("/feeds/jobs.rss?q=website", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    other = client.get("/feeds/jobs.rss?q=bakery")
    assert other.headers["ETag"] != first.headers["ETag"]  # a different search, a different feed


@pytest.mark.parametrize("query", [
    "q=website&kind=banana", "q=website&skill=no-such-skill", "q=website&coop=nobody", "q=" + "w" * 501,
])
def test_a_search_feed_that_cannot_be_run_is_a_400(client, poster, query):
    response = client.get(f"/feeds/jobs.atom?{query}")
    assert response.status_code == 400
    assert "This feed's search is not valid" in unescape(response.get_data(as_text=True))


def test_the_search_page_offers_its_feed_and_a_private_one(client, poster, search):
    _, coop = poster
    make_job(coop, "public", "open", title="Website for a bakery")
    html = search("website", state="open", sort="closing").html
    atom = unescape(re.search(r'<link rel="alternate" type="application/atom\+xml"[^>]*href="([^"]+)"', html).group(1))
    assert parse_qs(urlsplit(atom).query) == {"q": ["website"], "state": ["open"]}
    assert [e.title for e in parse_feed(client.get(atom)).entries] == ["Website for a bakery"]
    assert 'href="/feeds/tokens?feed=' in html  # the private twin, made on the tokens page
    # Nothing to subscribe to without words (a filter-only search is /jobs's feed).
    assert "application/atom+xml" not in search(None, state="open").html
    assert "application/atom+xml" not in search("website", scope="coops").html


def test_a_private_search_feed_address_keeps_the_words(client, world):
    from marketplace.feeds.routes import private_feed_url

    with client.application.test_request_context():
        url = private_feed_url('/feeds/jobs.atom?q="food co-op"&budget=up-to-5k&page=2', "TOKEN")
    assert urlsplit(url).path == "/feeds/private/TOKEN/jobs.atom"
    assert parse_qs(urlsplit(url).query) == {"q": ['"food co-op"'], "budget": ["up-to-5k"]}
