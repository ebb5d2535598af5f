"""The app as the memory bench serves it: the real application (settings from the environment,
as gunicorn serves it) with Python's allocations traced in each worker, and one route that
tells where they went.

    gunicorn -c python:marketplace.gunicorn_conf --chdir bench 'wsgi_memory:create_traced_app()'

``GET /bench/memory`` (from the machine itself only) answers, as text, the worker's RSS, the
traced total, and the lines that hold the most memory now, with what each gained since the
first snapshot the worker took (its first call of this route: call it once after warm-up, then
again at the end). Tracing slows every request down a few times over: it is for finding where
memory goes, not for timing; the first snapshot, kept for the comparison, itself adds to the
worker's RSS and traced total (compare the lines, not the totals). Nothing of this is in the app
that ``marketplace:create_app()`` serves.
"""
import gc
import linecache
import os
import sys
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from flask import abort, request  # noqa: E402

from marketplace import create_app  # noqa: E402

FRAMES = int(os.environ.get("BENCH_TRACE_FRAMES", "1"))  # more frames: far slower
TOP = int(os.environ.get("BENCH_TRACE_TOP", "40"))
_first = {}


def _rss_mb():
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("VmRSS:")).split()[1]) / 1024


def _ours(snapshot):
    # Leave out tracemalloc's own bookkeeping, and the source lines this route reads to show.
    return snapshot.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__),
                                   tracemalloc.Filter(False, linecache.__file__)])


def memory():
    if request.remote_addr not in ("127.0.0.1", "::1"):
        abort(404)
    gc.collect()
    snapshot = _ours(tracemalloc.take_snapshot())
    group = "traceback" if FRAMES > 1 else "lineno"
    first = _first.setdefault(os.getpid(), snapshot)
    lines = [f"pid {os.getpid()} rss {_rss_mb():.1f} MB traced {tracemalloc.get_traced_memory()[0] / 2**20:.1f} MB"
             f" gc objects {len(gc.get_objects())}"]
    if first is snapshot:
        lines.append("first snapshot taken: what later calls compare with")
        stats = snapshot.statistics(group)
    else:
        stats = snapshot.compare_to(first, group)
    stats = sorted(stats, key=lambda s: getattr(s, "size_diff", s.size), reverse=True)[:TOP]
    for stat in stats:
        grown = getattr(stat, "size_diff", None)
        lines.append(f"{stat.size / 1024:9.1f} KB now" + (f"  {grown / 1024:+9.1f} KB since first" if grown is not None
                                                         else "") + f"  {stat.count} blocks")
        for frame in (stat.traceback.format() if group == "traceback" else stat.traceback.format()[:2]):
            lines.append("      " + frame.strip())
    return "\n".join(lines) + "\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


def create_traced_app():
    tracemalloc.start(FRAMES)
    app = create_app()
    app.add_url_rule("/bench/memory", "bench_memory", memory)
    return app
