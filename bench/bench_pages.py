"""Page benchmark: what the main pages cost at scale, in-process and over HTTP.

    .venv/bin/python bench/bench_pages.py [--jobs 100000 --coops 5000] [--runs 30] [--explain]

Builds (or reuses) bench/bench.db, then times each page for an anonymous viewer and a
signed-in CoTech member: with Flask's test client in this process, and over HTTP against
gunicorn (one worker, one thread) with a keep-alive client. It also counts the SQL statements
of one request per page, and checks that the count stays the same when the page size or the
amount of data changes. Slow figures are reported, never fatal; the exit status is non-zero
only when something is broken (a page that does not answer 200, a server that does not start).
See bench/README.md for what the figures mean.
"""
import hashlib
import http.client
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager, nullcontext

import click
from sqlalchemy import event

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for path in (ROOT, HERE):
    if path not in sys.path:
        sys.path.insert(0, path)

import dataset  # noqa: E402
from wsgi_bench import create_bench_app, index_path  # noqa: E402

from marketplace import search  # noqa: E402
from marketplace.accounts.models import User  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from marketplace.operations.serving import settle  # noqa: E402

USER_AGENT = "marketplace-bench/1"
PAGES = (
    ("bare Flask route", "/bench/bare"),
    ("job list", "/jobs"),
    ("job list, page 40", "/jobs?page=40"),
    ("by skill", "/jobs?skill={skill}"),
    ("by skill, page 40", "/jobs?skill={skill}&page=40"),
    ("job page", "/jobs/{job_id}"),
    ("skill page", "/skills/{skill}"),
    ("skills index", "/skills/"),
)
# Pages whose statement count must not depend on the page size.
LIST_PAGES = ("job list", "job list, page 40", "by skill", "by skill, page 40", "skill page")
VIEWERS = ("anonymous", "member")


class BenchError(Exception):
    """Something is broken (not merely slow)."""


# --- measuring ---------------------------------------------------------------------------------

@contextmanager
def recorded_statements(engine):
    """Every SQL statement run on ``engine`` inside the block: (sql, parameters, seconds)."""
    records, started = [], []

    def before(conn, cursor, statement, parameters, context, executemany):
        started.append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        records.append((statement, parameters, time.perf_counter() - started.pop()))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield records
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary(seconds):
    return {"median": statistics.median(seconds) * 1000, "p95": percentile(seconds, 0.95) * 1000,
            "rps": len(seconds) / sum(seconds)}


def headers(cookie):
    h = {"User-Agent": USER_AGENT}
    if cookie:
        h["Cookie"] = f"session={cookie}"
    return h


class InProcess:
    """Flask's test client; cookies are sent by hand so both clients send the same ones."""

    def __init__(self, app):
        self.client = app.test_client(use_cookies=False)
        settle()  # as gunicorn does once a worker has loaded the app (marketplace/operations/serving.py)

    def get(self, url, cookie):
        response = self.client.get(url, headers=headers(cookie))
        return response.status_code, response.get_data(as_text=True), "Set-Cookie" in response.headers


class KeepAliveHTTP:
    """Sequential requests over one persistent connection (reopened only if the server closes it)."""

    def __init__(self, port):
        self.port = port
        self.conn = None
        self.connections = 0

    def get(self, url, cookie):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                self.connections += 1
            try:
                self.conn.request("GET", url, headers=headers(cookie))
                response = self.conn.getresponse()
                body = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise
                continue
            if response.will_close:
                self.close()
            return response.status, body.decode("utf-8", "replace"), response.getheader("Set-Cookie") is not None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def checked_get(client, url, cookie, with_cookie_flag=False):
    """The body of a 200 response (and whether it set a cookie); anything else is an error."""
    status, body, sets_cookie = client.get(url, cookie)
    if status != 200:
        raise BenchError(f"GET {url} answered {status}")
    return (body, sets_cookie) if with_cookie_flag else body


def time_requests(client, targets, runs, warmup, label, engine=None):
    """Median, p95 and requests/s of ``runs`` sequential requests for each target ((url, cookie)
    under a key); with ``engine`` (in-process only) also the median time spent in SQL per request.
    The targets take turns, one request each per round, so every page, the bare route included,
    is timed over the same stretch of time: a slow moment of the machine falls on all alike
    instead of on whichever page was being timed then."""
    for url, cookie in targets.values():
        for _ in range(warmup):
            checked_get(client, url, cookie)
    seconds = {key: [] for key in targets}
    sql = {key: [] for key in targets}
    with click.progressbar(range(runs), label=label) as rounds:
        for _ in rounds:
            for key, (url, cookie) in targets.items():
                with recorded_statements(engine) if engine is not None else nullcontext([]) as records:
                    start = time.perf_counter()
                    checked_get(client, url, cookie)
                    seconds[key].append(time.perf_counter() - start)
                sql[key].append(sum(r[2] for r in records))
    return {key: {**summary(seconds[key]), "sql_ms": statistics.median(sql[key]) * 1000} for key in targets}


def statements(app, client, url, cookie):
    with app.app_context():
        engine = db.engine
    with recorded_statements(engine) as records:
        checked_get(client, url, cookie)
    return records


SHOWING = re.compile(r"Showing (\d+)–(\d+) of ([\w ,]+?) jobs")


def shown(body):
    """'781–800 of more than 1,000' from a list page, or ''."""
    match = SHOWING.search(body)
    return f"{match[1]}–{match[2]} of {match[3]}" if match else ""


# --- the member's session -----------------------------------------------------------------------

def member_cookie(app, user_id):
    """A signed session cookie for ``user_id`` as a browser has it after signing in: what
    Flask-Login's login_user stores (with the session-protection identifier of our client)
    and the CSRF token the sign-in form left. The pages then have no reason to rewrite it."""
    with app.test_request_context("/", headers={"User-Agent": USER_AGENT}, environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        identifier = app.login_manager._session_identifier_generator()
        session_id = db.session.get(User, user_id).get_id()
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({"_user_id": session_id, "_fresh": True, "_id": identifier,
                             "csrf_token": hashlib.sha1(b"bench").hexdigest()})


def check_sign_in(client, cookies, member_name):
    anonymous = checked_get(client, "/jobs", cookies["anonymous"])
    member = checked_get(client, "/jobs", cookies["member"])
    if "Sign in" not in anonymous or member_name in anonymous:
        raise BenchError("the anonymous viewer looks signed in")
    if member_name not in member or "Sign in" in member:
        raise BenchError("the member's session cookie was not accepted")


# --- gunicorn ------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(database, env=None, workers=("--workers", "1", "--worker-class", "gthread", "--threads", "1")):
    port = free_port()
    log_path = os.path.join(HERE, "gunicorn.log")
    command = [
        sys.executable, "-m", "gunicorn", "-c", "python:marketplace.gunicorn_conf", *workers,
        "--bind", f"127.0.0.1:{port}", "--chdir", ROOT, "--pythonpath", HERE, "--log-level", "warning",
        "wsgi_bench:create_bench_app()",
    ]
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                  env={**os.environ, "BENCH_DATABASE": database, **(env or {})})
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise BenchError(f"gunicorn exited with {server.returncode}; see {log_path}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise BenchError(f"gunicorn did not start within 60 s; see {log_path}")
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- the database --------------------------------------------------------------------------------

def ensure_database(path, jobs, coops, rebuild=False, label="Building"):
    app = create_bench_app(path)  # registers every model, for the schema fingerprint
    if not rebuild and dataset.is_ready(path, jobs, coops):
        click.echo(f"Reusing {os.path.relpath(path, ROOT)} ({jobs:,} jobs, {coops:,} co-ops).")
    else:
        dataset.remove(path)
        shutil.rmtree(index_path(path), ignore_errors=True)
        start = time.perf_counter()
        dataset.build(app, jobs, coops, label=label)
        size = os.path.getsize(path) / 1e6
        click.echo(f"Built {os.path.relpath(path, ROOT)} in {time.perf_counter() - start:.1f} s ({size:,.0f} MB).")
    if not os.path.isdir(index_path(path)):
        # A site keeps its search index, which the skill pages count open jobs with.
        start = time.perf_counter()
        with app.app_context():
            indexed = search.rebuild(app)
        click.echo(f"Indexed {indexed:,} documents for search in {time.perf_counter() - start:.1f} s.")


def urls(facts):
    return {label: template.format(**facts) for label, template in PAGES}


def statement_counts(app, facts, cookies, labels=None):
    """{(page, viewer): number of statements of one request}."""
    client = InProcess(app)
    counts = {}
    for label, url in urls(facts).items():
        if labels and label not in labels:
            continue
        for viewer in VIEWERS:
            checked_get(client, url, cookies[viewer])  # warm
            counts[(label, viewer)] = len(statements(app, client, url, cookies[viewer]))
    return counts


# --- printing ------------------------------------------------------------------------------------

def print_table(header, rows, align=None):
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(len(header))]
    align = align or ["<"] + [">"] * (len(header) - 1)

    def line(row):
        return "  ".join(f"{str(cell):{a}{w}}" for cell, a, w in zip(row, align, widths)).rstrip()

    click.echo(line(header))
    click.echo("  ".join("-" * w for w in widths).rstrip())
    for row in rows:
        click.echo(line(row))


def growth(small, large):
    if large > small:
        return "GROWS"
    return "fewer" if large < small else ""


def explain(app, facts, cookies):
    """Each statement of each page with its time and SQLite's query plan."""
    client = InProcess(app)
    with app.app_context():
        engine = db.engine
    for label, url in urls(facts).items():
        for viewer in VIEWERS:
            checked_get(client, url, cookies[viewer])
            records = statements(app, client, url, cookies[viewer])
            click.echo(f"\n=== {label} ({viewer}) {url}: {len(records)} statements")
            for sql, params, seconds in records:
                click.echo(f"\n-- {seconds * 1000:.2f} ms\n{' '.join(sql.split())}\n   params: {params}")
                with engine.connect() as conn:
                    for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params):
                        click.echo(f"   plan: {row[-1]}")


# --- main ----------------------------------------------------------------------------------------

@click.command()
@click.option("--jobs", default=100_000, show_default=True, help="Jobs in the bench database.")
@click.option("--coops", default=5_000, show_default=True, help="Co-ops in the bench database.")
@click.option("--runs", default=30, show_default=True, help="Timed requests per page and viewer.")
@click.option("--warmup", default=3, show_default=True, help="Untimed requests before timing.")
@click.option("--database", default=os.path.join(HERE, "bench.db"), show_default=True,
              type=click.Path(dir_okay=False), help="SQLite file to build or reuse.")
@click.option("--rebuild", is_flag=True, help="Build the database again even if it looks complete.")
@click.option("--no-http", is_flag=True, help="Skip the gunicorn measurements.")
@click.option("--explain", "show_plans", is_flag=True, help="Print every statement with its query plan.")
def main(jobs, coops, runs, warmup, database, rebuild, no_http, show_plans):
    """Benchmark the job and skill pages on a large SQLite database."""
    try:
        run(jobs, coops, runs, warmup, os.path.abspath(database), rebuild, no_http, show_plans)
    except BenchError as error:
        click.echo(f"bench: error: {error}", err=True)
        sys.exit(1)


def run(jobs, coops, runs, warmup, database, rebuild, no_http, show_plans):
    ensure_database(database, jobs, coops, rebuild)
    app = create_bench_app(database)
    facts = dataset.facts(app)
    cookies = {"anonymous": None, "member": member_cookie(app, facts["member_id"])}
    click.echo(
        f"{facts['jobs']:,} jobs ({facts['open']:,} open); common skill '{facts['skill']}' on "
        f"{facts['skill_jobs']:,} jobs; job page /jobs/{facts['job_id']}; SQLite {facts['sqlite']}; "
        f"{runs} timed runs after {warmup} warm-up, per page and viewer.\n"
    )
    client = InProcess(app)
    check_sign_in(client, cookies, facts["member_name"])
    with app.app_context():
        engine = db.engine

    # Each page twice: rendered for every request (PAGE_CACHE_SECONDS=0), and as the site runs,
    # where the shared part of a page (core/fragments.py) is rendered once per audience and
    # then served from the cache until the next write.
    results = {}
    targets = {(label, viewer): (url, cookies[viewer]) for label, url in urls(facts).items() for viewer in VIEWERS}
    for mode, seconds in (("rendered", 0), ("cached", app.config["PAGE_CACHE_SECONDS"])):
        app.config["PAGE_CACHE_SECONDS"] = seconds
        for (label, viewer), (url, cookie) in targets.items():
            body, sets_cookie = checked_get(client, url, cookie, with_cookie_flag=True)
            results[(mode, label, viewer)] = {
                "url": url, "shown": shown(body), "sets_cookie": sets_cookie,
                "statements": len(statements(app, client, url, cookie)),
            }
        timed = time_requests(client, targets, runs, warmup, f"In-process, {mode:8}", engine)
        for (label, viewer), figures in timed.items():
            results[(mode, label, viewer)]["local"] = figures

    connections = []
    if not no_http:
        for mode, env in (("rendered", {"PAGE_CACHE_SECONDS": "0"}), ("cached", {})):
            with gunicorn(database, env) as port:
                http_client = KeepAliveHTTP(port)
                check_sign_in(http_client, cookies, facts["member_name"])
                timed = time_requests(http_client, targets, runs, warmup, f"HTTP, {mode:8}      ")
                for (label, viewer), figures in timed.items():
                    results[(mode, label, viewer)]["http"] = figures
                connections.append(http_client.connections)
                http_client.close()

    click.echo()
    header = ["page", "viewer", "SQL", "SQL ms", "median ms", "p95 ms", "x bare"]
    if not no_http:
        header += ["HTTP median", "HTTP p95", "req/s", "HTTP x bare"]
    header += ["cookie", "shows"]
    for mode in ("rendered", "cached"):
        click.echo({"rendered": "Rendered for every request (PAGE_CACHE_SECONDS=0):",
                    "cached": "\nAs the site runs: shared parts served from the cache (the same page asked "
                              "again by a viewer of the same audience, no write in between):"}[mode])
        rows = []
        for (mode_, label, viewer), r in results.items():
            if mode_ != mode:
                continue
            bare = results[(mode, "bare Flask route", viewer)]
            row = [label, viewer, r["statements"], f"{r['local']['sql_ms']:.1f}", f"{r['local']['median']:.2f}",
                   f"{r['local']['p95']:.2f}", f"{r['local']['median'] / bare['local']['median']:.1f}"]
            if not no_http:
                row += [f"{r['http']['median']:.2f}", f"{r['http']['p95']:.2f}", f"{r['http']['rps']:.0f}",
                        f"{r['http']['median'] / bare['http']['median']:.1f}"]
            rows.append(row + ["sets" if r["sets_cookie"] else "", r["shown"]])
        print_table(header, rows, align=["<", "<"] + [">"] * (len(header) - 4) + ["<", "<"])
    if connections:
        click.echo(f"\nHTTP: gunicorn gthread, 1 worker x 1 thread, one server per mode; {connections} "
                   f"keep-alive connection(s) for {len(results) // 2 * (runs + warmup) + 2} requests each.")

    # The statement counts below are those of rendering a page (the cache would hide growth).
    app.config["PAGE_CACHE_SECONDS"] = 0
    # Statement counts must not grow with the page size ...
    click.echo("\nSQL statements per request by page size (JOBS_PER_PAGE):")
    by_size = {}
    for per_page in (10, 50):
        app.config["JOBS_PER_PAGE"] = per_page
        by_size[per_page] = statement_counts(app, facts, cookies, LIST_PAGES)
    app.config["JOBS_PER_PAGE"] = 20
    print_table(["page", "viewer", "10 a page", "50 a page", ""], [
        [label, viewer, by_size[10][key], by_size[50][key], growth(by_size[10][key], by_size[50][key])]
        for key in by_size[10] for label, viewer in [key]
    ], align=["<", "<", ">", ">", "<"])

    # ... nor with the amount of data.
    tiny_jobs, tiny_coops = 200, 20
    tiny_path = os.path.join(os.path.dirname(database), "bench-tiny.db")
    click.echo(f"\nSQL statements per request, tiny database ({tiny_jobs} jobs, {tiny_coops} co-ops) "
               f"vs this one ({jobs:,} jobs):")
    ensure_database(tiny_path, tiny_jobs, tiny_coops, label="Building tiny")
    tiny_app = create_bench_app(tiny_path, PAGE_CACHE_SECONDS=0)
    tiny_facts = dataset.facts(tiny_app)
    tiny_facts["skill"] = facts["skill"]
    tiny_cookies = {"anonymous": None, "member": member_cookie(tiny_app, tiny_facts["member_id"])}
    tiny = statement_counts(tiny_app, tiny_facts, tiny_cookies)
    big = {key[1:]: r["statements"] for key, r in results.items() if key[0] == "rendered"}
    print_table(["page", "viewer", "tiny", "big", ""], [
        [label, viewer, tiny[key], big[key], growth(tiny[key], big[key])]
        for key in big for label, viewer in [key]
    ], align=["<", "<", ">", ">", "<"])

    if show_plans:
        explain(app, facts, cookies)


if __name__ == "__main__":
    main()
