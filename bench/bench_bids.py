"""Bid submit race benchmark: many simultaneous submits over HTTP against PostgreSQL.

    .venv/bin/python bench/bench_bids.py [--coops 40 --submits 10 --hammer 200 --workers 32]
                                         [--database-url postgresql+psycopg://postgres@127.0.0.1/postgres]

Creates a throwaway PostgreSQL database on the server of ``--database-url`` (default: the local
server; ``BENCH_DATABASE_URL`` works too), serves the real app from it with werkzeug (one
thread per request) on a free port of 127.0.0.1, and fires, from ``--workers`` client threads
that start together:

1. **different co-ops**: ``--coops`` co-ops, each submitting its bid ``--submits`` times
   (from three members in turn, prices all different), shuffled;
2. **one co-op**: ``--hammer`` first submits of the same co-op's bid on a new job, all at once,
   so that they race for the unique index on live bids.

After each round it checks what the tests check (tests/bids/load.py): exactly one live bid per
co-op, holding one of the prices it sent with the matching answers, and the poster told once
per co-op. It prints the figures (requests, statuses, throughput, latency percentiles, how
many races the database refused and the app retried as edits). The exit status is non-zero
when a check fails or a request does not answer 302; speed is reported, never asserted.
CSRF is off (this measures the database rule, not the form tokens). The database is dropped
at the end.
"""
import logging
import os
import random
import sys
import time
import uuid
from datetime import timedelta

import click
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from marketplace import create_app  # noqa: E402
from marketplace.accounts.models import User  # noqa: E402
from marketplace.coops.models import Coop, CoopMember  # noqa: E402
from marketplace.core.time import utcnow  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from marketplace.federation.models import Network, NetworkMembership  # noqa: E402
from marketplace.jobs.models import Job, JobRequirement  # noqa: E402
from tests.bids import load  # noqa: E402

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1/postgres"
REQUIREMENTS = ("Accessibility audits", "Python 3", "Worked with a co-op before")


def _throwaway_database(server_url):
    """Create an empty database beside ``server_url``'s; returns (its URL, a drop function)."""
    server = make_url(server_url)
    name = f"bench_bids_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop():
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop


def _coop(name, network, members):
    coop = Coop(name=name, slug=name.lower().replace(" ", "-"))
    db.session.add(coop)
    db.session.add(NetworkMembership(coop=coop, network=network, status="active"))
    users = []
    for n in range(members):
        user = User(email=f"{n}@{coop.slug}.coop", name=f"{name} member {n}", password_hash="!",
                    email_verified_at=utcnow())
        db.session.add_all([user, CoopMember(coop=coop, user=user, role="member")])
        users.append(user)
    return coop, users


def _job(poster_coop, title):
    now = utcnow()
    job = Job(coop=poster_coop, title=title, summary="Bench job", questions_deadline=now + timedelta(days=7),
              bids_deadline=now + timedelta(days=14), visibility="cotech", status="published",
              published_at=now)
    job.requirements = [JobRequirement(position=n, text=t) for n, t in enumerate(REQUIREMENTS)]
    db.session.add(job)
    return job


def _round(base_url, job, requests, sent, workers, label):
    """Fire ``requests``, check the outcome, print the figures; True when all is well."""
    started = time.perf_counter()
    results = load.fire(base_url, requests, workers)
    elapsed = time.perf_counter() - started
    problems = load.check(job, sent)
    bad = [status for status, _ in results if status != 302]
    click.echo(f"{label}: {load.summary(results, elapsed)}")
    click.echo(f"  {len(sent)} co-op(s): " + ("one live bid each, nothing lost" if not problems else
                                               f"{len(problems)} PROBLEMS: " + "; ".join(problems[:5])))
    return not problems and not bad


def _many_coops(app, job, bidders, submits):
    """Round 1's requests: each co-op submits ``submits`` times, from its members in turn."""
    sent, requests = {}, []
    for coop, users in bidders:
        cookies = [load.session_cookie(app, u) for u in users]
        for n in range(submits):
            price = 10_000 + 1_000 * coop.id + n
            sent.setdefault(coop.id, []).append(price)
            requests.append((f"/jobs/{job.id}/bid", load.bid_form(job, price), cookies[n % len(cookies)]))
    random.Random(1).shuffle(requests)
    return requests, sent


def _one_coop(app, job, coop, user, hammer):
    """Round 2's requests: ``hammer`` first submits of one co-op's bid."""
    cookie = load.session_cookie(app, user)
    prices = [50_000 + n for n in range(hammer)]
    return [(f"/jobs/{job.id}/bid", load.bid_form(job, p), cookie) for p in prices], {coop.id: prices}


@click.command()
@click.option("--coops", default=40, show_default=True, help="Co-ops bidding on the same job.")
@click.option("--submits", default=10, show_default=True, help="Submits per co-op in round 1.")
@click.option("--hammer", default=200, show_default=True, help="Simultaneous first submits of one bid in round 2.")
@click.option("--workers", default=32, show_default=True, help="Client threads sending at once.")
@click.option("--database-url", default=lambda: os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER),
              show_default="BENCH_DATABASE_URL or the local PostgreSQL",
              help="Server to make a throwaway database on.")
def main(coops, submits, hammer, workers, database_url):
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is noise here
    url, drop = _throwaway_database(database_url)
    ok = True
    try:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only-not-secret", "WTF_CSRF_ENABLED": False,
            "MAIL_BACKEND": "memory", "SERVER_NAME": None,
            # One process serving many threads: enough connections that requests wait on rows, not the pool.
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": workers, "max_overflow": 8, "pool_timeout": 60},
        })
        with app.app_context():
            db.create_all()
            races = []
            event.listen(db.engine, "handle_error",
                         lambda ctx: races.append(1) if "uq_bid_live" in str(ctx.original_exception) else None)
            network = Network(slug="cotech", name="CoTech")
            db.session.add(network)
            poster_coop, _ = _coop("Poster", network, 1)
            bidders = [_coop(f"Bidder {n}", network, 3) for n in range(coops)]
            hammered_coop, hammered_users = _coop("Hammered", network, 1)
            job, hammer_job = _job(poster_coop, "Many co-ops"), _job(poster_coop, "One co-op")
            db.session.commit()
            click.echo(f"PostgreSQL {db.session.execute(text('show server_version')).scalar()}, "
                       f"{workers} client threads, werkzeug threaded server, pool {workers}+8")
            with load.serve(app) as base_url:
                requests, sent = _many_coops(app, job, bidders, submits)
                ok &= _round(base_url, job, requests, sent, workers, f"round 1, {coops} co-ops x {submits} submits")
                requests, sent = _one_coop(app, hammer_job, hammered_coop, hammered_users[0], hammer)
                before = len(races)
                ok &= _round(base_url, hammer_job, requests, sent, workers,
                             f"round 2, {hammer} first submits of one co-op's bid")
                click.echo(f"  the live-bid index refused {len(races) - before} racing inserts in round 2 "
                           f"({len(races)} in all); each was retried as an edit")
            db.engine.dispose()
    finally:
        drop()
    click.echo("OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
