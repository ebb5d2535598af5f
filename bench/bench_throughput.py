"""Throughput of the main pages under concurrency, against a bare Flask route on the same server.

    .venv/bin/python bench/bench_throughput.py [--backend sqlite|postgres|both] [--postgres URL]
        [--connections 16] [--duration 5] [--rounds 1] [--workers 2] [--viewer anonymous --viewer member]
        [--only PATH ...]

At 100,000 jobs and 5,000 co-ops (bench_pages.py's database, built when missing; on PostgreSQL
the same data copied by bench_search.py), gunicorn runs as the README deploys it
(``-c python:marketplace.gunicorn_conf``, sync workers) with the bench's bare route. For each
page and viewer (anonymous, and the CoTech member's session cookie) wrk loads the bare route and
then the page, ``--connections`` connections for ``--duration`` seconds each: the page's ratio
is its requests per second over those of the bare route run just before it, so a busy moment of
the machine (it is shared) falls on both alike. Every page is warmed first (each worker keeps
its own cache of page parts, feeds and API answers), as a site that has been serving them is.

Prints req/s, p50 and p99 of each page, its bare route's req/s, the ratio, and the target it is
held to (HTML pages 0.3x, feeds 0.25x, API lists 0.15x; p99 under 100 ms). Speed is reported,
never asserted; the exit status is non-zero only when something is broken (a page that does not
answer 200, a server that does not start).
"""
import os
import statistics
import sys
import time

import click
from sqlalchemy import func, select

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for path in (ROOT, HERE):
    if path not in sys.path:
        sys.path.insert(0, path)

import dataset  # noqa: E402
from bench_concurrency import wrk  # noqa: E402
from bench_pages import (BenchError, KeepAliveHTTP, check_sign_in, ensure_database, gunicorn,  # noqa: E402
                         member_cookie, print_table)
from bench_search import copy_to_postgres  # noqa: E402
from wsgi_bench import SECRET_KEY, create_bench_app  # noqa: E402

from marketplace import search  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from marketplace.search.models import SearchDocument  # noqa: E402

# (label, address, target ratio to the bare route)
PAGES = (
    ("home", "/", 0.3),
    ("job list", "/jobs", 0.3),
    ("job list, page 40", "/jobs?page=40", 0.3),
    ("by skill", "/jobs?skill={skill}", 0.3),
    ("job page", "/jobs/{job_id}", 0.3),
    ("skills index", "/skills/", 0.3),
    ("skill page", "/skills/{skill}", 0.3),
    ("co-ops", "/coops/", 0.3),
    ("RSS feed", "/feeds/jobs.rss", 0.25),
    ("Atom feed", "/feeds/jobs.atom", 0.25),
    ("API job list", "/api/v1/jobs", 0.15),
)
P99_MS = 100
VIEWERS = ("anonymous", "member")


def run_server(label, database, env, facts, cookies, pages, viewers, connections, duration, workers, rounds):
    """[(page label, viewer, page run, bare run, target)] on one server: of ``rounds`` pairs of
    runs (bare route, page), the pair with the median ratio."""
    found = []
    with gunicorn(database, env, workers=("--workers", str(workers))) as port:
        client = KeepAliveHTTP(port)
        check_sign_in(client, cookies, facts["member_name"])
        for _name, path, _target in pages:
            for viewer in viewers:
                status, _body, _ = client.get(path, cookies[viewer])
                if status != 200:
                    raise BenchError(f"GET {path} ({viewer}) answered {status}")
        client.close()
        for name, path, target in pages:
            for viewer in viewers:
                headers = [f"Cookie: session={cookies[viewer]}"] if cookies[viewer] else []
                wrk(port, path, connections, 1, headers=headers)  # warm every worker
                pairs = []
                for _ in range(rounds):
                    bare = wrk(port, "/bench/bare", connections, duration)
                    pairs.append((wrk(port, path, connections, duration, headers=headers), bare))
                # A bare run that answered nothing (a stalled machine) ranks its pair lowest.
                pairs.sort(key=lambda pair: pair[0]["rps"] / pair[1]["rps"] if pair[1]["rps"] else 0)
                page, bare = pairs[len(pairs) // 2]
                click.echo(f"  {label}: {name} ({viewer}): {page['rps']:.0f} req/s, bare {bare['rps']:.0f}")
                found.append((name, path, viewer, page, bare, target))
    return found


def report(label, found, workers, connections, duration, rounds, jobs):
    click.echo(f"\n{label}: gunicorn {workers} sync workers (marketplace.gunicorn_conf), {jobs:,} jobs; "
               f"wrk -t2 -c{connections} -d{duration}s, the bare route just before each page, the median ratio "
               f"of {rounds} such pair(s). "
               f"Load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}.")
    rows = []
    for name, path, viewer, page, bare, target in found:
        ratio = page["rps"] / bare["rps"] if bare["rps"] else 0
        short = [f"ratio < {target}"] if ratio < target else []
        short += [f"p99 >= {P99_MS} ms"] if page["p99"] >= P99_MS else []
        rows.append([f"{name} {path}", viewer, f"{page['rps']:.0f}", f"{page['p50']:.1f}", f"{page['p99']:.1f}",
                     f"{bare['rps']:.0f}", f"{ratio:.3f}", f"{target}", str(page["errors"]),
                     "; ".join(short) or "met"])
    print_table(["page", "viewer", "req/s", "p50 ms", "p99 ms", "bare req/s", "x bare", "target", "non-2xx",
                 ""], rows, align=["<", "<"] + [">"] * 7 + ["<"])
    ratios = [page["rps"] / bare["rps"] for *_, page, bare, _t in found if bare["rps"]]
    click.echo(f"Bare route: {statistics.median(b['rps'] for *_, b, _t in found):.0f} req/s median; "
               f"pages {min(ratios):.3f}–{max(ratios):.3f}x.")


def ensure_search_documents(pg_app):
    """The PostgreSQL copy's search documents, as a site has them (the skill pages count open
    jobs with them), written when the copy has none."""
    with pg_app.app_context():
        if db.session.scalar(select(func.count()).select_from(SearchDocument)):
            return
        start = time.perf_counter()
        indexed = search.rebuild(pg_app)
    click.echo(f"Indexed {indexed:,} documents for search in PostgreSQL in {time.perf_counter() - start:.1f} s.")


@click.command()
@click.option("--jobs", default=100_000, show_default=True)
@click.option("--coops", default=5_000, show_default=True)
@click.option("--database", default=os.path.join(HERE, "bench.db"), show_default=True,
              type=click.Path(dir_okay=False), help="The SQLite build (and the source of the PostgreSQL copy).")
@click.option("--backend", type=click.Choice(["sqlite", "postgres", "both"]), default="both", show_default=True)
@click.option("--postgres", default="postgresql+psycopg://postgres@127.0.0.1/bench_throughput", show_default=True,
              help="The PostgreSQL database the data is copied into (made when missing).")
@click.option("--connections", default=16, show_default=True)
@click.option("--duration", default=5, show_default=True, help="Seconds of each wrk run.")
@click.option("--rounds", default=1, show_default=True,
              help="Pairs of runs (bare route, page) per page and viewer; the median ratio is shown.")
@click.option("--workers", default=2, show_default=True, help="gunicorn sync workers.")
@click.option("--viewer", "viewers", multiple=True, type=click.Choice(VIEWERS), help="Default: both.")
@click.option("--only", "only", multiple=True, help="Only these addresses (as in the list, before filling in).")
def main(jobs, coops, database, backend, postgres, connections, duration, rounds, workers, viewers, only):
    """Every main page at 16 connections, anonymous and signed in, against the bare route."""
    database = os.path.abspath(database)
    ensure_database(database, jobs, coops)
    app = create_bench_app(database)
    facts = dataset.facts(app)
    pages = [(name, path.format(**facts), target) for name, path, target in PAGES if not only or path in only]
    viewers = viewers or VIEWERS
    # One load generator on one address is not an abuser: the API's rate limits would answer 429.
    env = {"SECRET_KEY": SECRET_KEY, "API_RATE_LIMIT": "10000000/minute",
           "API_ADDRESS_RATE_LIMIT": "10000000/minute"}
    servers = []
    if backend in ("sqlite", "both"):
        servers.append(("SQLite", env, member_cookie(app, facts["member_id"])))
    if backend in ("postgres", "both"):
        ensure_search_documents(copy_to_postgres(app, postgres, keep_documents=True))
        # Signed as the served app signs, for the member as the PostgreSQL copy has them.
        cookie = member_cookie(create_bench_app(SQLALCHEMY_DATABASE_URI=postgres), facts["member_id"])
        servers.append(("PostgreSQL", {**env, "BENCH_DATABASE_URL": postgres, "SEARCH_BACKEND": "postgres"},
                        cookie))
    results = []
    for label, server_env, cookie in servers:
        cookies = {"anonymous": None, "member": cookie}
        results.append((label, run_server(label, database, server_env, facts, cookies, pages, viewers,
                                          connections, duration, workers, rounds)))
    for label, found in results:
        report(label, found, workers, connections, duration, rounds, facts["jobs"])


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        sys.exit(f"bench_throughput: {error}")
