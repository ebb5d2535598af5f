"""Feed benchmark: outgoing feeds among 100,000 jobs, and importing 1,000-entry feeds.

    .venv/bin/python bench/bench_feeds.py [--jobs 100000 --coops 5000] [--runs 30] [--entries 1000]
    .venv/bin/python bench/bench_feeds.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_feeds

Builds (or reuses) a bench database with the page benchmark's builder (bench/dataset.py), then
times in this process, against a bare Flask route in the same run:

- the feed of the newest 50 jobs (Atom and RSS), a per-skill feed, a saved search, a member's
  private feed, and a conditional GET answered 304;
- importing each ``--feed`` of ``--entries`` entries served over HTTP on 127.0.0.1 (target:
  under 2 s), then fetching it again unchanged: answered 304, then from a server that ignores
  conditional GET (same body), then forced to parse and compare every entry, then with only
  the feed's own date changed, its entries not (target: under 0.5 s; nothing written but the
  source's own row); then a fetch with ten entries changed. The feeds: ``ocds`` and
  ``rss`` are of real size and shape, built from real samples (bench/real_feeds.py);
  ``synthetic`` is the small generated forum feed of earlier runs.

``--database-url`` runs the imports alone against that database (PostgreSQL, or another SQLite
file), in a small world made there: its tables are dropped and made again. Its search index
is built with it, so imported jobs are indexed on commit, inside the first import's time (the
table's "of which search index" column, and the summary, say how much of it).

The imported jobs are deleted at the end, so the database stays what the builder made.
"""
import atexit
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import date, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import click
from sqlalchemy import delete, func, select

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for path in (ROOT, HERE):
    if path not in sys.path:
        sys.path.insert(0, path)

import dataset  # noqa: E402
import real_feeds  # noqa: E402
from bench_pages import BenchError, ensure_database, print_table, recorded_statements, summary  # noqa: E402
from wsgi_bench import create_bench_app  # noqa: E402

from marketplace import create_app  # noqa: E402
from marketplace.accounts.models import User  # noqa: E402
from marketplace.audit.models import AuditEvent  # noqa: E402
from marketplace.coops.models import Coop, CoopMember  # noqa: E402
from marketplace.core.time import utcnow  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from marketplace.feeds import services  # noqa: E402
from marketplace.feeds.ingest import fetch_source  # noqa: E402
from marketplace.feeds.models import FeedSource, FeedToken, ImportedEntry  # noqa: E402
from marketplace.jobs.models import Job  # noqa: E402

DEFAULT_DATABASE = os.path.join(HERE, "bench-feeds.db")
INGEST_TARGET_SECONDS = 2.0
REFETCH_TARGET_SECONDS = 0.5
FEEDS = {  # name: (source kind, content type, builder(entries, now, changed=0))
    "ocds": ("ocds", "application/json", real_feeds.ocds_package),
    "rss": ("rss", "application/rss+xml; charset=utf-8", real_feeds.discourse_rss),
}


# --- a feed to import ----------------------------------------------------------------------------

TECH = ("Python and Django", "WordPress", "React and TypeScript", "PostgreSQL", "Drupal", "Node.js",
        "Ruby on Rails", "Docker on Debian", "Nextcloud", "accessibility (WCAG 2.2 AA)", "user research",
        "branding", "SEO", "data visualisation", "mobile apps for iOS and Android", "DevOps")


def make_feed(entries, now, changed=0):
    """A Discourse-like RSS feed of ``entries`` items, newest first; the first ``changed`` items
    carry an edited title."""
    import random
    from xml.sax.saxutils import escape

    rng = random.Random(7)
    items = []
    for n in range(entries):
        thing = rng.choice(dataset.THINGS)
        client = rng.choice(dataset.CLIENTS)
        town = rng.choice(dataset.TOWNS)
        tech = rng.sample(TECH, 2)
        title = f"{rng.choice(dataset.ADJECTIVES)} {thing} for {client} ({n})"
        if n < changed:
            title += " (updated)"
        scope = "".join(f"<li>{escape(s)}</li>" for s in rng.sample(dataset.SCOPES, 3))
        body = (f"<p>We are looking for a co-op to build a {escape(thing)} for {escape(client)} in {town}, "
                f"using {escape(tech[0])} and {escape(tech[1])}.</p><ul>{scope}</ul>"
                f"<p>Budget about £{rng.randrange(2000, 90000, 500):,}.</p>")
        published = now - timedelta(minutes=17 * n + 5)
        items.append(
            f"<item><title>{escape(title)}</title><category>Jobs</category>"
            f"<description><![CDATA[{body}]]></description>"
            f"<link>https://forum.bench.example/t/{n}</link>"
            f"<pubDate>{format_datetime(published.replace(tzinfo=timezone.utc))}</pubDate>"
            f"<guid isPermaLink=\"false\">forum.bench.example-topic-{n}</guid></item>"
        )
    return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            "<title>Latest Jobs topics - Bench Forum</title><link>https://forum.bench.example/c/jobs</link>"
            "<description>Jobs</description>" + "".join(items) + "</channel></rss>").encode("utf-8")


FEEDS["synthetic"] = ("rss", "application/rss+xml; charset=utf-8", make_feed)


class FeedServer:
    """One feed on 127.0.0.1 with an ETag and Last-Modified; can ignore conditional GET."""

    def __init__(self, content_type="application/rss+xml; charset=utf-8"):
        self.body = b""
        self.content_type = content_type
        self.honour_conditional = True
        self.last_modified = format_datetime(utcnow().replace(tzinfo=timezone.utc), usegmt=True)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                etag = '"' + hashlib.sha1(server.body).hexdigest() + '"'
                if server.honour_conditional and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", server.content_type)
                self.send_header("Content-Length", str(len(server.body)))
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", server.last_modified)
                self.end_headers()
                self.wfile.write(server.body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_port}/c/jobs.rss"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@contextmanager
def search_indexing_time():
    """Seconds spent applying the search queue after commits inside the block (``[seconds]``):
    the search module's share of an import, told apart from the feed's own."""
    spent = [0.0]
    try:
        import marketplace.search as search
    except ImportError:
        yield spent
        return
    original = getattr(search, "drain_quietly", None)
    if original is None:
        yield spent
        return

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start

    search.drain_quietly = timed
    try:
        yield spent
    finally:
        search.drain_quietly = original


# --- outgoing feeds ----------------------------------------------------------------------------------

def timed_get(client, url, runs, warmup, headers=None, expect=200):
    for _ in range(warmup):
        client.get(url, headers=headers or {})
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url, headers=headers or {})
        seconds.append(time.perf_counter() - start)
        if response.status_code != expect:
            raise BenchError(f"GET {url} answered {response.status_code}, not {expect}")
    return summary(seconds)


def count_statements(app, client, url, headers=None):
    with app.app_context():
        engine = db.engine
    with recorded_statements(engine) as records:
        client.get(url, headers=headers or {})
    return len(records), sum(r[2] for r in records) * 1000


def outgoing(app, facts, runs, warmup):
    with app.app_context():
        token, plain = services.create_token(db.session.get(User, facts["member_id"]), "bench")
        db.session.commit()
        token_id = token.id
    client = app.test_client(use_cookies=False)
    pages = [
        ("bare Flask route", "/bench/bare"),
        ("newest 50, Atom", "/feeds/jobs.atom"),
        ("newest 50, RSS", "/feeds/jobs.rss"),
        (f"per skill ({facts['skill']}), Atom", f"/feeds/skills/{facts['skill']}.atom"),
        ("saved search (skill + kind), RSS", f"/feeds/jobs.rss?skill={facts['skill']}&kind=tender"),
        ("member's private feed, Atom", f"/feeds/private/{plain}/jobs.atom"),
    ]
    rows, bare = [], None
    try:
        with click.progressbar(pages, label="Outgoing feeds") as bar:
            for label, url in bar:
                response = client.get(url)
                if response.status_code != 200:
                    raise BenchError(f"GET {url} answered {response.status_code}")
                n_sql, sql_ms = count_statements(app, client, url)
                timing = timed_get(client, url, runs, warmup)
                bare = bare or timing
                rows.append([label, n_sql, f"{sql_ms:.1f}", f"{timing['median']:.2f}", f"{timing['p95']:.2f}",
                             f"{timing['median'] / bare['median']:.1f}", f"{len(response.data) / 1024:.0f}"])
                if url.startswith("/feeds/jobs.atom"):
                    etag = response.headers["ETag"]
                    headers = {"If-None-Match": etag}
                    n_sql, sql_ms = count_statements(app, client, url, headers)
                    timing = timed_get(client, url, runs, warmup, headers, expect=304)
                    rows.append(["newest 50, Atom, 304 (If-None-Match)", n_sql, f"{sql_ms:.1f}",
                                 f"{timing['median']:.2f}", f"{timing['p95']:.2f}",
                                 f"{timing['median'] / bare['median']:.1f}", "0"])
    finally:
        with app.app_context():
            db.session.execute(delete(AuditEvent).where(AuditEvent.target_type == "feed_token"))
            db.session.execute(delete(FeedToken).where(FeedToken.id == token_id))
            db.session.commit()
    print_table(["feed", "SQL", "SQL ms", "median ms", "p95 ms", "x bare", "KiB"], rows)


# --- ingest ---------------------------------------------------------------------------------------------

def writes(records):
    """The statements among ``records`` that change rows, but the source's own row (its fetch
    times and the hash of the body it last read)."""
    return sum(1 for r in records if r[0].lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")
               and not r[0].lstrip().upper().startswith("UPDATE FEED_SOURCE SET"))


def ingest(app, feed, entries, repeat, with_search, coop_id, user_email):
    """Import one feed of ``entries`` entries and fetch it again in the ways a source is fetched;
    returns (first import seconds, forced refetch seconds, rows written by the refetches)."""
    kind, content_type, build = FEEDS[feed]
    server = FeedServer(content_type)
    with app.app_context():
        now = utcnow()
        server.body = build(entries, now)
        coordinator = db.session.scalar(select(User).where(User.email == user_email))
        coop = db.session.get(Coop, coop_id)
        jobs_before = db.session.scalar(select(func.count()).select_from(Job))
        # Sources import in the name of a co-op their coordinator belongs to; the bench's feed
        # server is on this machine, which a site must name to fetch from.
        if not coordinator.is_member_of(coop):
            db.session.add(CoopMember(coop=coop, user=coordinator, role="member"))
        app.config["FEED_ALLOWED_HOSTS"] = "127.0.0.1"
        source = services.create_source(coordinator, {
            "name": f"Bench {feed}", "url": server.url, "kind": kind, "coop": coop, "visibility": "public",
            "job_kind": "tender" if kind == "ocds" else "lead", "active": True, "fetch_interval_minutes": 60,
        }, [])
        db.session.commit()
        source_id = source.id
    click.echo(f"{feed}: {entries:,} entries, {len(server.body) / 1e6:.1f} MB")
    rows, refetch_writes = [], 0

    def run(label, prepare=None, force=False, times=1):
        nonlocal refetch_writes
        seconds, cpu, indexing, report, n_sql, n_writes = [], [], [], None, 0, 0
        for _ in range(times):
            if prepare:
                prepare()
            with app.app_context(), app.test_request_context(base_url=app.config["SITE_URL"]):
                with recorded_statements(db.engine) as records, search_indexing_time() as spent:
                    started = time.process_time()
                    report = fetch_source(db.session.get(FeedSource, source_id), force=force)
                    cpu.append(time.process_time() - started)
                n_sql, n_writes = len(records), writes(records)
            if not report.ok:
                raise BenchError(f"{feed}, {label}: {report.error}")
            seconds.append(report.seconds)
            indexing.append(spent[0])
        median = statistics.median(seconds)
        index_median = statistics.median(indexing)
        rows.append([label, report.outcome, report.created, report.updated, report.unchanged, n_sql, n_writes,
                     f"{median * 1000:.1f}", f"{max(seconds) * 1000:.1f}", f"{statistics.median(cpu) * 1000:.1f}",
                     f"{index_median * 1000:.1f}", f"{(median - index_median) * 1000:.1f}"])
        return median, n_writes, statistics.median(cpu), index_median

    try:
        first, _, first_cpu, first_index = run(f"first fetch: {entries:,} new entries")
        run("again, unchanged: 304", times=repeat)

        def ignore_conditional():
            server.honour_conditional = False

        run("again, server ignores conditional GET", prepare=ignore_conditional, times=repeat)
        forced, forced_writes, _, _ = run("again, forced: parse and compare all", force=True, times=max(3, repeat // 5))

        stamps = iter(range(1, 10**6))

        def restamp():  # a new date at each fetch, a second apart
            server.body = restamped(kind, build(entries, now), now + timedelta(seconds=next(stamps)))

        # What a refetch usually meets: the feed's own date moved (Discourse's lastBuildDate,
        # an OCDS package's publishedDate), its entries did not; none of them is read.
        unread, refetch_writes, _, _ = run("again, only the feed's date changed", prepare=restamp,
                                           times=max(3, repeat // 5))
        refetch_writes += forced_writes

        def change_ten():
            server.body = build(entries, now, changed=10)

        run("10 entries changed", prepare=change_ten)
    finally:
        server.close()
        remove_imports(app, source_id)
        with app.app_context():
            left = db.session.scalar(select(func.count()).select_from(Job))
        if left != jobs_before:
            raise BenchError(f"clean-up left {left:,} jobs, not {jobs_before:,}")
    print_table(["fetch", "outcome", "new", "updated", "unchanged", "SQL", "writes", "median ms", "max ms",
                 "CPU ms", "of which search index ms", "without it ms"], rows,
                align=["<", "<"] + [">"] * 10)
    click.echo("(writes: statements that change rows, but the source's own row; CPU ms: this process's "
               "CPU time, the database server's not included: on a busy machine it says more than the clock.)")
    if not with_search:
        click.echo("(No search index: the imported jobs were queued for indexing, not indexed; "
                   "--with-search-index measures that too.)")
    click.echo(f"\n{feed}: first import of {entries:,} entries {first:.2f} s "
               f"(of which the search index {first_index:.2f} s; {first_cpu:.2f} s of this process's CPU) "
               f"({'within' if first < INGEST_TARGET_SECONDS else 'OVER'} the {INGEST_TARGET_SECONDS:.0f} s target); "
               f"refetch of unchanged entries in a changed feed {unread:.2f} s "
               f"({'within' if unread < REFETCH_TARGET_SECONDS else 'OVER'} the {REFETCH_TARGET_SECONDS} s target), "
               f"forced to read them all {forced:.2f} s; "
               f"{refetch_writes} writes{'' if not refetch_writes else ' (should be none)'}.\n")
    return first, unread, refetch_writes


def restamped(kind, body, moment):
    """The same feed, built again later: only its own date differs, not its entries."""
    if kind == "ocds":
        package = json.loads(body)
        package["publishedDate"] = moment.replace(microsecond=0).isoformat() + "Z"
        return json.dumps(package, indent=4, ensure_ascii=False).encode("utf-8")
    stamp = f"<lastBuildDate>{format_datetime(moment.replace(tzinfo=timezone.utc))}</lastBuildDate>"
    return body.replace(b"<channel>", b"<channel>" + stamp.encode(), 1)


def remove_imports(app, source_id):
    with app.app_context():
        job_ids = db.session.scalars(select(ImportedEntry.job_id).where(ImportedEntry.source_id == source_id)).all()
        for start in range(0, len(job_ids), 500):
            chunk = job_ids[start:start + 500]
            db.session.execute(delete(AuditEvent).where(AuditEvent.target_type == "job",
                                                        AuditEvent.target_id.in_(chunk)))
            db.session.execute(delete(Job).where(Job.id.in_(chunk)))
            queue = db.metadata.tables.get("search_queue")
            if queue is not None:  # what the import queued for the search index
                db.session.execute(delete(queue).where(queue.c.kind == "job", queue.c.object_id.in_(chunk)))
        db.session.execute(delete(AuditEvent).where(AuditEvent.target_type == "feed_source"))
        db.session.execute(delete(FeedSource).where(FeedSource.id == source_id))
        db.session.commit()


def small_world(url, index):
    """A database with the taxonomy, the two networks, one co-op of both and a site admin in it:
    all an import needs. Its tables are dropped and made again."""
    from marketplace.demo.data import NETWORKS
    from marketplace.federation.models import Network, NetworkMembership
    from marketplace.skills.services import load_taxonomy

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only-not-secret",
                      "SEARCH_INDEX_PATH": index})
    with app.app_context():
        db.drop_all()
        db.create_all()
        load_taxonomy()
        coop = Coop(name="Bench Co-op", slug="bench-co-op")
        for spec in NETWORKS:
            network = Network(**spec)
            db.session.add(network)
            coop.memberships.append(NetworkMembership(network=network, status="active", since=date(2020, 1, 1)))
        user = User(email="admin@bench.example.coop", name="Bench Admin", is_site_admin=True,
                    password_hash="!", email_verified_at=utcnow())
        db.session.add_all([coop, user, CoopMember(coop=coop, user=user, role="admin")])
        db.session.commit()
        return app, coop.id, user.email


def build_search_index(app):
    from marketplace.search import rebuild

    started = time.perf_counter()
    with app.app_context():
        count = rebuild()
    click.echo(f"Search index: {count:,} documents in {time.perf_counter() - started:.1f} s.\n")


# --- main ----------------------------------------------------------------------------------------------

@click.command()
@click.option("--jobs", default=100_000, show_default=True, help="Jobs in the bench database.")
@click.option("--coops", default=5_000, show_default=True, help="Co-ops in the bench database.")
@click.option("--runs", default=30, show_default=True, help="Timed requests per feed.")
@click.option("--warmup", default=3, show_default=True, help="Untimed requests before timing.")
@click.option("--entries", default=1000, show_default=True, help="Entries in each feed to import.")
@click.option("--feed", "feeds", multiple=True, type=click.Choice(sorted(FEEDS)), default=("ocds", "rss"),
              show_default=True, help="Feeds to import (repeatable).")
@click.option("--database", default=DEFAULT_DATABASE, show_default=True, type=click.Path(dir_okay=False),
              help="SQLite file to build or reuse (its own: the import adds and removes jobs).")
@click.option("--database-url", default=None,
              help="Import only, into a small world made in this database (dropped and made again).")
@click.option("--rebuild", is_flag=True, help="Build the database again even if it looks complete.")
@click.option("--with-search-index", "with_search", is_flag=True,
              help="Build the search index of the bench database first, so that the import's jobs are "
                   "indexed on commit as on a real site (without it they are only queued).")
def main(jobs, coops, runs, warmup, entries, feeds, database, database_url, rebuild, with_search):
    """Benchmark outgoing feeds and feed import."""
    index = tempfile.mkdtemp(prefix="bench-feeds-index-")
    atexit.register(shutil.rmtree, index, True)
    try:
        if database_url:
            app, coop_id, email = small_world(database_url, index)
            with app.app_context():
                click.echo(f"Small world in {db.engine.url.render_as_string(hide_password=True)} "
                           f"({db.engine.dialect.name}); {runs} timed refetches.\n")
        else:
            ensure_database(database, jobs, coops, rebuild)
            # A search index of its own, emptied after the run: the import's jobs are indexed on
            # commit, and their removal at the end goes round the ORM.
            app = create_bench_app(database, SEARCH_INDEX_PATH=index)
            facts = dataset.facts(app)
            if with_search:
                build_search_index(app)
            click.echo(f"{facts['jobs']:,} jobs ({facts['open']:,} open); skill '{facts['skill']}' on "
                       f"{facts['skill_jobs']:,} jobs; SQLite {facts['sqlite']}; {runs} timed runs after "
                       f"{warmup} warm-up per feed.\n")
            outgoing(app, facts, runs, warmup)
            click.echo()
            coop_id, email = dataset.MEMBER_COOP_ID, "coordinator1@bench.example.coop"
        for feed in feeds:
            # The small world's index is built when it is made (a new install's is), so its
            # imports are indexed on commit.
            ingest(app, feed, entries, runs, with_search or bool(database_url), coop_id, email)
        click.echo(f"Load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    except BenchError as error:
        click.echo(f"bench: error: {error}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
