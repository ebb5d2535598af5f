"""gunicorn's hooks (marketplace/operations/serving.py): the master loads the app and compiles
the templates once, and forks workers that keep none of its database connections; a worker
replaced after ``max_requests`` serves from the same loaded app, and the metrics still add up."""
import fcntl
import os
import re
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from marketplace import PROJECT_ROOT
from marketplace.extensions import db
from marketplace.operations import serving

from .servers import gunicorn, request


def _worker_of(app):
    return SimpleNamespace(app=SimpleNamespace(wsgi=lambda: app))


def test_every_template_compiles_in_the_master(app):
    """What the master compiles before it forks: every template, so a syntax error in one that
    few pages use (an email, an error page) fails here rather than at its first use."""
    templates = [name for _, _, names in os.walk(os.path.join(PROJECT_ROOT, "templates"))
                 for name in names if name.endswith((".html", ".xml", ".txt"))]
    assert serving.compile_templates(app) == len(templates) > 50


def test_a_forked_worker_keeps_none_of_the_masters_connections(app):
    """post_fork empties the pool the worker inherited, without closing the master's
    connections under it (close=False): the worker opens its own."""
    db.session.commit()
    with db.engine.connect() as connection:
        inherited = connection.connection.dbapi_connection
    assert db.engine.pool.checkedin() >= 1
    serving.post_fork(None, _worker_of(app))
    assert db.engine.pool.checkedin() == 0
    cursor = inherited.cursor()  # still open for the process that made it
    cursor.execute("SELECT 1")
    assert cursor.fetchone()[0] == 1
    with db.engine.connect() as connection:
        assert connection.connection.dbapi_connection is not inherited


def _samples(text):
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(text) for s in family.samples]


def test_workers_replaced_after_their_requests_serve_every_request_and_count_it(app, tmp_path):
    """Two workers each replaced after a handful of requests: every request is answered, the
    request counts of the replaced workers still add up, and the live gauges name workers only
    (not the master, which loaded the app and serves nothing)."""
    db.session.commit()
    env = {"GUNICORN_CMD_ARGS": "--max-requests 4 --max-requests-jitter 0"}
    with gunicorn(app, tmp_path, workers=2, env=env) as base:
        sent, workers = 0, set()
        with ThreadPoolExecutor(max_workers=8) as pool:
            # Concurrent, so that both workers answer their share; until one was replaced (a
            # worker due while the other starts waits, at first too: they start one at a time).
            while len(workers) < 3 and sent < 1200:
                statuses = list(pool.map(lambda _: request(base, "GET", "/api/v1/openapi.json")[0], range(60)))
                assert statuses == [200] * 60
                sent += 60
                log = (tmp_path / "gunicorn.log").read_text()
                workers = {int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", log)}
        with urllib.request.urlopen(base + "/metrics", timeout=30) as response:
            found = _samples(response.read().decode())
        log = (tmp_path / "gunicorn.log").read_text()
        workers = {int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", log)}
    assert len(workers) >= 3, workers
    answered = sum(value for name, labels, value in found
                  if name == "marketplace_requests_total" and labels.get("endpoint") == "api.openapi_document")
    assert answered >= sent
    gauge_pids = {int(labels["pid"]) for name, labels, _ in found if name == "marketplace_page_cache_bytes"}
    assert gauge_pids and gauge_pids <= workers


def test_a_worker_due_for_replacement_waits_while_another_starts(monkeypatch):
    """Workers start one at a time: a worker whose next request would be its last answers
    more while another holds the start lock, and once none does, takes the lock and keeps it
    until it exits, so its replacement and no other starts next."""
    path = serving.prepare_start_lock()
    try:
        monkeypatch.setitem(serving._start_lock, "file", None)  # this process's own opening
        other = open(path, "rb")  # another worker's opening: it is starting
        fcntl.flock(other, fcntl.LOCK_EX)
        worker = SimpleNamespace(nr=99, max_requests=100)
        serving.pre_request(worker, None)
        assert worker.max_requests == 100 + serving.POSTPONE
        worker.nr = 50  # far from its last request: nothing to ask
        serving.pre_request(worker, None)
        assert worker.max_requests == 100 + serving.POSTPONE
        fcntl.flock(other, fcntl.LOCK_UN)  # the other one serves now
        worker.nr = worker.max_requests - 1
        serving.pre_request(worker, None)
        assert worker.max_requests == 100 + serving.POSTPONE  # this request is its last
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        retiring = serving._start_lock["file"]  # kept open: the lock is held by this opening
        monkeypatch.setitem(serving._start_lock, "file", None)  # a new worker's own opening
        started = time.monotonic()
        newcomer = SimpleNamespace(timeout=1, notified=[])
        newcomer.notify = lambda: newcomer.notified.append(1)
        serving._wait_to_start(newcomer)  # never let go here: it starts anyway after a while
        assert time.monotonic() - started >= 1 and newcomer.notified
        other.close()
        retiring.close()
    finally:
        os.remove(path)
