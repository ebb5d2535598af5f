"""Coordinator benchmark: ranking co-ops for one job, and the coordinator's dashboard, at scale.

    .venv/bin/python bench/bench_coordinator.py [--jobs 100000 --coops 5000 --bids 1000000] [--runs 20]

Builds (or reuses) bench/bench-coordinator.db with bench/dataset.py (100,000 jobs, 5,000
co-ops), then adds what the coordinator reads: stated capacity for most co-ops, ``--bids`` bids
(about a third of the closed jobs awarded) and referrals over the past year. It times, in this process
with Flask's test client, a bare Flask route, the suggestions page of two open public jobs
(the newest one, and one asking for the most common skill, where thousands of co-ops are
candidates), the ranking function alone for those jobs, the coordinator's dashboard and CSV
export for each network's coordinator, and a co-op's own dashboard. Median and 95th percentile
in milliseconds; the target for the ranking is under 100 ms. Speed is reported, never asserted;
the exit status is non-zero only when a page does not answer 200.
"""
import os
import random
import statistics
import sys
import time
from datetime import timedelta

import click
from sqlalchemy import func, insert, select

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for path in (ROOT, HERE):
    if path not in sys.path:
        sys.path.insert(0, path)

import dataset  # noqa: E402
from bench_pages import (BenchError, InProcess, checked_get, ensure_database, member_cookie,  # noqa: E402
                         percentile, print_table, recorded_statements, statements, time_requests)
from wsgi_bench import create_bench_app  # noqa: E402

from marketplace.bids.models import Bid  # noqa: E402
from marketplace.coops.models import Coop, coop_skill  # noqa: E402
from marketplace.coordinator import matching  # noqa: E402
from marketplace.coordinator.models import CoopCapacity, Invitation  # noqa: E402
from marketplace.core.time import utcnow  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from marketplace.federation.models import Network, NetworkCoordinator, Visibility  # noqa: E402
from marketplace.federation.policy import Viewer  # noqa: E402
from marketplace.jobs.models import Job, job_skill  # noqa: E402
from marketplace.skills.models import Skill  # noqa: E402

DEFAULT_DATABASE = os.path.join(HERE, "bench-coordinator.db")
SEED = 7


def add_coordinator_data(app, n_bids):
    """Capacity, bids, awards and referrals, once per database."""
    rng = random.Random(SEED)
    now = utcnow()
    with app.app_context():
        if db.session.scalar(select(func.count()).select_from(CoopCapacity)):
            return False
        coop_ids = db.session.scalars(select(Coop.id)).all()
        jobs = db.session.execute(select(Job.id, Job.coop_id, Job.bids_deadline, Job.status)
                                  .where(Job.status != "draft")).all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.execute(insert(CoopCapacity.__table__), [
                {"coop_id": c, "people_1m": rng.randint(0, 3), "people_3m": rng.randint(0, 6),
                 "people_6m": rng.randint(0, 10), "day_rate_min": (low := rng.randrange(250, 600, 25)),
                 "day_rate_max": low + rng.randrange(0, 200, 25), "updated_at": now}
                for c in coop_ids if rng.random() < 0.7])
            seen, rows, decided = set(), [], set()
            with click.progressbar(length=n_bids, label="Adding bids") as bar:
                while len(rows) < n_bids:
                    job_id, poster, deadline, status = rng.choice(jobs)
                    coop_id = rng.choice(coop_ids)
                    if coop_id == poster or (job_id, coop_id) in seen:
                        continue
                    seen.add((job_id, coop_id))
                    # About a third of the closed jobs that received bids were awarded.
                    award = deadline < now and status == "published" and job_id not in decided
                    if award:
                        decided.add(job_id)
                        award = rng.random() < 0.35
                    rows.append({
                        "job_id": job_id, "coop_id": coop_id, "status": "awarded" if award else "submitted",
                        "price_type": "fixed", "amount": rng.randrange(1000, 50000, 500), "proposal": "",
                        "proposal_html": "", "feedback": "", "submitted_at": deadline - timedelta(days=1),
                        "decided_at": deadline + timedelta(days=3) if award else None,
                        "created_at": deadline - timedelta(days=2), "updated_at": deadline - timedelta(days=1),
                    })
                    if len(rows) % 50_000 == 0:
                        conn.execute(insert(Bid.__table__), rows[-50_000:])
                        bar.update(50_000)
                rest = len(rows) % 50_000
                if rest:
                    conn.execute(insert(Bid.__table__), rows[-rest:])
                    bar.update(rest)
            recent = [j for j in jobs if j.bids_deadline > now - timedelta(days=365)]
            invitations, pairs = [], set()
            while len(invitations) < 20_000:
                job_id, poster, deadline, _ = rng.choice(recent)
                coop_id = rng.choice(coop_ids)
                if coop_id == poster or (job_id, coop_id) in pairs:
                    continue
                pairs.add((job_id, coop_id))
                invitations.append({"job_id": job_id, "coop_id": coop_id, "status": "pending",
                                    "decline_reason": "", "created_at": deadline - timedelta(days=10)})
            conn.execute(insert(Invitation.__table__), invitations)
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
        db.engine.dispose()
    return True


def pick_jobs(app):
    """The newest open public job, and another open public job asking for the skill most co-ops
    offer (the most candidates)."""
    facts = dataset.facts(app)
    with app.app_context():
        common = db.session.scalar(
            select(Skill.id).join(coop_skill, coop_skill.c.skill_id == Skill.id)
            .group_by(Skill.id).order_by(func.count().desc()).limit(1))
        heavy = db.session.scalar(
            select(Job.id).join(job_skill, job_skill.c.job_id == Job.id)
            .where(job_skill.c.skill_id == common, Job.visibility == "public", Job.state == "open",
                   Job.id != facts["job_id"])
            .order_by(Job.published_at.desc()).limit(1))
        member_slug = db.session.scalar(select(Coop.slug).where(Coop.id == dataset.MEMBER_COOP_ID))
        coordinators = dict(db.session.execute(
            select(Network.name, NetworkCoordinator.user_id).join(NetworkCoordinator)).all())
    return facts, heavy, member_slug, coordinators


# A viewer who sees every published job, as a site admin does.
EVERY_JOB = Viewer(visibilities=frozenset(v.value for v in Visibility), is_site_admin=True)


def time_function(app, job_id, runs, warmup):
    """Median and p95 of ``matching.rank`` alone, in a request context, fresh session each run."""
    seconds, sizes = [], None
    for n in range(runs + warmup):
        with app.test_request_context("/"):
            job = db.session.get(Job, job_id)
            job.skills  # noqa: B018 (loaded as the page would, outside the timing)
            with recorded_statements(db.engine) as records:
                start = time.perf_counter()
                ranking = matching.rank(job, EVERY_JOB)
                took = time.perf_counter() - start
            if n >= warmup:
                seconds.append(took)
            sizes = (ranking.eligible, ranking.candidates, len(ranking.matches), len(ranking.consortia),
                     len(records))
            db.session.remove()
    return {"median": statistics.median(seconds) * 1000, "p95": percentile(seconds, 0.95) * 1000}, sizes


@click.command()
@click.option("--jobs", default=100_000, show_default=True)
@click.option("--coops", default=5_000, show_default=True)
@click.option("--bids", default=1_000_000, show_default=True)
@click.option("--runs", default=20, show_default=True)
@click.option("--warmup", default=3, show_default=True)
@click.option("--database", default=DEFAULT_DATABASE, show_default=True)
@click.option("--rebuild", is_flag=True)
def main(jobs, coops, bids, runs, warmup, database, rebuild):
    """Benchmark the coordinator's ranking and dashboards."""
    try:
        run(jobs, coops, bids, runs, warmup, os.path.abspath(database), rebuild)
    except BenchError as error:
        click.echo(f"bench: error: {error}", err=True)
        sys.exit(1)


def run(jobs, coops, bids, runs, warmup, database, rebuild):
    ensure_database(database, jobs, coops, rebuild)
    app = create_bench_app(database)
    if add_coordinator_data(app, bids):
        click.echo("Added capacity, bids, awards and referrals.")
    facts, heavy, member_slug, coordinators = pick_jobs(app)
    with app.app_context():
        counts = {name: db.session.scalar(select(func.count()).select_from(model))
                  for name, model in (("bids", Bid), ("referrals", Invitation), ("capacities", CoopCapacity))}
    click.echo(f"{facts['jobs']:,} jobs ({facts['open']:,} open), {coops:,} co-ops, {counts['bids']:,} bids, "
               f"{counts['referrals']:,} referrals, {counts['capacities']:,} stated capacities; SQLite "
               f"{facts['sqlite']}; {runs} timed runs after {warmup} warm-up.\n")
    cookies = {name: member_cookie(app, uid) for name, uid in coordinators.items()}
    cookies["member"] = member_cookie(app, facts["member_id"])
    client = InProcess(app)
    with app.app_context():
        engine = db.engine

    pages = [
        ("bare Flask route", "/bench/bare", None),
        (f"suggestions, newest open job (#{facts['job_id']})", f"/coordinator/jobs/{facts['job_id']}/matches",
         cookies["CoTech"]),
        (f"suggestions, common-skill job (#{heavy})", f"/coordinator/jobs/{heavy}/matches", cookies["CoTech"]),
        ("coordinator dashboard (CoTech)", "/coordinator/", cookies["CoTech"]),
        ("coordinator dashboard (workers.coop)", "/coordinator/", cookies["workers.coop"]),
        ("CSV export (workers.coop)", "/coordinator/export.csv", cookies["workers.coop"]),
        ("co-op dashboard (member)", f"/coops/{member_slug}/dashboard", cookies["member"]),
    ]
    counts = {}
    for label, url, cookie in pages:
        checked_get(client, url, cookie)  # the first request fills what later ones reuse
        counts[label] = len(statements(app, client, url, cookie))
    timings = time_requests(client, {label: (url, cookie) for label, url, cookie in pages}, runs, warmup,
                            "In-process", engine)
    bare = timings["bare Flask route"]["median"]
    rows = [[label, counts[label], f"{timing['sql_ms']:.1f}", f"{timing['median']:.2f}",
             f"{timing['p95']:.2f}", f"{timing['median'] / bare:.1f}"] for label, timing in timings.items()]
    print_table(["page (in-process)", "SQL", "SQL ms", "median ms", "p95 ms", "x bare"], rows,
                align=["<", ">", ">", ">", ">", ">"])

    click.echo("\nThe ranking alone (matching.rank), target under 100 ms:")
    rows = []
    for label, job_id in (("newest open public job", facts["job_id"]), ("common-skill job", heavy)):
        timing, (eligible, candidates, shown, consortia, count) = time_function(app, job_id, runs, warmup)
        rows.append([label, f"{eligible:,}", f"{candidates:,}", shown, consortia, count,
                     f"{timing['median']:.2f}", f"{timing['p95']:.2f}"])
    print_table(["job", "co-ops seeing it", "candidates", "shown", "consortia", "SQL", "median ms", "p95 ms"],
                rows, align=["<"] + [">"] * 7)


if __name__ == "__main__":
    main()
