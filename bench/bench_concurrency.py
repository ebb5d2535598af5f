"""Search under concurrency: 16 searches at once at 100,000 jobs, on the PostgreSQL backend (the
default) or the Whoosh one, and whether the other pages keep answering meanwhile.

    .venv/bin/python bench/bench_concurrency.py [--backend postgres|whoosh] [--postgres URL]
        [--connections 16] [--duration 10] [--rounds 2] [--workers 4] [--threads 0]
        [--page-cache-seconds N] [--page PATH ...] [--reuse-documents]

With ``--backend whoosh`` the app serves the SQLite build with a Whoosh index built beside it
(``--index``, built when missing). ``--page-cache-seconds 0`` renders every search page (the
search page's results are otherwise a shared part, kept per audience and address until the
next write: the 20 queries in turn are then mostly answered from each worker's cache).
``--page PATH`` adds other addresses (anonymous: feeds, API lists, list pages) to the same turns.

1. Makes the search benchmark's PostgreSQL database (bench_search.py: the page benchmark's
   dataset copied into PostgreSQL, the PostgreSQL backend's documents built), or reuses it.
2. Starts gunicorn as the README deploys it (``-c python:marketplace.gunicorn_conf --workers 4``,
   sync workers, ``SEARCH_BACKEND=postgres``) on that database, with the bench's bare route.
3. In turns, ``--rounds`` times: wrk with ``--connections`` connections on the bare route, then on
   the search page (the search benchmark's 20 queries in turn, as the signed-in CoTech member),
   while this process asks for another page (``/jobs`` and ``/healthz``, one request at a time)
   and times each answer. Prints requests per second, median and 99th percentile, the search
   page's throughput over the bare route's, and the other pages' latency during the searches
   next to their latency on an idle server.

Speed is reported, never asserted; the exit status is non-zero only when something is broken.
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlencode

import click

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for path in (ROOT, HERE):
    if path not in sys.path:
        sys.path.insert(0, path)

import dataset  # noqa: E402
from bench_pages import (BenchError, KeepAliveHTTP, check_sign_in, ensure_database, gunicorn,  # noqa: E402
                         member_cookie, percentile, print_table)
from bench_search import postgres_app, requests_for, whoosh_build  # noqa: E402
from wsgi_bench import SECRET_KEY, create_bench_app  # noqa: E402

WRK = "/usr/bin/wrk"
OTHER_PAGES = ("/jobs", "/healthz")
# wrk sends the search URLs in turn, each connection with the member's session cookie.
LUA = """
paths = {%(paths)s}
counter = 0
wrk.headers["Cookie"] = "session=%(cookie)s"
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


def search_urls(skill):
    out = []
    for _label, request, _options in requests_for(skill):
        args = {"q": request.query.text, **request.filters}
        if request.sort != "relevance":
            args["sort"] = request.sort
        if request.page > 1:
            args["page"] = request.page
        out.append("/search?" + urlencode(args))
    return out


def wrk(port, path, connections, duration, script=None, headers=()):
    """{rps, p50, p99 (ms), errors} of one wrk run (``headers``: "Name: value" sent with each request)."""
    command = [WRK, "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "30s"]
    if script:
        command += ["-s", script]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run(command + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         check=True).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    if "50" not in latency:
        raise BenchError(f"wrk gave no latencies:\n{out}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+(\S+)", out).group(1)),
            "p50": _ms(latency["50"]), "p99": _ms(latency["99"]), "errors": int(errors.group(1)) if errors else 0,
            "requests": int(re.search(r"(\d+) requests in", out).group(1))}


def _ms(value):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def other_pages(port, stop, cookie=None):
    """{path: [seconds]} of the other pages, asked one after another until ``stop`` is set."""
    client = KeepAliveHTTP(port)
    times = {path: [] for path in OTHER_PAGES}
    while not stop.is_set():
        for path in OTHER_PAGES:
            started = time.perf_counter()
            status, _body, _ = client.get(path, cookie)
            times[path].append(time.perf_counter() - started)
            if status != 200:
                raise BenchError(f"GET {path} answered {status} during the searches")
        time.sleep(0.05)
    client.close()
    return times


def during(port, function):
    """(function's result, other pages' times while it ran)."""
    stop, found = threading.Event(), {}

    def watch():
        found.update(other_pages(port, stop))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = function()
    finally:
        stop.set()
        watcher.join()
    return result, found


def latency(seconds):
    return (f"{statistics.median(seconds) * 1000:.1f}", f"{percentile(seconds, 0.99) * 1000:.1f}",
            f"{max(seconds) * 1000:.1f}", str(len(seconds)))


@click.command()
@click.option("--jobs", default=100_000, show_default=True)
@click.option("--coops", default=5_000, show_default=True)
@click.option("--database", default=os.path.join(HERE, "search-bench.db"), show_default=True,
              type=click.Path(dir_okay=False), help="The SQLite build the PostgreSQL copy is made from.")
@click.option("--postgres", default="postgresql+psycopg://postgres@127.0.0.1/bench_searchdb", show_default=True)
@click.option("--connections", default=16, show_default=True)
@click.option("--duration", default=10, show_default=True, help="Seconds of each wrk run.")
@click.option("--rounds", default=2, show_default=True, help="Turns of bare route and search page.")
@click.option("--workers", default=4, show_default=True, help="gunicorn workers (the README's deployment: 4).")
@click.option("--threads", default=0, show_default=True,
              help="Threads per worker (gunicorn's gthread workers); 0: sync workers, as the README deploys.")
@click.option("--reuse-documents", is_flag=True, help="Keep the PostgreSQL documents already built.")
@click.option("--backend", type=click.Choice(["postgres", "whoosh"]), default="postgres", show_default=True)
@click.option("--index", "index_path", default=os.path.join(tempfile.gettempdir(), "marketplace-bench-index"),
              show_default=True, help="The Whoosh index (--backend whoosh), built when missing.")
@click.option("--page-cache-seconds", type=int, default=None,
              help="PAGE_CACHE_SECONDS of the served app (default: the app's; 0 renders every page).")
@click.option("--page", "pages", multiple=True,
              help="Another address to load with wrk in the same turns, anonymously (e.g. /feeds/jobs.rss).")
def main(jobs, coops, database, postgres, connections, duration, rounds, workers, threads, reuse_documents,
         backend, index_path, page_cache_seconds, pages):
    """16 concurrent searches, against a bare route, and the other pages meanwhile."""
    database = os.path.abspath(database)
    ensure_database(database, jobs, coops)
    app = create_bench_app(database)
    facts = dataset.facts(app)
    if backend == "postgres":
        postgres_app(app, postgres, facts["jobs"] + coops, reuse_documents)
        # Signed as the served app signs, for the member as the PostgreSQL copy has them.
        cookie = member_cookie(create_bench_app(SQLALCHEMY_DATABASE_URI=postgres), facts["member_id"])
        env = {"BENCH_DATABASE_URL": postgres, "SEARCH_BACKEND": "postgres", "SECRET_KEY": SECRET_KEY}
    else:
        whoosh = create_bench_app(database, SEARCH_BACKEND="whoosh", SEARCH_INDEX_PATH=index_path)
        whoosh.config["BENCH_PATH"] = database
        if not os.path.exists(os.path.join(index_path, "CURRENT")):
            count, seconds = whoosh_build(whoosh, None)
            click.echo(f"Built the Whoosh index of {count:,} documents in {seconds:.0f} s.")
        cookie = member_cookie(app, facts["member_id"])
        env = {"SEARCH_BACKEND": "whoosh", "SEARCH_INDEX_PATH": index_path, "SECRET_KEY": SECRET_KEY}
    if page_cache_seconds is not None:
        env["PAGE_CACHE_SECONDS"] = str(page_cache_seconds)
    # One load generator on one address is not an abuser: the API's rate limits would answer 429.
    env.update(API_RATE_LIMIT="10000000/minute", API_ADDRESS_RATE_LIMIT="10000000/minute")
    paths = search_urls(facts["skill"])
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % {"paths": ", ".join(f'"{p}"' for p in paths), "cookie": cookie})
    runs = {"bare": [], "search": [], **{page: [] for page in pages}}
    others = {path: [] for path in OTHER_PAGES}
    try:
        options = ("--workers", str(workers)) + (("--worker-class", "gthread", "--threads", str(threads))
                                                   if threads else ())
        with gunicorn(database, env, workers=options) as port:
            check_sign_in(KeepAliveHTTP(port), {"anonymous": None, "member": cookie}, facts["member_name"])
            for path in paths:  # each search answers
                status, _body, _ = KeepAliveHTTP(port).get(path, cookie)
                if status != 200:
                    raise BenchError(f"GET {path} answered {status}")
            # Untimed: every worker answers the searches once (a worker keeps its own cache of
            # page parts), as a site that has been serving them for a while does.
            wrk(port, "/search", connections, duration, script.name)
            for page in pages:
                wrk(port, page, connections, max(2, duration // 4))
            _, idle = during(port, lambda: time.sleep(3))
            for turn in range(rounds):
                click.echo(f"Round {turn + 1} of {rounds}: bare route, then search page "
                           f"({connections} connections, {duration} s each) …")
                runs["bare"].append(wrk(port, "/bench/bare", connections, duration))
                result, found = during(port, lambda: wrk(port, "/search", connections, duration, script.name))
                runs["search"].append(result)
                for page in pages:
                    runs[page].append(wrk(port, page, connections, duration))
                for path, seconds in found.items():
                    others[path] += seconds
    finally:
        os.unlink(script.name)

    kind = f"gthread, {threads} threads each" if threads else "sync"
    cache = "default" if page_cache_seconds is None else page_cache_seconds
    click.echo(f"\ngunicorn {workers} workers ({kind}; marketplace.gunicorn_conf), {backend} backend, "
               f"PAGE_CACHE_SECONDS {cache}, "
               f"{facts['jobs']:,} jobs; wrk -t2 -c{connections} -d{duration}s, {rounds} round(s) of each in turn; "
               f"search: the 20 queries of bench_search.py as the CoTech member. Load average "
               f"{os.getloadavg()[0]:.2f}.")
    rows = []
    bare_rps = statistics.median(r["rps"] for r in runs["bare"])
    for name, label in (("bare", "bare Flask route"), ("search", "search page"), *((p, p) for p in pages)):
        found = runs[name]
        rps = statistics.median(r["rps"] for r in found)
        rows.append([label, f"{rps:.1f}", f"{statistics.median(r['p50'] for r in found):.1f}",
                     f"{max(r['p99'] for r in found):.1f}", f"{rps / bare_rps:.3f}",
                     str(sum(r["errors"] for r in found)), str(sum(r["requests"] for r in found))])
    print_table(["page", "req/s", "p50 ms", "p99 ms", "x bare req/s", "non-2xx", "requests"], rows)
    click.echo(f"\nOther pages, one request at a time, on an idle server and while {connections} searches run:")
    rows = [[path, "idle", *latency(idle[path])] for path in OTHER_PAGES]
    rows += [[path, f"{connections} searches", *latency(others[path])] for path in OTHER_PAGES]
    print_table(["page", "while", "median ms", "p99 ms", "max ms", "requests"], rows)


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        sys.exit(f"bench_concurrency: {error}")
