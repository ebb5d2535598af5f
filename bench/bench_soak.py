"""Soak bench: mixed load on gunicorn and PostgreSQL (or SQLite) for N minutes, then the invariants checked in
the database, and each worker's memory every 30 seconds.

    .venv/bin/python bench/bench_soak.py --database-url postgresql+psycopg://postgres@127.0.0.1/soak \
        [--minutes 3] [--workers 4] [--clients 8]

The database named in the URL is dropped and made again. gunicorn runs as the README deploys it
(``-c python:marketplace.gunicorn_conf``). Clients (threads, one HTTP session each) browse, search,
post jobs and bid through the API with an Idempotency-Key (some retried with the same key, which
must answer the same job), withdraw their bids, and the posters award closed jobs on the web
(sometimes two members of the poster's co-op at once). Jobs posted during the run close within a few
minutes, so bids meet deadlines and awards follow. Every 30 s a line gives the requests so far, the
5xx answers, the load average, and per worker its resident memory (RSS, from /proc) and its search
cache and store of page parts (``marketplace_search_cache_bytes``, ``marketplace_page_cache_bytes``
from /metrics). After the run it checks, in the database:
one live bid per co-op and job, one award per job, no bid submitted after the job's deadline, and
an audit event for each change (job created, bid submitted, withdrawn, job awarded). See
bench/README.md.
"""
import calendar
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta

import click
import psycopg
import requests
from sqlalchemy import text
from sqlalchemy.engine import make_url

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from marketplace import create_app  # noqa: E402
from marketplace.coops.models import Coop  # noqa: E402
from marketplace.core.time import utcnow  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from tests.bids.load import session_cookie  # noqa: E402
from tests.factories import batch, bearer, make_coop, make_job, make_networks, make_skills, make_user  # noqa: E402
from tests.servers import _free_port  # noqa: E402

WORDS = ("website", "booking", "accessible", "python", "design", "audit", "migration", "platform", "data")
SAMPLE_SECONDS = 30
CSRF = re.compile(r'name="(award-(\d+)-csrf_token)"[^>]*value="([^"]+)"')


class Soak:
    """The shared state of the clients: known jobs, their bids, and what was answered."""

    def __init__(self, base, coops, seconds):
        self.base, self.coops, self.until = base, coops, time.monotonic() + seconds
        self.lock = threading.Lock()
        self.jobs = []  # (job_id, poster coop index, bids deadline as epoch seconds)
        self.bids = []  # (bid_id, token)
        self.statuses = Counter()  # (action, status)
        self.violations = []

    def count(self, action, status):
        with self.lock:
            self.statuses[(action, status)] += 1

    def add_job(self, job_id, poster, closes):
        with self.lock:
            self.jobs.append((job_id, poster, closes))

    def pick_job(self, open_=None):
        now = time.time()
        with self.lock:
            jobs = [j for j in self.jobs if open_ is None or (j[2] > now) == open_]
        return random.choice(jobs) if jobs else None


def call(soak, session, action, method, path, **kwargs):
    try:
        response = session.request(method, soak.base + path, timeout=60, **kwargs)
    except requests.RequestException as error:
        soak.count(action, "dropped")
        soak.violations.append(f"{action} {path}: no answer ({type(error).__name__})")
        return None
    soak.count(action, response.status_code)
    return response


# --- what a client does --------------------------------------------------------------------------

def browse(soak, session, member):
    job = soak.pick_job()
    path = random.choice(["/", "/jobs", "/coops/", f"/jobs/{job[0]}" if job else "/jobs?page=2"])
    call(soak, session, "browse", "GET", path, headers=_cookie(member["cookie"]) if random.random() < 0.5 else None)


def search(soak, session, member):
    word = random.choice(WORDS)
    if random.random() < 0.5:
        call(soak, session, "search", "GET", f"/search?q={word}")
    else:
        call(soak, session, "search", "GET", f"/api/v1/jobs?q={word}")


def post_job(soak, session, member):
    now = utcnow()
    closes = now + timedelta(seconds=random.randint(60, 240))
    body = {"title": f"Soak job {secrets.token_hex(3)} {random.choice(WORDS)}", "summary": "Posted by the soak bench",
            "skills": ["python"], "budget_min": 1000, "visibility": "public", "publish": True,
            "questions_deadline": (now + timedelta(seconds=30)).isoformat() + "Z",
            "bids_deadline": closes.isoformat() + "Z"}
    headers = {**member["token"], "Idempotency-Key": uuid.uuid4().hex}
    first = call(soak, session, "post", "POST", "/api/v1/jobs", json=body, headers=headers)
    if first is None or first.status_code != 201:
        return
    soak.add_job(first.json()["id"], member["coop"], calendar.timegm(closes.timetuple()))
    if random.random() < 0.2:  # a client unsure of its answer sends it again
        again = call(soak, session, "post-retry", "POST", "/api/v1/jobs", json=body, headers=headers)
        if again is not None and (again.status_code != 201 or again.json()["id"] != first.json()["id"]):
            soak.violations.append(f"retried post answered {again.status_code} {again.text[:100]}")


def bid(soak, session, member):
    job = soak.pick_job(open_=True)
    if job is None or job[1] == member["coop"]:
        return
    body = {"price_type": "fixed", "amount": random.randint(800, 5000), "proposal": "Soak proposal",
            "available_from": (utcnow() + timedelta(days=30)).date().isoformat(), "answers": [], "submit": True}
    answer = call(soak, session, "bid", "POST", f"/api/v1/jobs/{job[0]}/bids", json=body,
                  headers={**member["token"], "Idempotency-Key": uuid.uuid4().hex})
    if answer is not None and answer.status_code in (200, 201):
        with soak.lock:
            soak.bids.append((answer.json()["id"], member["token"]))


def withdraw(soak, session, member):
    with soak.lock:
        if not soak.bids:
            return
        bid_id, token = soak.bids.pop(random.randrange(len(soak.bids)))
    call(soak, session, "withdraw", "POST", f"/api/v1/bids/{bid_id}/withdraw",
         headers={**token, "Idempotency-Key": uuid.uuid4().hex})


def _cookie(session_cookie):
    return {"Cookie": f"session={session_cookie}"}


def award(soak, session, member):
    job = soak.pick_job(open_=False)
    if job is None:
        return
    forms = []
    for poster in soak.coops[job[1]]["members"][:1 + (random.random() < 0.3)]:  # now and then two at once
        browser = requests.Session()
        page = call(soak, browser, "award-page", "GET", f"/jobs/{job[0]}/bids", headers=_cookie(poster["cookie"]))
        found = CSRF.findall(page.text) if page is not None else []
        if found:  # the page put the CSRF secret in the session it sent back
            forms.append((browser, _cookie(page.cookies.get("session") or poster["cookie"]), found))
    if not forms:
        return
    chosen = random.choice(forms[0][2])[1]

    def send(browser, cookie, found):
        name, bid_id, token = next(f for f in found if f[1] == chosen)
        prefix = f"award-{bid_id}-"
        call(soak, browser, "award", "POST", f"/bids/{bid_id}/award", allow_redirects=False, headers=cookie,
             data={name: token, prefix + "agreed_value": "4000", prefix + "feedback": "",
                   prefix + "agreed_start": (utcnow() + timedelta(days=30)).date().isoformat(),
                   prefix + "others_feedback": ""})

    threads = [threading.Thread(target=send, args=form) for form in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


ACTIONS = ((browse, 35), (search, 15), (post_job, 8), (bid, 22), (withdraw, 7), (award, 5))
READS = ((browse, 35), (search, 15))  # --reads-only: the data stays as built, so memory can only grow by leaks


def client(soak, seed, actions=ACTIONS):
    rng = random.Random(seed)
    session = requests.Session()
    while time.monotonic() < soak.until:
        coop = rng.randrange(len(soak.coops))
        member = {**rng.choice(soak.coops[coop]["members"]), "coop": coop}
        action = rng.choices([a for a, _ in actions], [w for _, w in actions])[0]
        try:
            action(soak, session, member)
        except Exception as error:  # a broken bench must show, not quietly lose a client
            soak.violations.append(f"{action.__name__}: the client failed: {error!r}")


# --- the world, the server, the watch ------------------------------------------------------------

def fresh_database(url):
    """Drop the database of ``url`` and make it again (a SQLite file: remove it and its journal)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(parsed.database + suffix):
                os.remove(parsed.database + suffix)
        return
    admin = parsed.set(database="postgres").render_as_string(hide_password=False).replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')


def build(url, n_coops, n_jobs, secret):
    fresh_database(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1"})
    coops = []
    with app.app_context():
        db.create_all()
        make_skills(("Python", "Web design", "Accessibility"))
        cotech = make_networks()["cotech"]
        for n in range(n_coops):
            coop = make_coop(f"Soak Co-op {n}", {cotech: "active"})
            members = [make_user(f"Member {n}.{k}", coops={coop: "admin"}) for k in range(2)]
            coops.append({"id": coop.id, "members": [
                {"token": bearer(user), "cookie": session_cookie(app, user)} for user in members]})
        posters = [db.session.get(Coop, c["id"]) for c in coops]
        with batch():  # open for two weeks: browsed, searched and bid on throughout
            for n in range(n_jobs):
                make_job(posters[n % n_coops], "public", "open", title=f"Standing job {n} "
                         + " ".join(random.sample(WORDS, 3)), summary=" ".join(random.choices(WORDS, k=12)))
    return app, coops


def worker_pids(master):
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == master:
                        pids.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return sorted(pids)


def rss_mb(pid, field="VmRSS"):
    """A process's resident memory from /proc (``VmRSS``); ``RssAnon`` is the part of it that is
    the process's own heap, without the pages of mapped files (the search index's segments,
    shared libraries), which the kernel may drop and which grow as an index grows."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return int(next(line for line in status if line.startswith(field + ":")).split()[1]) / 1024
    except (OSError, StopIteration):
        return 0.0


def cache_bytes(base, metric="marketplace_search_cache_bytes"):
    """{pid: bytes} of a per-worker gauge: the search cache's, or (``marketplace_page_cache_bytes``)
    the store of shared page parts."""
    try:
        body = requests.get(base + "/metrics", timeout=30).text
    except requests.RequestException:
        return {}
    found = re.findall(metric + r'\{pid="(\d+)"\} ([0-9.e+]+)', body)
    return {int(pid): float(value) for pid, value in found}


def traced(base, scratch, name):
    """Each worker's allocations (bench/wsgi_memory.py) into a file of the scratch directory:
    asked as many times as there are workers, so that most likely each one answers."""
    path = os.path.join(scratch, f"trace-{name}.txt")
    with open(path, "a", encoding="utf-8") as out:
        for _ in range(3):
            try:
                out.write(requests.get(base + "/bench/memory", timeout=120).text + "\n")
            except requests.RequestException as error:
                out.write(f"no answer: {error!r}\n")
    click.echo(f"  allocations ({name}) in {path}")


def watch(soak, master, started, curve, trace_to=None):
    while time.monotonic() < soak.until + 1:
        time.sleep(min(SAMPLE_SECONDS, max(0.1, soak.until - time.monotonic() + 1)))
        with soak.lock:
            total = sum(soak.statuses.values())
            errors = sum(n for (_, status), n in soak.statuses.items() if isinstance(status, int) and status >= 500)
        pids, cache = worker_pids(master), cache_bytes(soak.base)
        parts = cache_bytes(soak.base, "marketplace_page_cache_bytes")
        row = (time.monotonic() - started, total, errors, os.getloadavg()[0],
               {pid: (rss_mb(pid), cache.get(pid, 0) / 2**20, rss_mb(pid, "RssAnon"), parts.get(pid, 0) / 2**20)
                for pid in pids})
        curve.append(row)
        click.echo(f"{row[0] / 60:5.1f} min  {total:7d} requests  {errors:4d} 5xx  load {row[3]:4.1f}  " + "  ".join(
            f"{pid}: {mb:6.1f} MB (anon {anon:6.1f}, cache {c * 1024:6.1f} KB, parts {p:4.1f} MB)"
            for pid, (mb, c, anon, p) in row[4].items()))
        if trace_to and (len(curve) == 1 or time.monotonic() >= soak.until):
            traced(soak.base, trace_to, "warm-up" if len(curve) == 1 else "end")


INVARIANTS = {
    "two live bids of one co-op on one job": """
        SELECT count(*) FROM (SELECT job_id, coop_id FROM bid WHERE status IN ('draft', 'submitted', 'shortlisted',
        'awarded') AND consortium_id IS NULL GROUP BY job_id, coop_id HAVING count(*) > 1) t""",
    "jobs with more than one awarded bid": """
        SELECT count(*) FROM (SELECT job_id FROM bid WHERE status = 'awarded' GROUP BY job_id HAVING count(*) > 1) t""",
    "jobs awarded more than once (job.awarded events)": """
        SELECT count(*) FROM (SELECT target_id FROM audit_event WHERE action = 'job.awarded'
        GROUP BY target_id HAVING count(*) > 1) t""",
    "awarded jobs without a job.awarded event": """
        SELECT count(*) FROM job WHERE status = 'awarded' AND NOT EXISTS (SELECT 1 FROM audit_event e
        WHERE e.action = 'job.awarded' AND e.target_id = job.id)""",
    "bids submitted after the job's deadline": """
        SELECT count(*) FROM bid JOIN job ON job.id = bid.job_id WHERE bid.submitted_at > job.bids_deadline""",
    "jobs without exactly one job.created event": """
        SELECT count(*) FROM job WHERE title LIKE 'Soak job %' AND (SELECT count(*) FROM audit_event e
        WHERE e.action = 'job.created' AND e.target_id = job.id) <> 1""",
    "submitted bids without exactly one bid.submitted event": """
        SELECT count(*) FROM bid WHERE submitted_at IS NOT NULL AND (SELECT count(*) FROM audit_event e
        WHERE e.action = 'bid.submitted' AND e.target_id = bid.id) <> 1""",
    "withdrawn bids without exactly one bid.withdrawn event": """
        SELECT count(*) FROM bid WHERE status = 'withdrawn' AND (SELECT count(*) FROM audit_event e
        WHERE e.action = 'bid.withdrawn' AND e.target_id = bid.id) <> 1""",
}


@click.command()
@click.option("--database-url", required=True,
              help="PostgreSQL URL, or sqlite:///FILE; the database is dropped and made again.")
@click.option("--minutes", default=3.0, show_default=True, help="How long the load runs.")
@click.option("--workers", default=4, show_default=True, help="gunicorn workers.")
@click.option("--clients", default=8, show_default=True, help="Concurrent clients (threads).")
@click.option("--coops", default=40, show_default=True, help="Co-ops, each with two members holding API tokens.")
@click.option("--jobs", default=1000, show_default=True,
              help="Standing open jobs (at most SEARCH_AUTO_BUILD_MAX, 2000, so the index builds on the spot).")
@click.option("--search-cache-mb", default=64, show_default=True, help="SEARCH_CACHE_MB of the workers.")
@click.option("--trace", is_flag=True,
              help="Trace allocations (bench/wsgi_memory.py, slow): where memory went, after warm-up and at the end.")
@click.option("--reads-only", is_flag=True,
              help="Only browsing and searching: nothing is written, so the data does not grow during the run.")
def main(database_url, minutes, workers, clients, coops, jobs, search_cache_mb, trace, reads_only):
    secret = secrets.token_hex(16)
    app, world = build(database_url, coops, jobs, secret)
    scratch = tempfile.mkdtemp(prefix="marketplace-soak-")
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": secret, "MAIL_BACKEND": "console",
           "SEARCH_INDEX_PATH": os.path.join(scratch, "index"), "SEARCH_CACHE_MB": str(search_cache_mb),
           "API_RATE_LIMIT": "100000/minute", "API_ADDRESS_RATE_LIMIT": "1000000/minute"}
    log = open(os.path.join(scratch, "gunicorn.log"), "wb")
    subprocess.run([sys.executable, "-m", "flask", "--app", "marketplace", "search", "reindex"], env=env, check=True,
                   stdout=log, stderr=subprocess.STDOUT)
    env["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(scratch, "metrics")  # gunicorn's alone, as the README says
    served = ["--chdir", HERE, "wsgi_memory:create_traced_app()"] if trace else ["marketplace:create_app()"]
    if trace:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:marketplace.gunicorn_conf", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--timeout", "60", *served],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(base + "/healthz", timeout=5).status_code in (200, 503):
                    break
            except requests.RequestException:
                time.sleep(0.2)
        soak = Soak(base, world, minutes * 60)
        with app.app_context():
            for job_id, coop_id in db.session.execute(text("SELECT id, coop_id FROM job")).all():
                poster = next(i for i, c in enumerate(world) if c["id"] == coop_id)
                soak.add_job(job_id, poster, time.time() + 14 * 86400)
        click.echo(f"Soak: {minutes:g} min, {workers} workers, {clients} clients, {coops} co-ops, {jobs} jobs, "
                   f"SEARCH_CACHE_MB={search_cache_mb}{'; reads only' if reads_only else ''}; log in {scratch}")
        started, curve = time.monotonic(), []
        actions = READS if reads_only else ACTIONS
        threads = [threading.Thread(target=client, args=(soak, n, actions)) for n in range(clients)]
        threads.append(threading.Thread(target=watch, args=(soak, server.pid, started, curve,
                                                            scratch if trace else None)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    report(app, soak, curve, search_cache_mb)


def slope(points):
    """Least-squares slope of (minutes, MB) points, in MB per minute."""
    n = len(points)
    mean_t, mean_m = sum(t for t, _ in points) / n, sum(m for _, m in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (m - mean_m) for t, m in points) / spread if spread else 0.0


def memory_summary(curve, cache_mb):
    """Each worker's RSS after warm-up (the first sample, 30 s into the load) and at the end, and
    its growth in MB a minute over the last half of the run (a least-squares line through the
    samples, less swayed by one sample than two points), for the workers that lived throughout."""
    if len(curve) < 4:
        click.echo("Memory: too short a run for a slope (4 samples at least).")
        return
    first, last = curve[0], curve[-1]
    half = [row for row in curve if row[0] >= last[0] / 2]
    loads = [row[3] for row in curve]
    click.echo(f"Memory per worker (RSS; load average {min(loads):.1f} to {max(loads):.1f}, "
               f"mean {sum(loads) / len(loads):.1f}, on {os.cpu_count()} CPUs):")
    kept = sorted(set(first[4]) & set(last[4]))
    for pid in kept:
        growth = slope([(row[0] / 60, row[4][pid][0]) for row in half if pid in row[4]])
        anon = slope([(row[0] / 60, row[4][pid][2]) for row in half if pid in row[4]])
        click.echo(f"  worker {pid}: warm-up {first[4][pid][0]:6.1f} MB, end {last[4][pid][0]:6.1f} MB, "
                   f"last half {growth:+.2f} MB/min (its own heap, RssAnon: {first[4][pid][2]:.1f} → "
                   f"{last[4][pid][2]:.1f} MB, {anon:+.2f} MB/min); search cache at most "
                   f"{max(row[4].get(pid, (0, 0))[1] for row in curve) * 1024:.1f} KB of {cache_mb} MB; page parts "
                   f"{first[4][pid][3]:.1f} → {last[4][pid][3]:.1f} MB")
    if kept:
        ends = [last[4][pid][0] for pid in kept]
        slopes = [slope([(row[0] / 60, row[4][pid][0]) for row in half if pid in row[4]]) for pid in kept]
        anon_slopes = [slope([(row[0] / 60, row[4][pid][2]) for row in half if pid in row[4]]) for pid in kept]
        # Per request too: a busier or quieter machine answers more or fewer in the same minutes.
        answered = (half[-1][1] - half[0][1]) / len(kept) / 1000
        per_thousand = sum(half[-1][4][p][0] - half[0][4][p][0] for p in kept) / len(kept) / answered if answered else 0
        click.echo(f"  mean: warm-up {sum(first[4][p][0] for p in kept) / len(kept):.1f} MB, end "
                   f"{sum(ends) / len(ends):.1f} MB (largest {max(ends):.1f}), last half "
                   f"{sum(slopes) / len(slopes):+.2f} MB/min, {per_thousand:+.2f} MB per 1,000 requests a worker "
                   f"({last[1]} requests in all); own heap (RssAnon) last half "
                   f"{sum(anon_slopes) / len(anon_slopes):+.2f} MB/min")
    if len(kept) < len(last[4]):
        click.echo(f"  {len(last[4]) - len(kept)} worker(s) started during the run (restarted): not in the figures")


def report(app, soak, curve, cache_mb):
    click.echo("\nAnswers by action and status:")
    for (action, status), n in sorted(soak.statuses.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        click.echo(f"  {action:12s} {status!s:8s} {n:7d}")
    total = sum(soak.statuses.values())
    errors = sum(n for (_, status), n in soak.statuses.items() if isinstance(status, int) and status >= 500)
    click.echo(f"Requests: {total}, 5xx: {errors}, client-side violations: {len(soak.violations)}")
    for violation in soak.violations[:10]:
        click.echo(f"  {violation}")
    click.echo("Invariants in the database:")
    broken = 0
    with app.app_context():
        for name, sql in INVARIANTS.items():
            found = db.session.scalar(text(sql))
            broken += found
            click.echo(f"  {name}: {found}")
        changes = db.session.execute(text("SELECT action, count(*) FROM audit_event GROUP BY action ORDER BY 1")).all()
        click.echo("  audit events: " + ", ".join(f"{a} {n}" for a, n in changes))
    memory_summary(curve, cache_mb)
    sys.exit(1 if broken or errors or soak.violations else 0)


if __name__ == "__main__":
    main()
