"""What gunicorn does around the app (``marketplace/gunicorn_conf.py`` names these hooks).

The master loads the app once and forks every worker from it (``preload_app``): a worker that
replaces another (after ``max_requests``, a crash or a timeout) only reads its view of the
search index before it serves, about a second at 100,000 jobs, where loading the app too took
three. While a worker starts, the others serve alone; two starting at once left none serving,
and requests waited for seconds. So workers start one at a time (``pre_request``): a worker
due to be replaced waits, answering more requests, while another starts.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import contextlib
import fcntl
import gc
import glob
import logging
import os
import tempfile
import time

if TYPE_CHECKING:
    from typing import Any

    from flask import Flask

log = logging.getLogger(__name__)


def prepare_metrics_directory() -> str:
    """Each worker counts its metrics in files in PROMETHEUS_MULTIPROC_DIR, and /metrics adds
    them up. Set before the app is loaded (the master loads it, and prometheus_client reads
    the variable when it is imported), in the master's environment, which the workers inherit.
    A directory of our own is made when none is given; counts start from zero with each start
    of gunicorn: the files of an earlier run go."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="marketplace-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    os.makedirs(directory, exist_ok=True)
    for stale in glob.glob(os.path.join(directory, "*.db")):
        os.remove(stale)
    return directory


# Held by the worker that starts, or is about to be replaced: one at a time. A file made by the
# master before it forks (the workers inherit its name); each process opens it for itself, as
# a lock belongs to an opening of the file.
_start_lock: dict[str, Any] = {"path": None, "file": None}
POSTPONE = 200  # requests a worker due to be replaced answers before it asks again


def prepare_start_lock() -> str:
    handle, path = tempfile.mkstemp(prefix="marketplace-start-", suffix=".lock")
    os.close(handle)
    _start_lock.update(path=path, file=None)
    return path


def _try_lock() -> bool:
    """Take the start lock if it is free (without waiting: a waiting worker must still notify
    the master); True when this process holds it, or when there is no lock to hold."""
    if _start_lock["path"] is None:
        return True
    if _start_lock["file"] is None:
        _start_lock["file"] = open(_start_lock["path"], "rb")  # noqa: SIM115  (held as long as the process)
    try:
        fcntl.flock(_start_lock["file"], fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock() -> None:
    if _start_lock["file"] is not None:
        fcntl.flock(_start_lock["file"], fcntl.LOCK_UN)


def settle() -> None:
    """Call once the app is loaded. What exists then (the app, its libraries, their
    functions and classes) lives as long as the process: freezing it keeps the cyclic
    garbage collector from walking those ~150,000 objects again in every full collection
    that a request's allocations trigger (a third of a search page's time without it). In
    the master it also keeps the workers from writing to (and so copying) the pages they
    share with it only to mark objects the collector visited."""
    gc.freeze()


def compile_templates(app: Flask) -> int:
    """Load every template once in the master, so that no worker compiles them again."""
    loaded = 0
    for name in app.jinja_env.list_templates(filter_func=lambda name: name.endswith((".html", ".xml", ".txt"))):
        app.jinja_env.get_template(name)
        loaded += 1
    return loaded


def when_ready(server: Any) -> None:
    """In the master, after it loaded the app and before it forks the first worker."""
    from prometheus_client import multiprocess

    # The master answers no request: the files its metrics opened as the app loaded would show
    # it as a worker keeping nothing. Each worker opens its own when it first counts.
    multiprocess.mark_process_dead(os.getpid())
    try:
        compile_templates(server.app.wsgi())
    except Exception:  # a template that does not compile is reported when a page uses it
        log.warning("serving: the templates could not all be compiled at start", exc_info=True)
    settle()


def post_fork(server: Any, worker: Any) -> None:
    """A worker starts with no database connection of the master's: connections shared
    across a fork would mix two processes' conversations on one socket."""
    from ..extensions import db

    with worker.app.wsgi().app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
    _start_lock["file"] = None  # the master's opening, if any, is not this worker's
    _wait_to_start(worker)


def _wait_to_start(worker: Any) -> None:
    """Until no other worker is starting (the lock is let go in post_worker_init), telling the
    master meanwhile that this one is alive; after half its timeout, it starts anyway."""
    deadline = time.monotonic() + max(1.0, getattr(worker, "timeout", 30) / 2)
    while not _try_lock() and time.monotonic() < deadline:
        if hasattr(worker, "notify"):
            worker.notify()
        time.sleep(0.05)


def post_worker_init(worker: Any) -> None:
    """Before the worker's first request: read its view of the search index."""
    from .. import search

    try:
        search.warm(worker.wsgi)  # before settle: the view lives as long as the worker
        settle()
    finally:
        _unlock()


def pre_request(worker: Any, req: Any) -> None:
    """A worker whose next request is its last (``max_requests``) is replaced after it only
    when no other worker is starting; it holds the lock until it exits, and its replacement
    until it serves. Otherwise it answers ``POSTPONE`` more requests and asks again."""
    if worker.nr + 1 < worker.max_requests:
        return
    if not _try_lock():
        worker.max_requests = worker.nr + 1 + POSTPONE


def on_exit(server: Any) -> None:
    if _start_lock["path"] is not None:
        with contextlib.suppress(OSError):
            os.remove(_start_lock["path"])


def child_exit(server: Any, worker: Any) -> None:
    """A worker that ended (restarted, killed, timed out) no longer counts in live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
