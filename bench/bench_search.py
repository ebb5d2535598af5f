"""Search benchmark: the Whoosh index, the PostgreSQL backend and SQLite's FTS5 over the same
100,000 jobs, in one run.

    .venv/bin/python bench/bench_search.py [--jobs 100000 --coops 5000] [--rounds 5]
        [--postgres postgresql+psycopg://postgres@127.0.0.1/bench_searchdb] [--procs N]

1. Builds (or reuses) bench/search-bench.db with the page benchmark's dataset builder.
2. Times the Whoosh index build (`search reindex`: read from the database, analyse, write).
3. Copies the data into PostgreSQL (when --postgres is given) and builds its documents.
4. Builds an FTS5 table over the same jobs in the SQLite file: the yardstick.
5. Runs 20 typical queries with facets, as a signed-in CoTech member, on each engine: one
   untimed round to warm caches, then --rounds timed rounds; prints median and 95th
   percentile. Then the same queries as whole search pages (HTTP handling, database check,
   snippets and the template included) on the Whoosh backend.

Targets: build under 2 minutes; Whoosh median under 30 ms; the page under 50 ms; the PostgreSQL
backend's median under 30 ms and 95th percentile under 100 ms. ``--engines postgres`` runs one.
"""
import math
import os
import statistics
import sys
import tempfile
import time

import click
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for path in (ROOT, HERE):
    if path not in sys.path:
        sys.path.insert(0, path)

import dataset  # noqa: E402
from bench_pages import InProcess, ensure_database, member_cookie, print_table  # noqa: E402
from wsgi_bench import create_bench_app  # noqa: E402

from marketplace import create_app  # noqa: E402
from marketplace.core.time import utcnow  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from marketplace.federation import job_visibility_clause, viewer_for  # noqa: E402
from marketplace.search.models import SearchDocument  # noqa: E402

# (words, facets and order) as people type and click them; the dataset's vocabulary.
QUERIES = (
    ("booking system", {}),
    ("accessible website", {"state": "open"}),
    ("housing association", {"kind": "tender"}),
    ("data dashboard", {"state": "open", "sort": "closing"}),
    ("community energy", {"mode": "remote"}),
    ('"open data portal"', {}),
    ("donat*", {"state": "open"}),
    ("security review", {"budget": "day-rate"}),
    ("membership crm", {"visibility": "public"}),
    ("climate campaign", {"sort": "newest"}),
    ("learning platform university", {}),
    ("website", {"location": "leeds"}),
    ("refugee charity", {"state": "open", "kind": "lead"}),
    ("api integration", {"state": "open", "mode": "hybrid"}),
    ("volunteer rota", {"skill": "{skill}"}),
    ("wcag", {"state": "open"}),
    ("single sign-on", {}),
    ("self-hosted newsletter", {"page": 2}),
    ("mobile app credit union", {"state": "open", "sort": "newest"}),
    ("migration hosting -wordpress", {"budget": "20k-50k"}),
)
COPY_TABLES = ("network", "skill", "coop", "network_membership", "coop_skill", "user", "coop_member",
               "network_coordinator", "job", "job_skill")


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary(seconds):
    return statistics.median(seconds) * 1000, percentile(seconds, 0.95) * 1000


def requests_for(skill):
    """(label, SearchRequest arguments) of the 20 queries."""
    from marketplace.search import SearchRequest
    from marketplace.search.query import parse

    out = []
    for words, options in QUERIES:
        options = dict(options)
        sort = options.pop("sort", "relevance")
        page = options.pop("page", 1)
        filters = {k: (v.format(skill=skill) if isinstance(v, str) else v) for k, v in options.items()}
        label = words + "".join(f" [{k}={v}]" for k, v in filters.items()) + \
            (f" [{sort}]" if sort != "relevance" else "") + (f" [page {page}]" if page > 1 else "")
        out.append((label, SearchRequest(query=parse(words), filters=filters, sort=sort, page=page), options))
    return out


def timed(function, rounds):
    """(cold seconds, [timed seconds]) of ``function()``: one untimed round first."""
    started = time.perf_counter()
    result = function()
    cold = time.perf_counter() - started
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - started)
    return cold, seconds, result


# --- engines -------------------------------------------------------------------------------------

def whoosh_build(app, procs):
    from marketplace.search import backend, rebuild

    with app.app_context():
        engine = backend(app)
        if procs:
            engine.build_procs = procs
        started = time.perf_counter()
        with click.progressbar(length=dataset.counts(app.config["BENCH_PATH"])[0] + 5000,
                               label="Whoosh build ") as bar:
            count = rebuild(app, progress=bar.update)
        return count, time.perf_counter() - started


def run_engine(app, requests, viewer_id, rounds):
    """{label: (cold, [seconds], total)} of query_index on the app's backend."""
    from marketplace.accounts.models import User
    from marketplace.search import query_index

    results = {}
    with app.app_context():
        viewer = viewer_for(db.session.get(User, viewer_id))
        for label, request, _ in requests:
            cold, seconds, result = timed(lambda: query_index(request, viewer), rounds)
            results[label] = (cold, seconds, result.total)
            db.session.rollback()
    return results


def copy_to_postgres(sqlite_app, url, keep_documents=False):
    """The bench data in PostgreSQL (the tables search reads), unless already there; the search
    documents table is made anew in the models' shape unless ``keep_documents``."""
    pg_app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SEARCH_BACKEND": "postgres"})
    with sqlite_app.app_context():
        source = db.engine
        wanted = {t: db.session.scalar(text(f'SELECT count(*) FROM "{t}"')) for t in COPY_TABLES}
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = make_url(url).database
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    with pg_app.app_context():
        if not keep_documents:
            SearchDocument.__table__.drop(db.engine, checkfirst=True)
        db.create_all()
        have = {t: db.session.scalar(text(f'SELECT count(*) FROM "{t}"')) for t in COPY_TABLES}
        if have == wanted:
            click.echo(f"Reusing the PostgreSQL copy in {name}.")
            _ensure_revision()
            return pg_app
        started = time.perf_counter()
        names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        db.session.commit()
        tables = {t.name: t for t in db.metadata.sorted_tables}
        with source.connect() as src, db.engine.begin() as dst:
            for table_name in COPY_TABLES:
                table = tables[table_name]
                rows = src.execute(select(table)).mappings()
                chunk = []
                for row in rows:
                    chunk.append(dict(row))
                    if len(chunk) == 5000:
                        dst.execute(insert(table), chunk)
                        chunk = []
                if chunk:
                    dst.execute(insert(table), chunk)
                if "id" in table.c:
                    dst.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table_name}\"', 'id'), "
                                     f"(SELECT max(id) FROM \"{table_name}\"))"))
            dst.exec_driver_sql("ANALYZE")
        _ensure_revision()
        click.echo(f"Copied the data into PostgreSQL ({name}) in {time.perf_counter() - started:.1f} s.")
    return pg_app


def _ensure_revision():
    """The site revision's row, which the copy's TRUNCATE removed: without it no page part is
    cached (``core.revision.current()`` is None), and the served app would be measured uncached."""
    from marketplace.core.revision import SiteRevision, new_token

    if db.session.get(SiteRevision, 1) is None:
        db.session.add(SiteRevision(id=1, token=new_token()))
        db.session.commit()


def fts5_build(app):
    with app.app_context(), db.engine.begin() as conn:
        exists = conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'bench_fts'")).scalar()
        started = time.perf_counter()
        if not exists:
            conn.exec_driver_sql(
                "CREATE VIRTUAL TABLE bench_fts USING fts5(title, summary, description, "
                "tokenize = 'porter unicode61')")
            conn.exec_driver_sql(
                "INSERT INTO bench_fts (rowid, title, summary, description) "
                "SELECT id, title, summary, description FROM job")
        return exists, time.perf_counter() - started


def fts5_expression(parsed):
    """The parsed query as an FTS5 MATCH string (every word quoted)."""
    from marketplace.search.query import And, Not, Text

    def node(n):
        if isinstance(n, Text):
            words = [w for w in "".join(c if c.isalnum() else " " for c in n.text).split()]
            if not words:
                return None
            if n.prefix:
                return f'"{words[0]}"*'
            return '"' + " ".join(words) + '"'
        if isinstance(n, Not):
            return None
        parts = [p for p in (node(i) for i in n.items) if p]
        return "(" + (" AND " if isinstance(n, And) else " OR ").join(parts) + ")" if parts else None

    positive = " OR ".join(p for p in (node(c) for c in parsed.clauses) if p)
    negative = [p for p in (node(c) for c in parsed.excluded) if p]
    return f"({positive})" + "".join(f" NOT {n}" for n in negative)


def fts5_facets(base, filters):
    """{facet: [(value, count)]} over the job tables, each facet counted with every other
    facet's filter: one grouped statement per facet (the plain SQL way)."""
    from marketplace.jobs.models import Job, job_skill
    from marketplace.skills.models import Skill

    facets = {}
    for name in ("kind", "state", "visibility", "budget", "mode", "skill", "location", "coop"):
        matching = select(base.where(*[f for other, f in filters.items() if other != name]).subquery().c.id)
        if name == "skill":
            stmt = (select(Skill.slug, func.count()).join(job_skill, job_skill.c.skill_id == Skill.id)
                    .where(job_skill.c.job_id.in_(matching)).group_by(Skill.slug))
        else:
            expr = fts5_column(name)
            stmt = select(expr, func.count()).select_from(Job).where(Job.id.in_(matching)).group_by(expr)
        facets[name] = db.session.execute(stmt).all()
    return facets


def fts5_column(name):
    from marketplace.jobs.models import Job
    from marketplace.search.documents import budget_band_expression

    return {"kind": Job.kind, "state": Job.state, "visibility": Job.visibility, "budget": budget_band_expression(),
            "mode": Job.work_mode, "location": func.lower(func.trim(Job.location)), "coop": Job.coop_id}[name]


def fts5_filter(name, value):
    from sqlalchemy import exists

    from marketplace.jobs.models import Job, job_skill
    from marketplace.skills.models import Skill

    if name == "skill":
        return exists().where(job_skill.c.job_id == Job.id, job_skill.c.skill_id == Skill.id, Skill.slug == value)
    return fts5_column(name) == (int(value) if name == "coop" else value)


def run_fts5(app, requests, viewer_id, rounds):
    """FTS5 with the same facets (plain SQL over the job tables) and a bm25 page."""
    from sqlalchemy import Column, Integer, MetaData, Table, literal_column

    from marketplace.accounts.models import User
    from marketplace.jobs.models import Job

    fts = Table("bench_fts", MetaData(), Column("rowid", Integer))
    results = {}
    with app.app_context():
        viewer = viewer_for(db.session.get(User, viewer_id))
        for label, request, _ in requests:
            match = fts5_expression(request.query)

            def run():
                now = utcnow()
                matched = [literal_column("bench_fts").op("MATCH")(match), job_visibility_clause(viewer)]
                base = select(Job.id).select_from(fts).join(Job, Job.id == fts.c.rowid).where(*matched)
                filters = {name: fts5_filter(name, value) for name, value in request.filters.items()}
                total = db.session.scalar(select(func.count()).select_from(base.where(*filters.values()).subquery()))
                fts5_facets(base, filters)
                order = [literal_column("bm25(bench_fts, 10.0, 3.0, 1.0)")]
                if request.sort == "newest":
                    order = [Job.published_at.desc()]
                elif request.sort == "closing":
                    order = [(Job.bids_deadline > now).desc(), Job.bids_deadline]
                db.session.execute(base.where(*filters.values()).order_by(*order)
                                   .limit(request.per_page).offset((request.page - 1) * request.per_page)).all()
                return total

            cold, seconds, total = timed(run, rounds)
            results[label] = (cold, seconds, total)
    return results


def run_pages(app, requests, cookie, rounds):
    """The whole search page (in-process, as the page benchmark measures pages)."""
    from urllib.parse import urlencode

    client = InProcess(app)
    results = {}
    for label, request, options in requests:
        args = {"q": request.query.text, **request.filters}
        if request.sort != "relevance":
            args["sort"] = request.sort
        if request.page > 1:
            args["page"] = request.page
        url = "/search?" + urlencode(args)

        def get():
            status, body, *_ = client.get(url, cookie)
            if status != 200:
                raise click.ClickException(f"GET {url} answered {status}")
            return body

        cold, seconds, _ = timed(get, rounds)
        results[label] = (cold, seconds, None)
    return results


# --- main ------------------------------------------------------------------------------------------

@click.command()
@click.option("--jobs", default=100_000, show_default=True)
@click.option("--coops", default=5_000, show_default=True)
@click.option("--rounds", default=5, show_default=True, help="Timed rounds of the 20 queries.")
@click.option("--database", default=os.path.join(HERE, "search-bench.db"), show_default=True,
              type=click.Path(dir_okay=False))
@click.option("--index", "index_path", default=os.path.join(tempfile.gettempdir(), "marketplace-bench-index"),
              show_default=True, help="Where the Whoosh index is built.")
@click.option("--postgres", default="postgresql+psycopg://postgres@127.0.0.1/bench_searchdb",
              show_default=True, help="PostgreSQL database for the PostgreSQL backend ('' to skip).")
@click.option("--engines", default="whoosh,postgres,fts5,page", show_default=True,
              help="Which to run, of whoosh, postgres, fts5 and page (the Whoosh search page).")
@click.option("--reuse-documents", is_flag=True,
              help="Keep the PostgreSQL documents of the last run (after a change of their code: rebuild).")
@click.option("--procs", type=int, default=None,
              help="Processes building the Whoosh index (default: SEARCH_BUILD_PROCS, the CPUs up to 4).")
def main(jobs, coops, rounds, database, index_path, postgres, engines, reuse_documents, procs):
    """Benchmark search at scale: build time and query latency on three engines."""
    database = os.path.abspath(database)
    ensure_database(database, jobs, coops)
    app = create_bench_app(database, SEARCH_BACKEND="whoosh", SEARCH_INDEX_PATH=index_path)
    app.config["BENCH_PATH"] = database
    facts = dataset.facts(app)
    requests = requests_for(facts["skill"])
    click.echo(f"{facts['jobs']:,} jobs ({facts['open']:,} open), {coops:,} co-ops; SQLite {facts['sqlite']}; "
               f"viewer: the CoTech member (user {facts['member_id']}); {rounds} timed rounds of "
               f"{len(requests)} queries after one untimed round.\n")

    wanted = {name.strip() for name in engines.split(",") if name.strip()}
    engines, targets = {}, []
    count = facts["jobs"] + coops
    if "whoosh" in wanted:
        count, build_seconds = whoosh_build(app, procs)
        with app.app_context():
            procs = procs or app.config["SEARCH_BUILD_PROCS"]
        click.echo(f"Whoosh index: {count:,} documents in {build_seconds:.1f} s "
                   f"({count / build_seconds:,.0f} a second, {procs} process(es)); "
                   f"{_size(index_path) / 1e6:,.0f} MB on disk.")
        targets.append(("build", build_seconds, 120, "s"))
        engines["Whoosh"] = run_engine(app, requests, facts["member_id"], rounds)

    if postgres and "postgres" in wanted:
        pg_app = postgres_app(app, postgres, count, reuse_documents)
        engines["PostgreSQL"] = run_engine(pg_app, requests, facts["member_id"], rounds)

    if "fts5" in wanted:
        reused, fts_seconds = fts5_build(app)
        click.echo("FTS5 table: reused." if reused else f"FTS5 table: built in {fts_seconds:.1f} s.")
        engines["SQLite FTS5"] = run_fts5(app, requests, facts["member_id"], rounds)

    if "page" in wanted:
        cookie = member_cookie(app, facts["member_id"])
        engines["Whoosh page"] = run_pages(app, requests, cookie, rounds)

    click.echo("\nPer query, median ms over the timed rounds (results found):")
    names = list(engines)
    rows = []
    for label, _, _ in requests:
        row = [label]
        for name in names:
            cold, seconds, total = engines[name][label]
            row.append(f"{statistics.median(seconds) * 1000:.1f}" + (f" ({total:,})" if total is not None else ""))
        rows.append(row)
    print_table(["query"] + names, rows)

    click.echo("\nAll 20 queries:")
    rows = []
    for name in names:
        every = [s for _, seconds, _ in engines[name].values() for s in seconds]
        cold = [c for c, _, _ in engines[name].values()]
        median, p95 = summary(every)
        rows.append([name, f"{median:.1f}", f"{p95:.1f}", f"{statistics.median(cold) * 1000:.1f}",
                     f"{max(cold) * 1000:.1f}"])
    print_table(["engine", "median ms", "p95 ms", "first-run median ms", "first-run max ms"], rows)
    for name, target_median, target_p95 in (("Whoosh", 30, None), ("PostgreSQL", 30, 100), ("Whoosh page", 50, None)):
        if name in engines:
            median, p95 = summary([s for _, seconds, _ in engines[name].values() for s in seconds])
            targets.append((f"{name} median", median, target_median, "ms"))
            if target_p95:
                targets.append((f"{name} p95", p95, target_p95, "ms"))
    click.echo("\nTargets: " + "; ".join(
        f"{what} {value:.1f} {unit} (< {limit} {unit}): {'met' if value < limit else 'MISSED'}"
        for what, value, limit, unit in targets) + f". Load average: {os.getloadavg()[0]:.2f}.")


def postgres_app(app, url, count, reuse_documents=False):
    """The bench data copied into PostgreSQL, with the PostgreSQL backend's documents built
    (or, with ``reuse_documents``, those of the last run kept)."""
    from marketplace.search import rebuild

    pg_app = copy_to_postgres(app, url, keep_documents=reuse_documents)
    pg_app.config["SEARCH_BACKEND"] = "postgres"
    if reuse_documents:
        return pg_app
    with pg_app.app_context():
        started = time.perf_counter()
        with click.progressbar(length=count, label="PostgreSQL documents") as bar:
            pg_count = rebuild(pg_app, progress=bar.update)
        db.session.execute(text("ANALYZE search_document"))
        db.session.commit()
    click.echo(f"PostgreSQL documents: {pg_count:,} in {time.perf_counter() - started:.1f} s.")
    return pg_app


def _size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


if __name__ == "__main__":
    main()
