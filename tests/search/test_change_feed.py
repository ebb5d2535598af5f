"""The PostgreSQL backend's view of the documents in each process is kept current by the change
feed: a process that has already loaded sees every change committed before its next search (an
edit, a change of visibility, a deletion, a rebuild), whatever connection or process made it and
in whatever order the transactions committed."""
import traceback

import pytest
from sqlalchemy import text

from marketplace.extensions import db
from marketplace.federation import ANONYMOUS
from marketplace.search import SearchRequest, postgres_view, query_index, rebuild
from marketplace.search.query import parse

from ..factories import make_job, settle_index
from ..processes import fresh_processes

pytestmark = [pytest.mark.postgres_only, pytest.mark.parametrize("search_backend", ["postgres"], indirect=True)]


def found(words):
    """(total, [ids]) of an anonymous search, as the site shows it."""
    result = query_index(SearchRequest(query=parse(words)), ANONYMOUS)
    return result.total, [hit.object_id for hit in result.hits]


def elsewhere(*statements):
    """Run and commit ``statements`` on a connection of their own (another request's)."""
    with db.engine.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
        connection.commit()


@pytest.fixture
def orchard(poster):
    _, coop = poster
    jobs = [make_job(coop, "public", "open", title=f"Orchard pruning {n}") for n in range(3)]
    settle_index()
    assert found("orchard") == (3, [job.id for job in reversed(jobs)])  # the view is loaded
    return jobs


def test_an_edit_is_seen(orchard):
    job = orchard[0]
    assert found("vineyard") == found("vine*") == (0, [])  # the words' documents, now cached
    job.title = "Vineyard survey"
    db.session.commit()
    settle_index()
    assert found("orchard")[0] == 2
    assert found("vineyard") == found("vine*") == found('"vineyard survey"') == (1, [job.id])


def test_a_change_of_visibility_is_seen_at_once(orchard):
    job = orchard[1]
    # The job table's trigger brings the document's audience in step in the same transaction:
    # no queue drain is needed before the job stops being shown.
    elsewhere(f"UPDATE job SET visibility = 'cotech' WHERE id = {job.id}")
    total, ids = found("orchard")
    assert total == 2 and job.id not in ids
    elsewhere(f"UPDATE job SET visibility = 'public' WHERE id = {job.id}")
    assert found("orchard")[0] == 3


def test_a_deletion_is_seen(orchard):
    job = orchard[2]
    elsewhere(f"DELETE FROM search_document WHERE kind = 'job' AND object_id = {job.id}")
    total, ids = found("orchard")
    assert total == 2 and job.id not in ids


def test_a_rebuild_is_seen(orchard, monkeypatch):
    monkeypatch.setattr(postgres_view, "RELOAD_CHANGES", 1)  # so many changes that the view reloads
    elsewhere(f"UPDATE job SET title = 'Hedge laying' WHERE id = {orchard[0].id}")  # not queued
    rebuild()
    assert found("orchard")[0] == 2
    assert found("hedge") == (1, [orchard[0].id])


def test_a_change_committed_after_a_later_one_is_seen(orchard):
    """Transaction A changes job 1 and stays open; B changes job 2 and commits; a search runs;
    then A commits: the next search sees A's change although B's was seen first."""
    first, second = orchard[0], orchard[1]
    with db.engine.connect() as a:
        a.execute(text(f"UPDATE job SET visibility = 'cotech' WHERE id = {first.id}"))
        elsewhere(f"UPDATE job SET visibility = 'cotech' WHERE id = {second.id}")
        total, ids = found("orchard")
        assert total == 2 and second.id not in ids and first.id in ids
        a.commit()
    total, ids = found("orchard")
    assert (total, ids) == (1, [orchard[2].id])


def _search_twice(config, words, ready, changed, results):
    """Another process: search, say so, wait for the change, search again."""
    try:
        from marketplace import create_app

        app = create_app(config)
        with app.app_context():
            results.put(found(words))
            ready.set()
            changed.wait(timeout=60)
            results.put(found(words))
    except Exception:
        results.put(traceback.format_exc())


def test_another_process_sees_a_change_of_visibility(app, orchard):
    config = {"TESTING": True, "SECRET_KEY": "test-secret", "MAIL_BACKEND": "memory",
              "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "SEARCH_BACKEND": "postgres"}
    context = fresh_processes()
    ready, changed, results = context.Event(), context.Event(), context.Queue()
    process = context.Process(target=_search_twice, args=(config, "orchard", ready, changed, results))
    process.start()
    try:
        assert results.get(timeout=120)[0] == 3
        assert ready.wait(timeout=60)
        elsewhere(f"UPDATE job SET visibility = 'federation' WHERE id = {orchard[0].id}")
        changed.set()
        total, ids = results.get(timeout=60)
        assert total == 2 and orchard[0].id not in ids
    finally:
        process.join(timeout=60)
