"""An imported job names its buyer and its value as published, and the OCDS export does not
republish another organisation's notice as ours: one contracting process has one ocid, its own
publisher's. A co-op's own feed of its own work takes bids here, so its jobs are exported, with
the value as the feed published it (never 0 for "not stated")."""
import json
from datetime import datetime

from sqlalchemy import select

from marketplace.core.time import frozen_now
from marketplace.extensions import db
from marketplace.feeds.models import FeedSource, ImportedEntry
from marketplace.jobs.models import Job

from ..api.test_ocds import PACKAGE_VALIDATOR
from .conftest import data_file

LEEDS = "Website redesign and accessible content management system"
HUGE = "National digital identity platform"
BRISTOL = "Social media and campaign support for the Bristol Climate Festival"
NOW = datetime(2025, 3, 10, 12, 0)


def _import(runner, feed_server, make_source):
    package = json.loads(data_file("contracts-finder.json"))
    bristol = next(r for r in package["releases"] if r.get("tender", {}).get("title") == BRISTOL)
    del bristol["tender"]["value"]  # a tender that does not say what it is worth
    url = feed_server.put("/ocds.json", json.dumps(package).encode(), content_type="application/json")
    source = make_source(url, name="Contracts Finder", kind="ocds", job_kind="tender")
    result = runner.invoke(args=["feeds", "fetch"])
    assert result.exit_code == 0, result.output
    return source, {j.title: j for j in db.session.scalars(select(Job))}


def _facts(client, job):
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    facts = page.split('<dl class="facts">', 1)[1].split("</dl>", 1)[0]
    return " ".join(facts.split())


def test_an_imported_job_names_its_buyer_and_the_value_as_published(client, runner, feed_server, make_source):
    with frozen_now(NOW):
        _, jobs = _import(runner, feed_server, make_source)
        assert "<dt>Buyer</dt><dd>Leeds City Council</dd>" in _facts(client, jobs[LEEDS])
        huge = _facts(client, jobs[HUGE])  # over the largest budget a job can hold
        assert "<dt>Budget</dt><dd>450,000,000 GBP" in huge and "£0" not in huge
        assert "<dt>Budget</dt><dd>Not stated (see the original notice)</dd>" in _facts(client, jobs[BRISTOL])
        entry = db.session.scalar(select(ImportedEntry).where(ImportedEntry.job_id == jobs[HUGE].id))
        assert (entry.buyer, entry.value) == ("Transport for Greater Manchester",
                                              {"min": 450000000, "max": 450000000, "currency": "GBP"})


def test_a_forum_posts_author_is_named_and_an_entry_without_one_says_so(client, feed_server, make_source):
    from marketplace.feeds.ingest import fetch_source

    with frozen_now(NOW):
        fetch_source(make_source(feed_server.put("/jobs.rss", data_file("discourse-jobs.rss"))))
        jobs = {j.title: j for j in db.session.scalars(select(Job))}
        django = jobs["Django developer wanted for a housing co-op tenant portal"]
        assert "<dt>Buyer</dt><dd>kat_outlandish</dd>" in _facts(client, django)
        fetch_source(make_source(feed_server.put("/leads.rss", b"""<?xml version="1.0"?><rss version="2.0">
<channel><title>Leads</title><link>https://leads.example.coop/</link><description>Leads</description>
<item><title>A lead nobody signed</title><guid>https://leads.example.coop/9</guid></item></channel></rss>"""),
                                 name="Leads"))
        lead = db.session.scalar(select(Job).where(Job.title == "A lead nobody signed"))
        assert "<dt>Buyer</dt><dd>Not stated</dd>" in _facts(client, lead)


def test_another_organisations_notice_is_not_republished_under_our_ocid(client, runner, feed_server, make_source):
    with frozen_now(NOW):
        source, jobs = _import(runner, feed_server, make_source)
        package = client.get("/api/v1/ocds/releases?per_page=100").get_json()
        assert package["releases"] == []  # every public job here is an imported notice
        answer = client.get(f"/api/v1/jobs/{jobs[LEEDS].id}/ocds")
        assert answer.status_code == 404
        error = answer.get_json()["error"]
        assert error["code"] == "published_elsewhere"
        assert "https://www.contractsfinder.service.gov.uk/Notice/" in error["message"]

        # A co-op's own feed of its own work: bids are taken here, so the process is ours.
        db.session.get(FeedSource, source.id).bids_here = True
        db.session.commit()
        package = client.get("/api/v1/ocds/releases?per_page=100").get_json()
    PACKAGE_VALIDATOR.validate(package)
    tenders = {r["tender"]["title"]: r["tender"] for r in package["releases"]}
    assert set(tenders) == {LEEDS, HUGE, BRISTOL, "Data platform integration and analytics (deadline extended)"}
    assert tenders[HUGE]["value"] == {"amount": 450000000, "currency": "GBP"}  # as published, not 0
    assert tenders[LEEDS]["value"] == {"amount": 180000, "currency": "GBP"}
    assert tenders[LEEDS]["minValue"] == {"amount": 120000, "currency": "GBP"}
    assert "value" not in tenders[BRISTOL] and "minValue" not in tenders[BRISTOL]  # unknown: left out
    assert all(r["ocid"].startswith("ocds-cotech-") for r in package["releases"])
