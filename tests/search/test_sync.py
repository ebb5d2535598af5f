"""Keeping the index in step with the database: on commit, never on rollback; drift after a
crash between commit and index write, repaired by `search check`; a busy or broken index
never fails a request; `search reindex` rebuilds from the database."""
import os
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from marketplace import search as search_module
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.jobs import services
from marketplace.jobs.models import Job
from marketplace.search import backend, check, drain, enqueue, queue_length
from marketplace.search.models import SearchQueue

from ..conftest import login
from .. import factories
from ..factories import make_job
from .conftest import whoosh_only


@pytest.fixture(autouse=True)
def _builders_commit_as_requests_do(monkeypatch):
    """These tests follow the queue row by row: what the builders make reaches the index at
    their commit, as a request's does."""
    monkeypatch.setattr(factories, "SETTLE_LATER", False)


def _indexed(app):
    return set(backend(app).versions())


def _values(title, **more):
    now = utcnow()
    values = dict(title=title, summary="Summary.", description="", kind="tender", budget_type="fixed",
                  budget_min=100, budget_max=None, currency="GBP", location="", work_mode="remote",
                  questions_deadline=now + timedelta(days=3), bids_deadline=now + timedelta(days=9),
                  start_date=None, visibility="public", looking_for_partners=False)
    values.update(more)
    return values


def test_a_commit_reaches_the_index(app, poster, search):
    user, coop = poster
    job = services.post_job(coop, user, _values("Solar roof survey"), [], publish=True)
    db.session.commit()
    assert f"job:{job.id}" in _indexed(app)
    assert search("solar").titles == ["Solar roof survey"]
    assert queue_length() == 0


def test_a_rollback_never_does(app, poster, search):
    user, coop = poster
    services.post_job(coop, user, _values("Tidal energy study"), [], publish=True)
    db.session.flush()
    db.session.rollback()
    assert search("tidal").titles == []
    job = make_job(coop, "public", "open", title="Wind energy study")
    job.title = "Hydro energy study"
    db.session.flush()
    db.session.rollback()
    assert search("hydro").titles == [] and search("wind").titles == ["Wind energy study"]
    assert queue_length() == 0
    assert check(app).ok


def test_a_savepoint_rollback_then_commit(app, poster, search):
    user, coop = poster
    job = make_job(coop, "public", "open", title="Orchard mapping")
    with db.session.begin_nested() as savepoint:
        job.title = "Orchard pruning"
        db.session.flush()
        savepoint.rollback()
    job.summary = "Mapping every orchard in the county."
    db.session.commit()
    assert search("county").titles == ["Orchard mapping"]
    assert search("pruning").titles == []
    assert check(app).ok


def test_drift_after_a_crash_between_commit_and_index_write(app, poster, search, runner, monkeypatch,
                                                           search_backend):
    """The process dies after the commit, before writing the index: the queue row committed
    with the change, and `search check` finds the drift and repairs it. (On PostgreSQL the job
    table's trigger removes a deleted job's document in the deleting transaction: no orphan.)"""
    user, coop = poster
    kept = make_job(coop, "public", "open", title="Compost scheme")
    gone = make_job(coop, "public", "open", title="Allotment scheme")
    monkeypatch.setattr(search_module, "drain", lambda *args, **kwargs: 0)  # the crash
    new = make_job(coop, "public", "open", title="Beekeeping scheme")
    kept.title = "Wormery scheme"
    db.session.commit()
    db.session.delete(gone)
    db.session.commit()
    monkeypatch.undo()
    assert queue_length() == 3

    report = check(app)
    assert report.missing == [f"job:{new.id}"]
    orphans = [] if search_backend == "postgres" else [f"job:{gone.id}"]
    assert report.orphans == orphans
    # Edited within the second it was created: its date alone may not show it, its queue row does.
    assert f"job:{kept.id}" in report.stale + report.queued
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert "Missing from the index: 1" in result.output
    assert orphans == [] or "gone from the database: 1" in result.output

    result = runner.invoke(args=["search", "check", "--repair"])
    assert result.exit_code == 0, result.output
    assert "Repaired" in result.output
    assert check(app).ok and queue_length() == 0
    assert set(search("scheme").titles) == {"Wormery scheme", "Beekeeping scheme"}


def test_drift_without_the_queue_is_found_by_dates(app, poster, runner, monkeypatch):
    """Even with the queue lost (a change made by hand in the database), the stored
    updated_at shows which documents are stale."""
    _, coop = poster
    job = make_job(coop, "public", "open", title="Seed library")
    monkeypatch.setattr(search_module, "drain", lambda *args, **kwargs: 0)
    job.title = "Tool library"
    job.updated_at = job.updated_at + timedelta(seconds=5)  # a later second than the document's
    db.session.commit()
    db.session.execute(SearchQueue.__table__.delete())
    db.session.commit()
    monkeypatch.undo()
    assert check(app).stale == [f"job:{job.id}"]
    assert runner.invoke(args=["search", "check", "--repair"]).exit_code == 0
    assert check(app).ok


def test_co_op_deletion_removes_its_jobs_documents(app, poster, search, networks):
    from ..factories import make_coop

    _, coop = poster
    other = make_coop("Short-lived Co-op", {networks["cotech"]: "active"})
    make_job(other, "public", "open", title="Pottery kiln")
    db.session.delete(other)
    db.session.commit()
    assert search("pottery").total == 0
    assert check(app).ok


def test_index_errors_never_fail_a_request(app, client, poster, monkeypatch, job_form):
    user, coop = poster

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(type(backend(app)), "writer", broken)
    login(client, user)
    response = client.post("/jobs/new", data=job_form)
    assert response.status_code == 302
    job = db.session.scalar(select(Job).where(Job.title == job_form["title"]))
    assert job is not None
    assert queue_length() == 1  # kept for the next commit or `search check --repair`
    monkeypatch.undo()
    assert check(app).missing == [f"job:{job.id}"]
    search_module.drain(app)
    assert check(app).ok


@whoosh_only
def test_a_busy_index_leaves_the_change_queued(app, poster, search):
    """A writer holding the lock (another worker) makes the commit leave its change queued,
    quickly; the next commit applies both."""
    import time

    from whoosh import index

    _, coop = poster
    ix = index.open_dir(backend(app)._current())
    other_worker = ix.writer()
    try:
        started = time.monotonic()
        first = make_job(coop, "public", "open", title="Heat pump survey")
        assert time.monotonic() - started < 5
        assert queue_length() == 1
        assert search("heat").titles == []
    finally:
        other_worker.cancel()
    second = make_job(coop, "public", "open", title="Heat network study")
    assert queue_length() == 0
    assert {f"job:{first.id}", f"job:{second.id}"} <= _indexed(app)


@whoosh_only
def test_a_slow_drain_deletes_only_the_rows_it_applied(app, poster, search, monkeypatch):
    """A drain reads the queue, then writes. Meanwhile another worker applies and deletes the
    same rows and commits a new change, whose own drain finds the index busy. The slow drain
    must then delete only what it read: the new change is applied or stays queued (on SQLite
    its row must not take the id of a deleted one, which the slow drain would delete unapplied)."""
    _, coop = poster
    first = make_job(coop, "public", "open", title="Wave energy study")
    assert queue_length() == 0
    enqueue("job", [first.id])  # the change the slow drain reads
    engine = backend(app)
    real_writer = engine.writer
    meanwhile = []

    @contextmanager
    def slow_writer(session, timeout=None):
        with real_writer(session, timeout) as batch:
            if not meanwhile:  # what another worker does while this one holds the lock
                with Session(db.engine) as other:
                    other.execute(delete(SearchQueue))  # it applied the queued row
                    other.commit()
                meanwhile.append(make_job(coop, "public", "open", title="Tidal energy study"))
                assert queue_length() == 1  # its own drain found the index busy
            yield batch

    monkeypatch.setattr(engine, "writer", slow_writer)
    drain(app)  # its next round may apply the new change too; it must not drop it
    tidal = meanwhile[0]
    assert queue_length() == 1 or f"job:{tidal.id}" in _indexed(app), "a row was deleted unapplied"
    monkeypatch.undo()
    drain(app)
    assert search("tidal").titles == ["Tidal energy study"]
    assert check(app).ok


@whoosh_only
def test_a_damaged_index_still_serves(app, client, poster, runner, job_form):
    user, coop = poster
    make_job(coop, "public", "open", title="Reed bed filter")
    directory = backend(app)._current()
    for name in os.listdir(directory):
        if name.endswith(".toc"):
            with open(os.path.join(directory, name), "wb") as handle:
                handle.write(b"not an index")
    response = client.get("/search?q=reed")
    assert response.status_code == 503
    assert "Search is being rebuilt" in response.get_data(as_text=True)
    assert client.get("/jobs").status_code == 200
    login(client, user)
    assert client.post("/jobs/new", data=job_form).status_code == 302  # posting still works
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 3 documents" in result.output  # two jobs and the co-op
    page = client.get("/search?q=reed").get_data(as_text=True)
    assert "Reed bed filter" in page
    assert check(app).ok


@whoosh_only
def test_a_missing_index_is_built_for_a_small_site(app, poster, search):
    import shutil

    _, coop = poster
    make_job(coop, "public", "open", title="Rainwater harvesting")
    shutil.rmtree(backend(app).root)
    assert search("rainwater").status == 503
    make_job(coop, "public", "open", title="Greywater recycling")  # the next commit builds it
    assert search("rainwater").titles == ["Rainwater harvesting"]
    assert search("greywater").titles == ["Greywater recycling"]


def test_reindex_from_the_database(app, poster, runner, search):
    _, coop = poster
    for n in range(5):
        make_job(coop, "public", "open", title=f"Meadow survey {n}")
    before = search("meadow").total
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 6 documents" in result.output
    assert search("meadow").total == before == 5
    assert check(app).ok
    count = db.session.scalar(select(func.count()).select_from(Job))
    assert len([k for k in _indexed(app) if k.startswith("job:")]) == count


@whoosh_only
def test_reindex_swaps_directories_and_keeps_changes_made_meanwhile(app, poster, search):
    """Changes committed while the new index is built stay queued and reach the new index."""
    _, coop = poster
    make_job(coop, "public", "open", title="Wetland survey")
    engine = backend(app)
    old = engine._current()
    made = []

    def documents_and_a_change():
        from marketplace.search.documents import KINDS, iter_documents
        from sqlalchemy.orm import Session

        with Session(db.engine) as session:
            for kind in KINDS:
                yield from iter_documents(session, kind)
        made.append(make_job(coop, "public", "open", title="Wetland planting"))  # during the build

    engine.rebuild(documents_and_a_change())
    assert engine._current() != old and not os.path.exists(old)
    assert queue_length() == 1  # the old index was locked: the change waited
    search_module.drain(app)
    assert set(search("wetland").titles) == {"Wetland survey", "Wetland planting"}
    assert check(app).ok


def test_phrases_still_answer_after_an_edit_of_an_indexed_job(app, poster, runner, search):
    """An edit deletes the job's old document from its segment; phrase queries (quoted, a
    hyphenated word, a skill synonym of two words) read positions in that segment too."""
    user, coop = poster
    job = services.post_job(coop, user, _values("Shop for a food co-op", summary="A food co-op's web shop."),
                            [], publish=True)
    services.post_job(coop, user, _values("Website for a bakery"), [], publish=True)
    db.session.commit()
    assert runner.invoke(args=["search", "reindex"]).exit_code == 0
    services.update_job(job, user, {"summary": "An online shop for a food co-op in Leeds."}, None)
    db.session.commit()
    for q in ('"food co-op"', "co-op", '"online shop"', "website"):
        answer = search(q)
        assert answer.status == 200, q
    assert search('"food co-op"').titles == ["Shop for a food co-op"]
    assert search('"online shop"').titles == ["Shop for a food co-op"]
    assert search('"bakery website"').titles == []


@whoosh_only
def test_phrases_still_answer_when_a_segments_first_documents_are_deleted(app, poster, runner, search):
    """A term's documents are cached per segment; once the first documents of its posting list
    are deleted (edited), a phrase over cached terms read their positions from a list that had
    skipped them: a KeyError, a 500 on every such phrase until the next rebuild."""
    user, coop = poster
    first = services.post_job(coop, user, _values("Archive energy audit"), [], publish=True)
    services.post_job(coop, user, _values("Energy archive survey"), [], publish=True)
    db.session.commit()
    assert runner.invoke(args=["search", "reindex"]).exit_code == 0  # both in one segment
    assert len(search("archive").titles) == len(search("energy").titles) == 2  # the terms are cached
    services.update_job(first, user, {"title": "Archive energy review"}, None)
    db.session.commit()
    answer = search('"energy archive"')
    assert answer.status == 200
    assert answer.titles == ["Energy archive survey"]
    assert search('"archive energy"').titles == ["Archive energy review"]


def test_an_award_reaches_the_index(app, poster, networks, search):
    """Awarding is a compare-and-set UPDATE; the job's new state must still reach the index
    (and the site revision) like any change made through the session."""
    from datetime import timedelta as days

    from marketplace.bids import services as bids
    from marketplace.core.time import frozen_now

    from ..factories import make_coop, make_user

    user, coop = poster
    bidder = make_coop("Bidder", {networks["cotech"]: "active"})
    bidder_user = make_user(coops=[bidder])
    job = services.post_job(coop, user, _values("Wetland survey"), [], publish=True)
    db.session.commit()
    bid = bids.save_bid(job, bidder, bidder_user, bids.BidValues(
        amount=900, available_from=utcnow().date() + days(30), proposal="We can.", answers={}), submit=True)
    db.session.commit()
    with frozen_now(job.bids_deadline + days(hours=1)):
        bids.award_bid(bid, user, 900, job.bids_deadline.date() + days(days=2))
        db.session.commit()
        assert {label: count for label, (count, _) in search("wetland").facet("state").items()} == {"Awarded": 1}
        assert check(app).ok


@whoosh_only
def test_a_big_batch_is_written_as_a_segment_and_found_like_any_other(app, poster, search):
    """A commit of many jobs at once (an import) is written as a segment of its own, as a
    rebuild writes one: its jobs are found at once, by word and by phrase, with their skills;
    an edit afterwards replaces a job's document, and nothing stays queued."""
    from marketplace.search.whoosh_backend import BULK_MIN

    user, coop = poster
    jobs = [services.post_job(coop, user, _values(f"Allotment survey {n}", summary=f"Plots of ward {n}."),
                              [], publish=True) for n in range(BULK_MIN + 5)]
    db.session.commit()
    assert queue_length() == 0
    assert _indexed(app) >= {f"job:{job.id}" for job in jobs}
    last = len(jobs) - 1
    assert search(f'"plots of ward {last}"').titles == [f"Allotment survey {last}"]
    assert search('"plots of ward 7"').titles == ["Allotment survey 7"]
    services.update_job(jobs[7], user, {"title": "Allotment census 7"}, None)
    db.session.commit()
    assert search("census").titles == ["Allotment census 7"]
    assert search('"plots of ward 7"').titles == ["Allotment census 7"]
    assert check(app).ok
