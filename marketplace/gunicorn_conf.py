"""gunicorn's settings for serving the marketplace (options on the command line still apply):

    gunicorn -c python:marketplace.gunicorn_conf --workers 4 'marketplace:create_app()'
"""
import gc
import glob
import os
import tempfile



def settle():
    """Call once the app is loaded. What exists then (the app, its libraries, their
    functions and classes) lives as long as the process: freezing it keeps the cyclic
    garbage collector from walking those ~150,000 objects again in every full collection
    that a request's allocations trigger (a third of a search page's time without it)."""
    gc.freeze()


def post_worker_init(worker):
    from marketplace import search

    search.warm(worker.wsgi)  # before settle: the view lives as long as the worker
    settle()


def on_starting(server):
    """Each worker counts its metrics in files in PROMETHEUS_MULTIPROC_DIR, and /metrics adds
    them up. Set here, in the master before any worker starts (the workers inherit it and
    import prometheus_client only when they load the app), not when this file is imported:
    importing it (for ``settle``) must not turn metrics into files for that process. A
    directory of our own is made when none is given; counts start from zero with each start
    of gunicorn: the files of an earlier run go."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="marketplace-metrics-")
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for stale in glob.glob(os.path.join(directory, "*.db")):
        os.remove(stale)


def child_exit(server, worker):
    """A worker that ended (restarted, killed, timed out) no longer counts in live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# A safety net, not a fix: whatever a library may keep, a worker is replaced (after its request,
# by a fresh fork of the master) once it has answered about this many requests; the jitter keeps
# the workers from being replaced all at once. ``--max-requests 0`` on the command line turns it off.
max_requests = 20000
max_requests_jitter = 2000
