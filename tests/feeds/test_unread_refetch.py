"""Entries sent again as they were are skipped before they are read: each imported entry keeps
the digest of what its source sent (``raw_hash``), so a refetch whose feed changed only outside
its entries (Discourse's lastBuildDate, an OCDS package's publishedDate) reads none of them,
and writes nothing. What else decides a job (the source's settings, the skills taxonomy) is in
the digest's key: changing it makes the next fetch read every entry again."""
import json
from datetime import datetime

from sqlalchemy import event, select

from marketplace.core.time import frozen_now
from marketplace.extensions import db
from marketplace.feeds.ingest import fetch_source
from marketplace.feeds.models import FeedSource, ImportedEntry
from marketplace.jobs.models import Job
from marketplace.skills.models import Skill

from .conftest import data_file

FORUM = data_file("discourse-jobs.rss")


def with_build_date(feed, moment):
    """The feed as Discourse sends it a little later: only the channel's date differs."""
    stamp = f"<lastBuildDate>{moment:%a, %d %b %Y %H:%M:%S} +0000</lastBuildDate>".encode()
    return feed.replace(b"<channel>", b"<channel>\n    " + stamp, 1)


def fetch(source_id, **options):
    """Fetch the source; returns the report and the statements that changed rows, but the
    source's own fetch times and body hash."""
    changed = []

    def note(conn, cursor, statement, parameters, context, executemany):
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE") and not statement.lstrip().upper().startswith("UPDATE FEED_SOURCE"):
            changed.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        report = fetch_source(db.session.get(FeedSource, source_id), **options)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert report.ok, report.error
    return report, changed


def raw_hashes(source_id):
    return sorted(db.session.scalars(select(ImportedEntry.raw_hash).where(ImportedEntry.source_id == source_id)),
                  key=str)


def skills_of_jobs():
    return {job.title: sorted(s.slug for s in job.skills) for job in db.session.scalars(select(Job))}


def test_a_forum_feed_whose_date_changed_is_not_read_again(feed_server, make_source, march_2025):
    url = feed_server.put("/forum.rss", with_build_date(FORUM, datetime(2025, 3, 10, 8)))
    source = make_source(url)
    first, _ = fetch(source.id)
    assert first.created == 4 and first.closed == 1  # one came in closed
    hashes = raw_hashes(source.id)
    assert len(hashes) == 4 and None not in hashes

    feed_server.put("/forum.rss", with_build_date(FORUM, datetime(2025, 3, 10, 9)))
    report, changed = fetch(source.id)
    assert (report.outcome, report.created, report.updated, report.unchanged) == ("imported", 0, 0, 4)
    assert changed == []
    assert raw_hashes(source.id) == hashes


def test_one_changed_post_is_read_and_the_rest_are_not(feed_server, make_source, march_2025):
    source = make_source(feed_server.put("/forum.rss", FORUM))
    fetch(source.id)
    before = raw_hashes(source.id)
    edited = FORUM.replace(b"Budget is around \xc2\xa318k", b"Budget is around \xc2\xa320k")
    assert edited != FORUM
    feed_server.put("/forum.rss", with_build_date(edited, datetime(2025, 3, 10, 9)))
    report, _ = fetch(source.id)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 3)
    assert "£20k" in db.session.scalar(select(Job).where(Job.title.like("Django developer%"))).description
    assert len(set(raw_hashes(source.id)) - set(before)) == 1


def test_changing_the_sources_default_skills_reads_every_entry_again(feed_server, make_source, march_2025,
                                                                     taxonomy):
    source = make_source(feed_server.put("/forum.rss", FORUM))
    fetch(source.id)
    assert all("print" not in slugs for slugs in skills_of_jobs().values())
    db.session.get(FeedSource, source.id).default_skills = [taxonomy("print")]
    db.session.commit()
    feed_server.put("/forum.rss", with_build_date(FORUM, datetime(2025, 3, 10, 9)))
    report, _ = fetch(source.id)
    assert report.updated == 4
    assert all("print" in slugs for slugs in skills_of_jobs().values())


def test_a_new_synonym_in_the_taxonomy_reads_every_entry_again(feed_server, make_source, march_2025, taxonomy):
    source = make_source(feed_server.put("/forum.rss", FORUM))
    fetch(source.id)
    tenant_portal = "Django developer wanted for a housing co-op tenant portal"
    assert "print" not in skills_of_jobs()[tenant_portal]
    skill = db.session.scalar(select(Skill).where(Skill.slug == "print"))
    skill.synonyms = ";".join(filter(None, [skill.synonyms, "rent statements"]))
    db.session.commit()
    feed_server.put("/forum.rss", with_build_date(FORUM, datetime(2025, 3, 10, 9)))
    report, _ = fetch(source.id)
    assert report.updated >= 1
    assert "print" in skills_of_jobs()[tenant_portal]


def test_a_forced_fetch_reads_every_entry(feed_server, make_source, march_2025):
    source = make_source(feed_server.put("/forum.rss", FORUM))
    fetch(source.id)
    report, changed = fetch(source.id, force=True)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 4)
    assert changed == []


def test_a_feed_the_xml_parser_refuses_is_still_imported_and_read_in_full(feed_server, make_source,
                                                                           march_2025):
    # An undeclared prefix: feedparser's loose parser reads it, the strict one does not.
    loose = FORUM.replace(b' xmlns:dc="http://purl.org/dc/elements/1.1/"', b"")
    source = make_source(feed_server.put("/forum.rss", loose))
    assert fetch(source.id)[0].created == 4
    assert set(raw_hashes(source.id)) == {None}
    feed_server.put("/forum.rss", with_build_date(loose, datetime(2025, 3, 10, 9)))
    report, changed = fetch(source.id)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 4) and changed == []


def test_an_ocds_package_published_again_with_the_same_releases_is_not_read_again(feed_server, make_source):
    package = json.loads(data_file("contracts-finder.json"))
    with frozen_now(datetime(2025, 3, 10, 12, 0)):
        url = feed_server.put("/ocds.json", json.dumps(package).encode(), content_type="application/json")
        source = make_source(url, kind="ocds", job_kind="tender")
        assert fetch(source.id)[0].created == 4
        hashes = raw_hashes(source.id)
        assert None not in hashes
        package["publishedDate"] = "2025-03-10T06:00:00Z"
        package["releases"][0]["tender"]["title"] += " (amended)"
        feed_server.put("/ocds.json", json.dumps(package).encode(), content_type="application/json")
        report, _ = fetch(source.id)
    assert report.updated == 1 and report.unchanged == len(hashes) - 1
    assert len(set(raw_hashes(source.id)) - set(hashes)) == 1
