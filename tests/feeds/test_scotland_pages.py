"""Importing real Public Contracts Scotland notices through `flask feeds fetch`: 90 tender releases
of spring 2019 (Open Government Licence v3; see data/SOURCES.md), read with the clock of 15 May
2019, so that their own deadlines decide which are open. Every expectation is read from the
releases themselves: each becomes a job saying whose notice it is, where to bid and what it is
worth, software and IT notices get skills from their CPV codes, and a second fetch writes nothing."""
import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.core.time import frozen_now
from marketplace.extensions import db
from marketplace.feeds.models import ImportedEntry
from marketplace.jobs.models import Job, JobState

from .conftest import data_file

PAGE = "public-contracts-scotland-2019.json"
READ_AT = datetime(2019, 5, 15, 12, 0)


def releases():
    return json.loads(data_file(PAGE))["releases"]


def cpv_codes(release):
    return {c["id"] for item in release["tender"].get("items", [])
            for c in item.get("additionalClassifications", []) if c.get("scheme") == "CPV"}


@pytest.fixture
def imported(runner, feed_server, make_source, network_coop, taxonomy):
    for membership in network_coop.memberships:  # a member since before these notices
        membership.since = date(2015, 1, 1)
    db.session.commit()
    source = make_source(feed_server.put("/pcs.json", data_file(PAGE), content_type="application/json"),
                         name="Public Contracts Scotland", kind="ocds", job_kind="tender")
    with frozen_now(READ_AT):
        result = runner.invoke(args=["feeds", "fetch"])
    assert result.exit_code == 0, result.output
    entries = {e.guid: e for e in db.session.scalars(select(ImportedEntry))}
    return source, result.output, entries


def test_every_tender_becomes_a_job_with_its_buyer_deadline_value_and_notice(imported):
    _source, output, entries = imported
    real = releases()
    assert f"{len(real)} new, 0 updated" in output
    assert set(entries) == {r["ocid"] for r in real}
    open_jobs = 0
    for release in real:
        tender, entry = release["tender"], entries[release["ocid"]]
        job = entry.job
        assert " ".join(job.title.split()) == " ".join(tender["title"].split())
        assert entry.buyer == release["buyer"]["name"]
        deadline = datetime.fromisoformat(tender["tenderPeriod"]["endDate"].replace("Z", "+00:00"))
        assert job.bids_deadline == deadline.replace(tzinfo=None)
        notice = next(d["url"] for d in tender["documents"] if d.get("documentType") == "contractNotice")
        assert entry.link == notice
        amount = tender.get("value", {}).get("amount")
        assert entry.value == (None if amount is None else {"min": round(amount), "max": round(amount),
                                                            "currency": tender["value"]["currency"]})
        with frozen_now(READ_AT):
            state = job.state
        assert state == (JobState.OPEN if job.bids_deadline > READ_AT else JobState.CLOSED)
        open_jobs += state == JobState.OPEN
    assert 0 < open_jobs < len(real)  # the clock falls between the deadlines


def test_an_imported_notice_sends_bids_to_the_source_and_says_when_its_value_is_not_stated(
        app, imported, networks):
    from ..bids.conftest import client_for
    from ..factories import make_coop, make_user

    _source, _output, entries = imported
    bidder = make_user(coops=[make_coop("Bidding Co-op", {networks["cotech"]: "active"})])
    for membership in bidder.coops[0].memberships:
        membership.since = date(2015, 1, 1)
    db.session.commit()
    client = client_for(app, bidder)
    by_ocid = {r["ocid"]: r for r in releases()}
    valued = next(e for guid, e in entries.items() if by_ocid[guid]["tender"].get("value"))
    unvalued = next(e for guid, e in entries.items() if not by_ocid[guid]["tender"].get("value"))
    with frozen_now(datetime(2019, 4, 20, 12, 0)):  # before any deadline: bids are still open
        for entry in (valued, unvalued):
            page = client.get(f"/jobs/{entry.job_id}").get_data(as_text=True)
            assert "from Public Contracts Scotland, shared by" in page and "posted by" not in page
            assert entry.buyer in page
            assert f'<a href="{entry.link}" rel="noopener nofollow ugc">See the original notice</a>' in page
            assert f'<a href="{entry.link}" rel="noopener nofollow ugc">bid at the source</a>' in page
            assert ">Bid for Bidding Co-op<" not in page and "£0" not in page
        assert "Not stated (see the original notice)" in client.get(f"/jobs/{unvalued.job_id}").get_data(as_text=True)


def test_software_and_it_notices_get_skills_from_their_cpv_codes(imported):
    _source, _output, entries = imported
    digital = [r for r in releases() if any(code[:2] in ("48", "72") for code in cpv_codes(r))]
    assert digital  # software packages (48) and IT services (72) are among the real notices
    for release in digital:
        assert entries[release["ocid"]].job.skills, release["tender"]["title"]
    construction = [r for r in releases() if cpv_codes(r) and all(c[:2] == "45" for c in cpv_codes(r))]
    for release in construction:  # building works name no skill of ours
        assert not entries[release["ocid"]].job.skills, release["tender"]["title"]
    # A loose word of a title counts only for a skill of the kind its codes say: guarding coded as
    # security and event services is not information security, nor CCTV software film-making.
    by_title = {e.job.title: {s.slug for s in e.job.skills} for e in entries.values()}
    assert by_title["Security Services and Cash Collection 0719"] == {"facilitation"}
    assert by_title["Video Management System"] == {"websites-and-web-apps"}


def test_fetching_the_same_notices_again_writes_nothing(imported, runner):
    _source, _output, _entries = imported

    def state():
        db.session.expire_all()
        jobs = db.session.execute(select(Job.id, Job.updated_at).order_by(Job.id)).all()
        seen = db.session.execute(select(ImportedEntry.id, ImportedEntry.content_hash)
                                  .order_by(ImportedEntry.id)).all()
        return jobs, seen, db.session.scalar(select(func.count()).select_from(AuditEvent))

    before = state()
    with frozen_now(READ_AT + timedelta(hours=1)):
        result = runner.invoke(args=["feeds", "fetch", "--force"])
    assert result.exit_code == 0, result.output
    assert "0 new, 0 updated" in result.output
    assert state() == before
