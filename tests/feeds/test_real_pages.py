"""Importing real Contracts Finder pages through `flask feeds fetch`: a 1,000-release page fits the
default size limit, the imported jobs are in the search index once the fetch has committed, and
fetching the same page again writes nothing.

The pages are two real answers of the Contracts Finder OCDS search API of 20 and 22 October 2022
(100 releases each, Open Government Licence v3; see data/SOURCES.md), read with the clock of
that day, so their own deadlines decide which tenders are open.
"""
import json
from datetime import datetime, timedelta

from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.core import revision
from marketplace.core.time import frozen_now
from marketplace.extensions import db
from marketplace.feeds.models import FeedSource, ImportedEntry
from marketplace.jobs.models import Job
from marketplace.search import backend, queue_length

from .conftest import data_file

PAGES = ("contracts-finder-2022-10-20.json", "contracts-finder-2022-10-22.json")
READ_AT = datetime(2022, 10, 20, 12, 0)


def real_page(releases=None):
    """The two real pages as one package; ``releases``: that many, the real ones repeated
    (each copy its own ocid and title), as a busy day's page of 1,000 would be."""
    packages = [json.loads(data_file(name)) for name in PAGES]
    package = packages[0]
    real = [r for p in packages for r in p["releases"]]
    if releases is not None:
        copies = []
        for n in range(releases):
            release = json.loads(json.dumps(real[n % len(real)]))
            release["ocid"] += f"-{n}"
            release["tender"]["title"] = f"{release['tender'].get('title', '')} ({n})"
            copies.append(release)
        real = copies
    package["releases"] = real
    return json.dumps(package, indent=4, ensure_ascii=False).encode()


def _fetch(runner, *args):
    result = runner.invoke(args=["feeds", "fetch", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_thousand_release_page_fits_the_default_size_limit(app, feed_server, make_source, runner):
    body = real_page(1000)
    assert len(body) > 5 * 1024 * 1024  # over the old default of 5 MB
    with frozen_now(READ_AT):
        make_source(feed_server.put("/cf.json", body, content_type="application/json"), kind="ocds",
                    job_kind="tender")
        make_source(feed_server.put("/cf-gzip.json", body, content_type="application/json", gzipped=True),
                    name="Contracts Finder, compressed", kind="ocds", job_kind="tender")
        output = _fetch(runner)
    assert "larger than the limit" not in output and "failed" not in output
    created = [int(line.split(": ", 1)[1].split(" new")[0]) for line in output.splitlines() if " new, " in line]
    assert len(created) == 2 and created[0] == created[1] > 100
    assert db.session.scalar(select(func.count()).select_from(Job)) == 2 * created[0]


def test_imported_jobs_are_in_the_search_index_once_the_fetch_commits(app, feed_server, make_source, runner):
    with frozen_now(READ_AT):
        make_source(feed_server.put("/cf.json", real_page(), content_type="application/json"), kind="ocds",
                    job_kind="tender")
        _fetch(runner)
    jobs = db.session.scalars(select(Job.id)).all()
    assert len(jobs) > 20
    assert queue_length() == 0
    assert {f"job:{job_id}" for job_id in jobs} <= set(backend(app).versions())


def test_fetching_the_same_page_again_writes_nothing(app, feed_server, make_source, runner):
    with frozen_now(READ_AT):
        source = make_source(feed_server.put("/cf.json", real_page(), content_type="application/json"),
                             kind="ocds", job_kind="tender")
        _fetch(runner)

    def state():
        db.session.expire_all()
        entries = db.session.execute(select(ImportedEntry.id, ImportedEntry.last_seen_at,
                                            ImportedEntry.content_hash).order_by(ImportedEntry.id)).all()
        jobs = db.session.execute(select(Job.id, Job.updated_at).order_by(Job.id)).all()
        events = db.session.scalar(select(func.count()).select_from(AuditEvent))
        return entries, jobs, events, db.session.scalar(select(revision.SiteRevision.token))

    before = state()
    with frozen_now(READ_AT + timedelta(hours=1)):
        output = _fetch(runner, "--force")  # every entry parsed and compared
    assert "0 new, 0 updated" in output
    assert state() == before  # no entry, job or event written, and every cached page still valid
    assert db.session.get(FeedSource, source.id).last_fetched_at == READ_AT + timedelta(hours=1)
