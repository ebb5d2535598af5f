"""Several processes post and edit jobs at once against one index (as gunicorn workers do):
afterwards every job is found, in its last state, and none twice."""
import traceback

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.search import backend, check, drain, queue_length
from marketplace.search.documents import COOP, JOB, document_key
from marketplace.search.models import SearchDocument

from ..factories import job_values
from ..processes import fresh_processes

WORKERS = 4
JOBS_EACH = 6


def _worker(config, coop_id, user_id, worker, results):
    """One process: post jobs and edit each one, committing every change."""
    try:
        from marketplace import create_app
        from marketplace.accounts.models import User
        from marketplace.coops.models import Coop
        from marketplace.jobs import services

        app = create_app(config)
        with app.app_context():
            coop, user = db.session.get(Coop, coop_id), db.session.get(User, user_id)
            for n in range(JOBS_EACH):
                token = f"tok{worker}x{n}"
                job = services.post_job(coop, user, job_values(f"Parallel job {token}"), [], publish=True)
                db.session.commit()
                services.update_job(job, user, {"title": f"Edited parallel job {token}"}, None)
                db.session.commit()
        results.put(("ok", worker, None))
    except Exception:
        results.put(("error", worker, traceback.format_exc()))


def _indexed_keys(app, name):
    """Every document's key as the index holds it, duplicates included."""
    if name == "whoosh":
        return sorted(f["key"] for f in backend(app)._fresh_view().searcher.reader().all_stored_fields())
    rows = db.session.execute(select(SearchDocument.kind, SearchDocument.object_id)).all()
    return sorted(document_key(kind, object_id) for kind, object_id in rows)


def test_workers_posting_and_editing_at_once(app, poster, search, search_backend):
    from marketplace.jobs.models import Job

    user, coop = poster
    config = {
        "TESTING": True, "SECRET_KEY": "test-secret", "SERVER_NAME": app.config["SERVER_NAME"],
        "MAIL_BACKEND": "memory",
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SEARCH_BACKEND": app.config["SEARCH_BACKEND"],
        "SEARCH_INDEX_PATH": app.config["SEARCH_INDEX_PATH"],
    }
    context = fresh_processes()
    results = context.Queue()
    processes = [context.Process(target=_worker, args=(config, coop.id, user.id, w, results))
                 for w in range(WORKERS)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    failures = [detail for status, _, detail in outcomes if status != "ok"]
    assert not failures, failures[0]

    drain(app, timeout=30)  # what the next commit would do for anything left queued
    assert queue_length() == 0
    jobs = db.session.scalars(select(Job)).all()
    assert len(jobs) == WORKERS * JOBS_EACH
    # every job and the co-op, none twice
    expected = sorted([document_key(JOB, job.id) for job in jobs] + [document_key(COOP, coop.id)])
    assert _indexed_keys(app, search_backend) == expected
    for job in jobs:
        token = job.title.split()[-1]
        answer = search(token)
        assert answer.titles == [f"Edited parallel job {token}"], token  # found once, last state
    assert check(app).ok
