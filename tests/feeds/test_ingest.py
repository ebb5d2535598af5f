"""Importing feeds over real HTTP from a local server: a Discourse category RSS, an Atom feed, an
OCDS release package, HTML with scripts, a truncated feed, a wrong encoding; conditional GET,
timeouts, the size limit, and errors that leave what was imported intact."""
import re
import time
from datetime import datetime

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.extensions import db
from marketplace.feeds import services
from marketplace.feeds.fetch import UNREACHABLE
from marketplace.feeds.ingest import fetch_source
from marketplace.feeds.models import FeedSource, ImportedEntry
from marketplace.federation import ANONYMOUS
from marketplace.jobs.models import Job
from marketplace.jobs.services import JobFilters, jobs_query

from .conftest import data_file, parse_feed

pytestmark = pytest.mark.usefixtures("march_2025", "taxonomy")

DISCOURSE = "discourse-jobs.rss"


def jobs_by_title():
    return {j.title: j for j in db.session.scalars(select(Job))}


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def actions():
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def slugs(job):
    return {s.slug for s in job.skills}


# --- RSS from a Discourse category --------------------------------------------------------------

def test_discourse_rss_becomes_jobs(feed_server, make_source, taxonomy, network_coop):
    url = feed_server.put("/c/jobs/9.rss", data_file(DISCOURSE))
    source = make_source(url, skills=[taxonomy("co-op-development")])

    report = fetch_source(source)

    assert report.ok and report.describe() == "CoTech forum jobs: 4 new, 0 updated, 0 unchanged, 1 already closed."
    jobs = jobs_by_title()
    assert set(jobs) == {
        "Django developer wanted for a housing co-op tenant portal",
        "Lead: brand refresh and WordPress site for a community energy society",
        "Subcontract: DevOps help migrating a Nextcloud install to Debian 12",
        "Anyone free for a user research sprint? (filled, thanks!)",
    }
    django = jobs["Django developer wanted for a housing co-op tenant portal"]
    assert django.coop_id == network_coop.id and django.posted_by_id is None
    assert (django.status, django.visibility, django.kind, django.state) == ("published", "public", "lead", "open")
    assert django.published_at == datetime(2025, 3, 3, 10, 15, 22)  # the entry's date
    assert django.bids_deadline == datetime(2025, 4, 2, 10, 15, 22)  # + FEED_DEFAULT_OPEN_DAYS
    assert django.questions_deadline == datetime(2025, 4, 1, 10, 15, 22)
    assert django.summary.startswith("Hi all, one of our clients, a fully mutual housing co-op in Leeds")
    assert "posts - " not in django.description and "Read full topic" not in django.description
    assert "<strong>Python/Django</strong>" in django.description_html
    # Skills: the source's default, and those named in the text (names and synonyms).
    assert {"co-op-development", "python", "django", "accessibility"} <= slugs(django)
    assert {"wordpress", "branding-and-identity"} <= slugs(jobs["Lead: brand refresh and WordPress site for a community energy society"])
    assert {"devops", "sysadmin", "nextcloud", "debian", "docker"} <= slugs(
        jobs["Subcontract: DevOps help migrating a Nextcloud install to Debian 12"])
    old = jobs["Anyone free for a user research sprint? (filled, thanks!)"]
    assert old.state == "closed" and old.status == "published"  # its deadline passed at the source
    assert "user-research" in slugs(old)

    entry = db.session.scalar(select(ImportedEntry).where(ImportedEntry.job_id == django.id))
    assert entry.guid == "community.coops.tech-topic-2413"
    assert entry.link == "https://community.coops.tech/t/django-developer-wanted-for-a-housing-co-op-tenant-portal/2413"
    source = db.session.get(FeedSource, source.id)
    assert source.entries_seen == 4 and source.last_error is None
    assert source.last_success_at == source.last_fetched_at == datetime(2025, 3, 10, 12, 0)
    assert source.etag and source.last_modified
    assert actions().count("job.created") == 4
    assert actions().count("job.published") == 3
    assert actions().count("job.imported_closed") == 1
    assert "feed_source.fetched" in actions()


def test_request_carries_user_agent_and_refetch_is_conditional(app, feed_server, make_source):
    url = feed_server.put("/c/jobs/9.rss", data_file(DISCOURSE))
    source = make_source(url)
    fetch_source(source)
    events_before = count(AuditEvent)

    report = fetch_source(db.session.get(FeedSource, source.id))

    assert report.outcome == "not_modified"
    first, second = feed_server.requests_to("/c/jobs/9.rss")
    assert first["User-Agent"] == f"CoTechMarketplace/0.1 (+{app.config['SITE_URL']})"
    assert "If-None-Match" not in first and "If-Modified-Since" not in first
    assert second["If-None-Match"] == feed_server.files["/c/jobs/9.rss"]["etag"]
    assert second["If-Modified-Since"] == "Sun, 09 Mar 2025 06:00:00 GMT"
    assert count(Job) == 4 and count(ImportedEntry) == 4
    assert count(AuditEvent) == events_before  # a 304 changes nothing worth an event


def test_last_modified_alone_makes_a_conditional_get(feed_server, make_source):
    feed_server.send_etag = False
    source = make_source(feed_server.put("/feed.rss", data_file(DISCOURSE)))
    fetch_source(source)
    assert fetch_source(db.session.get(FeedSource, source.id)).outcome == "not_modified"
    assert "If-None-Match" not in feed_server.requests_to("/feed.rss")[1]


def test_a_server_that_ignores_conditional_get_costs_no_parsing(feed_server, make_source):
    feed_server.honour_conditional = False
    source = make_source(feed_server.put("/feed.rss", data_file(DISCOURSE)))
    fetch_source(source)
    report = fetch_source(db.session.get(FeedSource, source.id))
    assert report.outcome == "unchanged"
    assert count(Job) == 4


def test_refetch_updates_instead_of_duplicating(feed_server, make_source):
    body = data_file(DISCOURSE)
    url = feed_server.put("/feed.rss", body)
    source = make_source(url)
    fetch_source(source)
    django = jobs_by_title()["Django developer wanted for a housing co-op tenant portal"]
    django_id = django.id

    changed = body.replace(b"Django developer wanted for a housing co-op tenant portal</title>",
                           b"Django developer wanted for a housing co-op tenant portal (budget raised)</title>", 1)
    changed = changed.replace(b"Budget is around \xc2\xa318k", b"Budget is now \xc2\xa322k")
    new_item = re.search(rb"<item>.*?</item>", body, re.S).group(0)
    new_item = new_item.replace(b"topic-2413", b"topic-2420").replace(b"/2413", b"/2420").replace(
        b"Django developer wanted for a housing co-op tenant portal", b"Drupal 10 upgrade for a food co-op")
    changed = changed.replace(b"<item>", new_item + b"\n<item>", 1)
    feed_server.put("/feed.rss", changed, modified=datetime(2025, 3, 10, 9, 0))

    report = fetch_source(db.session.get(FeedSource, source.id))

    assert report.describe() == "CoTech forum jobs: 1 new, 1 updated, 3 unchanged."
    assert count(Job) == 5 and count(ImportedEntry) == 5
    updated = db.session.get(Job, django_id)
    assert updated.title == "Django developer wanted for a housing co-op tenant portal (budget raised)"
    assert "£22k" in updated.description_html and "<strong>" in updated.description_html
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "job.updated")).one()
    assert event.target_id == django_id and {"title", "summary", "description"} <= set(event.data["fields"])
    assert jobs_by_title()["Drupal 10 upgrade for a food co-op"].state == "open"


def test_a_job_withdrawn_here_is_not_brought_back(feed_server, make_source, coordinator):
    from marketplace.jobs.services import withdraw_job

    body = data_file(DISCOURSE)
    source = make_source(feed_server.put("/feed.rss", body))
    fetch_source(source)
    job = jobs_by_title()["Django developer wanted for a housing co-op tenant portal"]
    withdraw_job(job, None, "Taken up by a member co-op")
    db.session.commit()
    feed_server.put("/feed.rss", body.replace(b"Reply here", b"Reply in this thread"),
                    modified=datetime(2025, 3, 10, 9, 0))
    fetch_source(db.session.get(FeedSource, source.id))
    assert db.session.get(Job, job.id).status == "withdrawn"


# --- Atom -------------------------------------------------------------------------------------

def test_atom_feed_becomes_jobs(feed_server, make_source):
    source = make_source(feed_server.put("/feed.atom", data_file("partner-board.atom"),
                                         content_type="application/atom+xml"),
                         name="Platform co-op board", visibility="federation", job_kind="subcontract")
    report = fetch_source(source)
    assert (report.created, report.closed) == (2, 0)
    jobs = jobs_by_title()
    app = jobs["React Native app for a food delivery co-op"]
    assert (app.visibility, app.kind, app.state) == ("federation", "subcontract", "open")
    assert app.summary == "A rider-owned delivery co-op needs its iOS and Android apps rebuilt in React Native."
    assert "<li>Budget: £40,000–£55,000</li>" in app.description_html
    assert {"mobile-apps", "react", "node-js"} <= slugs(app)
    dash = jobs["Data visualisation & analytics dashboard"]
    assert {"data-visualisation", "analytics", "postgresql"} <= slugs(dash)
    entry = db.session.scalar(select(ImportedEntry).where(ImportedEntry.job_id == app.id))
    assert entry.guid == "tag:work.platform.coop,2025-03-06:/jobs/381"
    # A federation job is not in the public feed.
    assert db.session.scalars(jobs_query(ANONYMOUS, JobFilters())).all() == []


# --- OCDS release packages ------------------------------------------------------------------------

def test_ocds_release_package_becomes_tender_jobs(feed_server, make_source):
    source = make_source(feed_server.put("/ocds.json", data_file("contracts-finder.json"),
                                         content_type="application/json"),
                         name="Contracts Finder: IT services", kind="ocds", job_kind="tender")
    report = fetch_source(source)

    # The cancelled tender and the award without a tender are not imported, and both are counted.
    assert (report.created, report.closed, report.skipped) == (4, 1, 2)
    jobs = jobs_by_title()
    leeds = jobs["Website redesign and accessible content management system"]
    assert (leeds.kind, leeds.state, leeds.visibility) == ("tender", "open", "public")
    assert (leeds.budget_min, leeds.budget_max, leeds.currency) == (120000, 180000, "GBP")
    assert leeds.bids_deadline == datetime(2025, 4, 14, 12, 0)
    assert leeds.questions_deadline == datetime(2025, 4, 4, 12, 0)
    assert leeds.location == "Yorkshire and the Humber"
    assert leeds.summary.startswith("Buyer: Leeds City Council. Value: 120,000–180,000 GBP. Leeds City Council is seeking")
    assert {"web-design", "websites-and-web-apps", "accessibility", "user-research", "drupal", "wordpress"} <= slugs(leeds)
    entry = db.session.scalar(select(ImportedEntry).where(ImportedEntry.job_id == leeds.id))
    assert entry.guid == "ocds-b5fd17-6e6a1f8c-2b1d-4d2c-9a51-1d2f0b6f3a10"
    assert entry.link == "https://www.contractsfinder.service.gov.uk/Notice/6e6a1f8c-2b1d-4d2c-9a51-1d2f0b6f3a10"

    # Two releases of one process: the newest wins.
    nhs = jobs["Data platform integration and analytics (deadline extended)"]
    # A bare date: the end of that day in the UK, British Summer Time in April (22:59 UTC).
    assert nhs.bids_deadline == datetime(2025, 4, 30, 22, 59)
    assert nhs.questions_deadline == datetime(2025, 4, 29, 22, 59)
    assert "<script" not in nhs.description_html and "<p>" in nhs.description_html
    assert {"data-integrations", "postgresql"} <= slugs(nhs)

    bristol = jobs["Social media and campaign support for the Bristol Climate Festival"]
    assert bristol.state == "closed" and bristol.location == "Bristol"
    assert {"strategy-and-campaigns", "social-media"} <= slugs(bristol)

    huge = jobs["National digital identity platform"]
    assert (huge.budget_min, huge.budget_max) == (0, None)  # beyond what a job can hold …
    assert "Value: 450,000,000 GBP." in huge.summary  # … so it is said in words
    assert huge.bids_deadline == datetime(2025, 5, 1, 11, 0)  # +01:00 → UTC


def test_ocds_cancellation_withdraws_the_imported_job(feed_server, make_source):
    import json

    package = json.loads(data_file("contracts-finder.json"))
    leeds = package["releases"][0]
    source = make_source(feed_server.put("/ocds.json", json.dumps(package).encode()), kind="ocds")
    fetch_source(source)
    job = jobs_by_title()["Website redesign and accessible content management system"]

    cancellation = json.loads(json.dumps(leeds))
    cancellation.update(id=leeds["id"] + "-2", date="2025-03-09T10:00:00Z", tag=["tenderCancellation"])
    cancellation["tender"]["status"] = "cancelled"
    package["releases"].append(cancellation)
    feed_server.put("/ocds.json", json.dumps(package).encode(), modified=datetime(2025, 3, 10, 9, 0))
    report = fetch_source(db.session.get(FeedSource, source.id))

    assert report.withdrawn == 1
    job = db.session.get(Job, job.id)
    assert job.state == "withdrawn" and job.withdrawn_reason == "Cancelled at the source."


def test_ocds_deadline_extension_reopens_a_closed_job(feed_server, make_source):
    import json

    package = json.loads(data_file("contracts-finder.json"))
    source = make_source(feed_server.put("/ocds.json", json.dumps(package).encode()), kind="ocds")
    fetch_source(source)
    bristol = jobs_by_title()["Social media and campaign support for the Bristol Climate Festival"]
    assert bristol.state == "closed"
    package["releases"][3]["tender"]["tenderPeriod"]["endDate"] = "2025-03-28T17:00:00Z"
    feed_server.put("/ocds.json", json.dumps(package).encode(), modified=datetime(2025, 3, 10, 9, 0))
    assert fetch_source(db.session.get(FeedSource, source.id)).updated == 1
    assert db.session.get(Job, bristol.id).state == "open"


def test_an_ocds_date_past_the_calendars_ends_is_no_date(feed_server, make_source):
    """A tender whose deadline is in the first hour there is, with an offset that takes it
    before year 1 in UTC (was an OverflowError that failed the fetch), is read as giving no
    deadline; the rest of the feed is imported."""
    import json

    package = json.loads(data_file("contracts-finder.json"))
    package["releases"][3]["tender"]["tenderPeriod"]["endDate"] = "0001-01-01T00:00:00+01:00"
    source = make_source(feed_server.put("/ocds.json", json.dumps(package).encode()), kind="ocds")
    report = fetch_source(source)
    assert (report.outcome, report.error) == ("imported", None)
    bristol = jobs_by_title()["Social media and campaign support for the Bristol Climate Festival"]
    assert bristol.bids_deadline.year > 1
    assert "Website redesign and accessible content management system" in jobs_by_title()


# --- hostile and broken feeds ---------------------------------------------------------------------

def test_html_and_scripts_are_sanitised(feed_server, make_source):
    source = make_source(feed_server.put("/hostile.rss", data_file("html-scripts.rss")))
    assert fetch_source(source).created == 2
    job = jobs_by_title()["Accessibility audit of a council website"]
    html = job.description_html
    for bad in ("<script", "document.cookie", "onclick", "javascript:", "<iframe", "<object", "<form",
                "<style", "display: none", "onerror", "<img", "evil.example"):
        assert bad not in html, bad
    assert '<a href="https://jobs.example-network.coop/jobs/55/apply" rel="noopener nofollow ugc">apply</a>' in html
    assert "<strong>accessibility</strong>" in html
    # A relative link points at the entry's site, not ours.
    assert '<a href="https://jobs.example-network.coop/jobs/55/brief.pdf" rel="noopener nofollow ugc">the brief</a>' in html
    assert "accessibility" in slugs(job)
    assert job.summary == "A WCAG audit of a council website, with a report."
    # A javascript: link is not kept as the original's address.
    zine = jobs_by_title()["Copywriting for a zine"]
    assert db.session.scalar(select(ImportedEntry.link).where(ImportedEntry.job_id == zine.id)) == ""


def test_the_job_page_shows_imported_html_safely(client, feed_server, make_source):
    source = make_source(feed_server.put("/hostile.rss", data_file("html-scripts.rss")))
    fetch_source(source)
    job = jobs_by_title()["Accessibility audit of a council website"]
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "<script>document" not in page and 'onclick="' not in page


def test_a_truncated_feed_is_recorded_and_nothing_is_lost(feed_server, make_source):
    source = make_source(feed_server.put("/feed.rss", data_file(DISCOURSE)))
    fetch_source(source)
    before = {j.id: (j.title, j.updated_at) for j in db.session.scalars(select(Job))}
    fetched_etag = db.session.get(FeedSource, source.id).etag

    feed_server.put("/feed.rss", data_file("truncated.rss"), modified=datetime(2025, 3, 10, 9, 0))
    report = fetch_source(db.session.get(FeedSource, source.id))

    assert not report.ok
    source = db.session.get(FeedSource, source.id)
    assert source.last_error.startswith("The feed is not well-formed XML (line 32)")
    assert source.last_error_at == datetime(2025, 3, 10, 12, 0) and source.is_failing
    assert {j.id: (j.title, j.updated_at) for j in db.session.scalars(select(Job))} == before
    assert count(ImportedEntry) == 4
    assert actions()[-1] == "feed_source.fetch_failed"
    # The good fetch's validators are kept, so the next fetch is a full one again.
    assert source.etag == fetched_etag != feed_server.files["/feed.rss"]["etag"]

    feed_server.put("/feed.rss", data_file(DISCOURSE), modified=datetime(2025, 3, 10, 10, 0))
    assert fetch_source(source).ok
    assert not db.session.get(FeedSource, source.id).is_failing


def test_a_wrongly_declared_encoding_is_read_correctly(feed_server, make_source):
    source = make_source(feed_server.put("/cp1252.rss", data_file("wrong-encoding.rss")))
    assert fetch_source(source).created == 1
    job = db.session.scalars(select(Job)).one()
    assert job.title == "Café co-op needs a new online shop – £4,500"
    assert "“as soon as possible”" in job.summary
    assert "e-commerce" in slugs(job)


@pytest.mark.parametrize("body, content_type, message", [
    (b"<!doctype html><html><head><title>Jobs</title></head><body><p>Our jobs</p></body></html>",
     "text/html; charset=utf-8", "This is not an RSS or Atom feed (the server sent a web page)."),
    (b"", "application/rss+xml", "This is not an RSS or Atom feed."),
    (b"\x00\x01\x02 binary junk \xff\xfe", "application/octet-stream", "not"),
])
def test_things_that_are_not_feeds(feed_server, make_source, body, content_type, message):
    source = make_source(feed_server.put("/x", body, content_type=content_type))
    report = fetch_source(source)
    assert not report.ok and message in report.error
    assert count(Job) == 0


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2, 3]", b'{"uri": "x"}', b'{"releases": "none"}'])
def test_malformed_ocds_is_recorded(feed_server, make_source, body):
    source = make_source(feed_server.put("/ocds.json", body, content_type="application/json"), kind="ocds")
    report = fetch_source(source)
    assert not report.ok
    assert "JSON" in report.error or "OCDS release package" in report.error
    assert db.session.get(FeedSource, source.id).is_failing


# --- the network: timeouts, size limit, errors ----------------------------------------------------

def test_a_server_that_does_not_answer_times_out(feed_server, make_source, feed_settings):
    feed_settings(FEED_TIMEOUT=1)
    feed_server.slow_seconds = 4
    source = make_source(feed_server.url("/slow"))
    started = time.monotonic()
    report = fetch_source(source)
    assert time.monotonic() - started < 3
    assert report.error == UNREACHABLE
    assert db.session.get(FeedSource, source.id).last_error == report.error


def test_a_server_that_trickles_is_cut_off_at_the_deadline(feed_server, make_source, feed_settings):
    """Each byte arrives well within the socket timeout; the whole never does."""
    feed_settings(FEED_TIMEOUT=1)
    feed_server.slow_seconds = 5
    source = make_source(feed_server.url("/trickle"))
    started = time.monotonic()
    report = fetch_source(source)
    assert time.monotonic() - started < 3
    assert "did not send the feed within 1 seconds" in report.error


@pytest.mark.parametrize("path", ["/huge", "/huge-declared", "/gzip-bomb"])
def test_a_huge_feed_is_refused_at_the_size_limit(feed_server, make_source, feed_settings, path):
    feed_settings(FEED_MAX_BYTES=200_000)
    source = make_source(feed_server.url(path))
    started = time.monotonic()
    report = fetch_source(source)
    assert time.monotonic() - started < 5
    assert report.error == "The feed is larger than the limit of 200,000 bytes; it was not read."
    assert count(Job) == 0


def test_gzip_is_accepted(feed_server, make_source):
    source = make_source(feed_server.put("/gz.rss", data_file(DISCOURSE), gzipped=True))
    assert fetch_source(source).created == 4
    assert feed_server.requests_to("/gz.rss")[0]["Accept-Encoding"] == "gzip"


def test_unreachable_and_http_errors_are_recorded(feed_server, make_source, closed_port):
    source = make_source(f"http://127.0.0.1:{closed_port}/feed.rss", name="Gone")
    report = fetch_source(source)
    assert report.error == UNREACHABLE
    other = make_source(feed_server.url("/status/500"), name="Broken")
    assert fetch_source(other).error == "The server answered HTTP 500 Internal Server Error."
    missing = make_source(feed_server.url("/status/404"), name="Missing")
    assert fetch_source(missing).error == "The server answered HTTP 404 Not Found."


@pytest.mark.parametrize("path, target", [("/redirect-file", "file:///etc/passwd"),
                                          ("/redirect-ftp", "ftp://127.0.0.1/feed.rss")])
def test_a_redirect_away_from_http_is_refused(feed_server, make_source, path, target):
    source = make_source(feed_server.url(path))
    report = fetch_source(source)
    assert not report.ok and target in report.error and "not" in report.error
    assert count(Job) == 0


def test_a_source_whose_coop_lost_its_membership_imports_nothing(feed_server, make_source, network_coop):
    source = make_source(feed_server.put("/feed.rss", data_file(DISCOURSE)), visibility="cotech")
    for membership in network_coop.memberships:
        membership.status = "pending"
    db.session.commit()
    report = fetch_source(db.session.get(FeedSource, source.id))
    assert not report.ok and "can no longer post jobs" in report.error
    assert count(Job) == 0


def test_a_failed_fetch_in_the_middle_keeps_the_earlier_good_import(feed_server, make_source, feed_settings):
    source = make_source(feed_server.put("/feed.rss", data_file(DISCOURSE)))
    fetch_source(source)
    feed_settings(FEED_MAX_BYTES=1000)
    feed_server.put("/feed.rss", data_file(DISCOURSE) + b"<!-- grew -->", modified=datetime(2025, 3, 10, 9, 0))
    assert not fetch_source(db.session.get(FeedSource, source.id)).ok
    assert count(Job) == 4


# --- imported jobs are ordinary jobs --------------------------------------------------------------

def test_imported_jobs_flow_into_lists_and_feeds(client, feed_server, make_source):
    source = make_source(feed_server.put("/feed.rss", data_file(DISCOURSE)))
    fetch_source(source)
    titles = [e.title for e in parse_feed(client.get("/feeds/jobs.atom")).entries]
    assert titles == [  # open ones, newest first by the entries' own dates
        "Django developer wanted for a housing co-op tenant portal",
        "Lead: brand refresh and WordPress site for a community energy society",
        "Subcontract: DevOps help migrating a Nextcloud install to Debian 12",
    ]
    assert "Django developer wanted" in client.get("/jobs").get_data(as_text=True)
    parsed = parse_feed(client.get("/feeds/skills/django.rss"))
    assert [e.title for e in parsed.entries] == ["Django developer wanted for a housing co-op tenant portal"]
    assert ('Imported from: CoTech forum jobs (<a href="https://community.coops.tech/t/'
            'django-developer-wanted-for-a-housing-co-op-tenant-portal/2413">original</a>)') in parsed.entries[0].summary


def test_imported_notice_for_the_job_page(app, feed_server, make_source):
    from flask import render_template_string

    source = make_source(feed_server.put("/feed.rss", data_file(DISCOURSE)))
    fetch_source(source)
    job = jobs_by_title()["Django developer wanted for a housing co-op tenant portal"]
    entry = services.imported_from(job)
    assert entry.source.name == "CoTech forum jobs"
    with app.test_request_context("/"):
        html = render_template_string(
            '{% from "feeds/_imported.html" import imported_notice %}{{ imported_notice(job) }}', job=job)
    assert "Imported from CoTech forum jobs" in html
    assert 'href="https://community.coops.tech/t/django-developer-wanted-for-a-housing-co-op-tenant-portal/2413"' in html


def test_a_restricted_source_keeps_its_jobs_out_of_public_feeds(client, feed_server, make_source):
    source = make_source(feed_server.put("/feed.rss", data_file(DISCOURSE)), visibility="cotech")
    fetch_source(source)
    assert parse_feed(client.get("/feeds/jobs.rss")).entries == []
    assert count(Job) == 4


def test_changing_a_sources_visibility_applies_on_the_next_fetch(client, feed_server, make_source, coordinator):
    source = make_source(feed_server.put("/feed.rss", data_file(DISCOURSE)))
    fetch_source(source)
    assert len(parse_feed(client.get("/feeds/jobs.atom")).entries) == 3
    values = {name: getattr(source, name) for name in
              ("name", "url", "kind", "job_kind", "active", "fetch_interval_minutes")}
    services.update_source(source, coordinator, {**values, "coop": source.coop, "visibility": "cotech"}, None)
    db.session.commit()

    report = fetch_source(db.session.get(FeedSource, source.id))

    assert report.updated == 4  # the unchanged feed is read again: the jobs it makes changed
    assert {j.visibility for j in db.session.scalars(select(Job))} == {"cotech"}
    assert parse_feed(client.get("/feeds/jobs.atom")).entries == []
