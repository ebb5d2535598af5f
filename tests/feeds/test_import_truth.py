"""Imports that stay true to their source over weeks of fetches: a tender cancelled after its
deadline, entries without dates, award and planning notices, and one bad entry among good ones.

``contracts-finder-award.json`` is a real Contracts Finder OCDS search answer (one award release,
published by the Cabinet Office under the Open Government Licence v3, as the package says); the
others are the fixtures of test_ingest.py. See data/SOURCES.md.
"""
import json
from datetime import datetime, timedelta

from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.bids.models import Bid
from marketplace.core.time import frozen_now
from marketplace.extensions import db
from marketplace.feeds.ingest import fetch_source
from marketplace.feeds.models import FeedSource
from marketplace.jobs.models import Job

from ..conftest import login
from .conftest import data_file

LEEDS = "Website redesign and accessible content management system"
HUGE = "National digital identity platform"


def jobs_by_title():
    return {j.title: j for j in db.session.scalars(select(Job))}


def _events(action):
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


def _publish(feed_server, package, modified):
    return feed_server.put("/ocds.json", json.dumps(package).encode(), content_type="application/json",
                           modified=modified)


def _release_of(package, title):
    return next(r for r in package["releases"] if r.get("tender", {}).get("title") == title)


def test_a_tender_cancelled_after_its_deadline_is_cancelled_here_and_the_rest_of_the_fetch_lands(
        feed_server, make_source):
    package = json.loads(data_file("contracts-finder.json"))
    with frozen_now(datetime(2025, 3, 10, 12, 0)):
        source = make_source(_publish(feed_server, package, datetime(2025, 3, 9)), kind="ocds", job_kind="tender")
        assert fetch_source(source).created == 4
    leeds = _release_of(package, LEEDS)
    cancellation = json.loads(json.dumps(leeds))
    cancellation.update(id=leeds["id"] + "-2", date="2025-04-16T10:00:00Z", tag=["tenderCancellation"])
    cancellation["tender"]["status"] = "cancelled"
    package["releases"].append(cancellation)
    _release_of(package, HUGE)["tender"]["title"] = HUGE + " (amended)"  # another change in the same fetch
    _publish(feed_server, package, datetime(2025, 4, 16, 11, 0))

    with frozen_now(datetime(2025, 4, 20, 9, 0)):  # after Leeds's deadline of 14 April
        report = fetch_source(db.session.get(FeedSource, source.id))
        again = fetch_source(db.session.get(FeedSource, source.id), force=True)
    assert report.ok, report.error
    jobs = jobs_by_title()
    job = jobs[LEEDS]
    assert (job.status, job.cancelled_reason) == ("cancelled", "Cancelled at the source.")
    assert HUGE + " (amended)" in jobs  # the other amendment landed with it
    assert again.ok and again.updated == 0 and again.withdrawn == 0  # settled: nothing more to do
    assert _events("job.cancelled") == 1


def test_an_entry_without_a_date_keeps_the_deadline_it_was_first_given(feed_server, make_source, march_2025):
    def feed(extra=""):
        return (f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Leads</title><link>https://leads.example.coop/</link>
<description>Leads passed on</description>
<item><title>Undated lead: a shop's stock system</title><link>https://leads.example.coop/1</link>
<guid>https://leads.example.coop/1</guid><description>A food co-op needs its stock system looked at.</description></item>
{extra}</channel></rss>""").encode()

    source = make_source(feed_server.put("/leads.rss", feed()))
    assert fetch_source(source).created == 1
    job = jobs_by_title()["Undated lead: a shop's stock system"]
    deadline = job.bids_deadline
    updated_before = _events("job.updated")
    later = march_2025 + timedelta(days=3)
    with frozen_now(later):
        # The feed changes (a second entry), so every entry is read again.
        feed_server.put("/leads.rss", feed("<item><title>Another lead</title><guid>https://leads.example.coop/2</guid>"
                                           "<link>https://leads.example.coop/2</link></item>"),
                        modified=later)
        report = fetch_source(db.session.get(FeedSource, source.id))
    assert (report.created, report.updated, report.unchanged) == (1, 0, 1)
    assert db.session.get(Job, job.id).bids_deadline == deadline
    assert _events("job.updated") == updated_before
    assert jobs_by_title()["Another lead"].bids_deadline == later + timedelta(days=30)


def test_an_award_notice_is_not_a_job_to_bid_on(feed_server, make_source, client, runner, coordinator):
    """The real award release says its tender period ended on 3 October 2022: read in June 2022,
    it would have become a job open for bids until then."""
    with frozen_now(datetime(2022, 6, 1, 12, 0)):
        source = make_source(feed_server.put("/award.json", data_file("contracts-finder-award.json"),
                                             content_type="application/json"), kind="ocds", job_kind="tender")
        report = fetch_source(source)
    assert report.ok and report.created == 0 and report.skipped == 1
    assert "award notice" in report.skips[0][1]
    assert db.session.scalars(select(Job)).all() == []
    fetched = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "feed_source.fetched"))
    assert "RStudio License and Support: An award notice" in fetched.data["skipped"][0]
    # Shown where the people running the source look: its page, and `flask feeds list`.
    login(client, coordinator)
    page = client.get(f"/feeds/sources/{source.id}").get_data(as_text=True)
    assert "Skipped at the last import" in page and "RStudio License and Support: An award notice" in page
    assert "skipped RStudio License and Support: An award notice" in runner.invoke(args=["feeds", "list"]).output


def test_an_award_ends_the_open_job_it_follows(feed_server, make_source):
    package = json.loads(data_file("contracts-finder.json"))
    with frozen_now(datetime(2025, 3, 10, 12, 0)):
        source = make_source(_publish(feed_server, package, datetime(2025, 3, 9)), kind="ocds", job_kind="tender")
        fetch_source(source)
        leeds = _release_of(package, LEEDS)
        award = json.loads(json.dumps(leeds))
        award.update(id=leeds["id"] + "-3", date="2025-03-10T09:00:00Z", tag=["award"])
        package["releases"].append(award)
        _publish(feed_server, package, datetime(2025, 3, 10, 10, 0))
        report = fetch_source(db.session.get(FeedSource, source.id))
    job = jobs_by_title()[LEEDS]
    assert report.withdrawn == 1
    assert job.status == "withdrawn" and "awarded" in job.withdrawn_reason


def test_a_planning_notice_waits_for_its_tender(feed_server, make_source, march_2025):
    package = json.loads(data_file("contracts-finder.json"))
    planned = _release_of(package, LEEDS)
    planned.update(tag=["planning"])
    planned["tender"]["status"] = "planned"
    package["releases"] = [planned]
    source = make_source(_publish(feed_server, package, datetime(2025, 3, 9)), kind="ocds")
    report = fetch_source(source)
    assert (report.created, report.skipped) == (0, 1) and "planning notice" in report.skips[0][1]


# --- parsing real-world feeds ------------------------------------------------------------------------

FORUM = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Forum</title><link>https://forum.example.coop/</link>
<description>Jobs</description>
<item><title>Shared hosting migration</title><dc:creator>Ann</dc:creator>
<link>https://forum.example.coop/t/1</link><guid>https://forum.example.coop/t/1</guid>
<description><![CDATA[<p>Move six sites to a new host.</p>
<p><small>2 posts - 2 participants</small></p>
<p><a href="https://forum.example.coop/t/1">Read full topic</a></p>]]></description></item>
<item><description>An entry with neither title nor link</description></item>
</channel></rss>""".encode()


def test_an_undeclared_prefix_is_read_and_entries_without_a_title_are_counted(feed_server, make_source, march_2025):
    """Discourse-like feeds use dc:creator; this one forgot xmlns:dc, which real feeds do."""
    report = fetch_source(make_source(feed_server.put("/forum.rss", FORUM)))
    assert report.ok, report.error
    assert (report.created, report.skipped) == (1, 1)
    job = jobs_by_title()["Shared hosting migration"]
    assert "Move six sites" in job.description_html
    assert "Read full topic" not in job.description_html and "participants" not in job.description_html


# --- an imported job says what it is --------------------------------------------------------------

def test_an_imported_tender_says_where_it_is_from_and_takes_bids_at_the_source(
        app, feed_server, make_source, networks, skills):
    from ..bids.conftest import bid_data, client_for
    from ..factories import bearer, make_coop, make_user

    package = json.loads(data_file("contracts-finder.json"))
    with frozen_now(datetime(2025, 3, 10, 12, 0)):
        source = make_source(_publish(feed_server, package, datetime(2025, 3, 9)), name="Contracts Finder",
                             kind="ocds", job_kind="tender")
        fetch_source(source)
        jobs = jobs_by_title()
        leeds, huge = jobs[LEEDS], jobs[HUGE]
        bidder = make_user(coops=[make_coop("Bidding Co-op", {networks["cotech"]: "active"})])
        client = client_for(app, bidder)
        page = client.get(f"/jobs/{leeds.id}").get_data(as_text=True)
        assert "from Contracts Finder, shared by" in page and "posted by" not in page
        assert "See the original notice" in page and "https://www.contractsfinder.service.gov.uk/Notice/" in page
        assert "bid at the source" in page and ">Bid for Bidding Co-op<" not in page
        huge_page = client.get(f"/jobs/{huge.id}").get_data(as_text=True)
        assert "450,000,000 GBP" in huge_page and "£0" not in huge_page  # as published, never "£0"
        # The rule holds behind the page too: the bid form and the API refuse, saying where to bid.
        refused = client.post(f"/jobs/{leeds.id}/bid", data=bid_data(leeds))
        assert "bids go to the original notice" in refused.get_data(as_text=True)
        answer = client.post(f"/api/v1/jobs/{leeds.id}/bids", headers=bearer(bidder),
                             json={"amount": 1000, "available_from": "2025-05-01", "proposal": "Us"})
        assert answer.status_code in (409, 422) and "original notice" in answer.get_json()["error"]["message"]
        assert db.session.scalar(select(func.count()).select_from(Bid)) == 0

        # A co-op's own feed of its own work takes bids here.
        source = db.session.get(FeedSource, source.id)
        source.bids_here = True
        db.session.commit()
        page = client.get(f"/jobs/{leeds.id}").get_data(as_text=True)
        assert "own listing" in page and ">Bid for Bidding Co-op<" in page
