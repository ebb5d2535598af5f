"""RSS 2.0 and Atom 1.0 feeds of jobs: what each entry carries, which jobs each feed holds,
conditional GET and caching headers, and the links that make feeds discoverable."""
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import render_template_string

from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.jobs import services as job_services

from ..factories import make_coop, make_job, make_user
from .conftest import parse_feed


@pytest.fixture
def board(networks, skills):
    coop = make_coop("Outlandish Bytes", {networks["cotech"]: "active"})
    other = make_coop("Agile Collective", {networks["cotech"]: "active"})
    poster = make_user("Pat Poster", coops=[coop])
    jobs = {
        "python": make_job(coop, "public", skills=[skills["python"], skills["accessibility"]],
                           title="Booking system", summary="A booking system for a community energy co-op.",
                           budget_min=8000, budget_max=12000, kind="tender"),
        "design": make_job(other, "public", skills=[skills["web-design"]], title="Brand refresh",
                           kind="lead", budget_type="day_rate", budget_min=450, budget_max=None),
        "members": make_job(coop, "cotech", skills=[skills["python"]], title="Members-only subcontract",
                            kind="subcontract"),
        "closed": make_job(coop, "public", state="closed", skills=[skills["python"]], title="Old closed tender"),
    }
    return {"coop": coop, "other": other, "poster": poster, "jobs": jobs}


def titles(parsed):
    return [e.title for e in parsed.entries]


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_all_jobs_feed_carries_open_public_jobs_with_their_details(app, client, board, fmt):
    response = client.get(f"/feeds/jobs.{fmt}")
    parsed = parse_feed(response)
    assert response.mimetype == {"atom": "application/atom+xml", "rss": "application/rss+xml"}[fmt]
    assert parsed.version == {"atom": "atom10", "rss": "rss20"}[fmt]
    assert set(titles(parsed)) == {"Booking system", "Brand refresh"}
    job = board["jobs"]["python"]
    entry = next(e for e in parsed.entries if e.title == "Booking system")
    assert entry.link == f"http://marketplace.test/jobs/{job.id}"
    host = urlsplit(app.config["SITE_URL"]).hostname
    assert entry.id == f"tag:{host},{job.created_at:%Y-%m-%d}:job/{job.id}"
    assert entry.published_parsed[:6] == job.published_at.timetuple()[:6]
    if fmt == "atom":
        assert entry.updated_parsed[:6] == job.updated_at.timetuple()[:6]
        assert entry.author_detail.name == "Outlandish Bytes"
        assert {(t.term, t.label) for t in entry.tags} == {("python", "Python"), ("accessibility", "Accessibility")}
    else:
        assert entry.author == "Outlandish Bytes"  # dc:creator
        assert {t.term for t in entry.tags} == {"Python", "Accessibility"}
    summary = entry.summary
    assert "A booking system for a community energy co-op." in summary
    assert "£8,000–£12,000" in summary
    assert "Posted by: Outlandish Bytes" in summary
    assert "Questions by:" in summary and "Bids by:" in summary
    assert job.bids_deadline.strftime("%Y") in summary
    assert "<strong>help</strong>" in entry.content[0].value  # the description, rendered
    assert parsed.feed.title == "Open jobs · CoTech Marketplace"
    assert parsed.feed.link == "http://marketplace.test/jobs"


def test_entries_are_newest_first_and_limited(client, board, feed_settings):
    feed_settings(FEED_ITEMS=1)
    parsed = parse_feed(client.get("/feeds/jobs.atom"))
    newest = max((board["jobs"]["python"], board["jobs"]["design"]), key=lambda j: j.published_at)
    assert titles(parsed) == [newest.title]


def test_guid_is_stable_across_requests_and_edits(client, board):
    job = board["jobs"]["python"]
    first = parse_feed(client.get("/feeds/jobs.rss"))
    job_services.update_job(job, board["poster"], {"title": "Booking system, phase 2"}, None)
    db.session.commit()
    second = parse_feed(client.get("/feeds/jobs.rss"))
    ids = {e.title: e.id for e in first.entries}
    assert {e.title: e.id for e in second.entries}["Booking system, phase 2"] == ids["Booking system"]


def test_body_is_the_same_for_the_same_jobs(client, board):
    assert client.get("/feeds/jobs.atom").data == client.get("/feeds/jobs.atom").data
    assert client.get("/feeds/jobs.rss").data == client.get("/feeds/jobs.rss").data


@pytest.mark.parametrize("path, expected_titles, title", [
    ("/feeds/skills/python.atom", {"Booking system"}, "Python jobs · CoTech Marketplace"),
    ("/feeds/skills/web-design.rss", {"Brand refresh"}, "Web design jobs · CoTech Marketplace"),
    ("/feeds/coops/outlandish-bytes.atom", {"Booking system"}, "Jobs posted by Outlandish Bytes · CoTech Marketplace"),
    ("/feeds/kinds/lead.atom", {"Brand refresh"}, "Passed-on leads · CoTech Marketplace"),
    ("/feeds/kinds/tender.rss", {"Booking system"}, "Tenders · CoTech Marketplace"),
    ("/feeds/jobs.atom?skill=python&kind=tender", {"Booking system"}, "Open jobs: Python, Tender · CoTech Marketplace"),
    ("/feeds/jobs.atom?skill=python&state=closed", {"Old closed tender"}, "Closed jobs: Python · CoTech Marketplace"),
    ("/feeds/jobs.atom?coop=agile-collective", {"Brand refresh"}, "Open jobs: posted by Agile Collective · CoTech Marketplace"),
    ("/feeds/jobs.rss?kind=subcontract", set(), "Open jobs: Subcontract · CoTech Marketplace"),
])
def test_feeds_per_skill_coop_kind_and_saved_search(client, board, path, expected_titles, title):
    parsed = parse_feed(client.get(path))
    assert set(titles(parsed)) == expected_titles
    assert parsed.feed.title == title


def test_saved_search_links_back_to_the_same_search(client, board):
    parsed = parse_feed(client.get("/feeds/jobs.atom?skill=python&kind=tender&page=3"))
    assert parsed.feed.link == "http://marketplace.test/jobs?skill=python&kind=tender"


@pytest.mark.parametrize("path", [
    "/feeds/skills/cobol.atom", "/feeds/coops/no-such-coop.rss", "/feeds/kinds/gig.atom",
    "/feeds/jobs.json", "/feeds/private/not-a-token/jobs.atom",
])
def test_unknown_feeds_are_404(client, board, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("query", ["skill=cobol", "kind=gig", "state=sideways", "coop=nobody", "visibility=secret"])
def test_an_invalid_saved_search_is_a_clear_400(client, board, query):
    response = client.get(f"/feeds/jobs.atom?{query}")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_conditional_get_with_etag_and_last_modified(client, board):
    first = client.get("/feeds/jobs.atom")
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag and last_modified
    assert first.headers["Cache-Control"] == "public, max-age=300"

    again = client.get("/feeds/jobs.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    by_date = client.get("/feeds/jobs.atom", headers={"If-Modified-Since": last_modified})
    assert by_date.status_code == 304

    # A change to a job in the feed: a full answer with a new ETag.
    job_services.update_job(board["jobs"]["design"], board["poster"], {"summary": "Now with a logo."}, None)
    db.session.commit()
    changed = client.get("/feeds/jobs.atom", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "Now with a logo." in changed.get_data(as_text=True)


def test_etag_changes_when_a_job_leaves_the_feed(client, board):
    etag = client.get("/feeds/jobs.rss").headers["ETag"]
    job_services.withdraw_job(board["jobs"]["design"], board["poster"], "Filled")
    db.session.commit()
    response = client.get("/feeds/jobs.rss", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert titles(parse_feed(response)) == ["Booking system"]


def test_etags_differ_between_formats_and_feeds(client, board):
    etags = {client.get(p).headers["ETag"] for p in
             ("/feeds/jobs.atom", "/feeds/jobs.rss", "/feeds/skills/python.atom", "/feeds/kinds/tender.atom")}
    assert len(etags) == 4


def test_empty_feed_is_valid(client, networks):
    parsed = parse_feed(client.get("/feeds/jobs.atom"))
    assert parsed.entries == []
    assert parsed.feed.title == "Open jobs · CoTech Marketplace"


def test_public_feed_ignores_the_signed_in_user(client, board):
    """A member's browser asks for the public feed: still public jobs only (feeds get shared)."""
    from ..conftest import login

    login(client, board["poster"])
    parsed = parse_feed(client.get("/feeds/jobs.atom"))
    assert "Members-only subcontract" not in titles(parsed)


def test_imported_and_other_jobs_with_html_in_titles_stay_well_formed(client, networks, skills):
    coop = make_coop("Quotes & <Brackets>", {networks["cotech"]: "active"})
    make_job(coop, "public", title='Fish & chips "shop" <site>', summary="Less < more & so on",
             description="<script>alert(1)</script> **bold**")
    for fmt in ("atom", "rss"):
        parsed = parse_feed(client.get(f"/feeds/jobs.{fmt}"))
        entry = parsed.entries[0]
        assert entry.title == 'Fish & chips "shop" <site>'
        assert "<script" not in entry.content[0].value


# --- discovery --------------------------------------------------------------------------------

def test_feed_head_and_subscribe_macros(app, board):
    template = (
        '{% from "feeds/_links.html" import feed_head, feed_subscribe %}'
        '{{ feed_head("feeds.jobs", "Jobs", query=request.args) }}'
        '{{ feed_subscribe("feeds.skill", "Python jobs", slug="python") }}'
    )
    with app.test_request_context("/jobs?skill=python&kind=tender&page=2"):
        html = render_template_string(template)
    assert ('<link rel="alternate" type="application/atom+xml" title="Jobs (Atom)" '
            'href="http://marketplace.test/feeds/jobs.atom?skill=python&amp;kind=tender">') in html
    assert 'type="application/rss+xml" title="Jobs (RSS)" href="http://marketplace.test/feeds/jobs.rss?skill=python&amp;kind=tender"' in html
    assert 'href="/feeds/subscribe?feed=/feeds/skills/python.atom"' in html  # a page that explains feeds
    assert "/feeds/tokens?feed=/feeds/skills/python.atom" in html
    assert "Sign in for a private feed" in html


def test_every_discovered_feed_answers(client, app, board):
    """The addresses the macros print are real feeds."""
    with app.test_request_context("/"):
        from marketplace.feeds.panels import feed_links

        links = [feed_links("feeds.jobs", query={"kind": "tender", "state": "open"}),
                 feed_links("feeds.skill", slug="python"),
                 feed_links("feeds.coop", slug="outlandish-bytes"),
                 feed_links("feeds.kind", slug="lead")]
    for link in links:
        for fmt in ("atom", "rss"):
            parse_feed(client.get(link[fmt].replace("http://marketplace.test", "")))


def test_imported_notice_macro_is_empty_for_jobs_posted_here(app, board):
    with app.test_request_context("/"):
        html = render_template_string(
            '{% from "feeds/_imported.html" import imported_notice %}[{{ imported_notice(job) }}]',
            job=board["jobs"]["python"],
        )
    assert html.strip() == "[]"


def test_deadlines_in_summary_are_in_site_time(client, networks):
    coop = make_coop("Summer Co-op", {networks["cotech"]: "active"})
    bids = utcnow().replace(month=7, day=1, hour=11, minute=0) + timedelta(days=366)
    make_job(coop, "public", title="Summer job", questions_deadline=bids - timedelta(days=3), bids_deadline=bids)
    summary = parse_feed(client.get("/feeds/jobs.atom")).entries[0].summary
    assert "12:00 BST" in summary  # 11:00 UTC in London's summer time


@pytest.mark.parametrize("page, expected_titles", [
    ("/", {"Booking system", "Brand refresh"}),
    ("/jobs?skill=python", {"Booking system"}),
    ("/skills/python", {"Booking system"}),
    ("/coops/agile-collective", {"Brand refresh"}),
])
def test_listing_pages_link_their_feeds(client, board, page, expected_titles):
    import re

    html = client.get(page).get_data(as_text=True)
    links = re.findall(r'<link rel="alternate" type="application/(atom|rss)\+xml" title="[^"]*" href="([^"]+)"', html)
    assert {kind for kind, _ in links} == {"atom", "rss"}, page
    assert "Subscribe to" in html
    for _, href in links:
        parts = urlsplit(href.replace("&amp;", "&"))
        parsed = parse_feed(client.get(parts.path + ("?" + parts.query if parts.query else "")))
        # Anonymous feeds: the open public jobs of the page, never the members-only one.
        assert set(titles(parsed)) == expected_titles, (page, href)
