"""Alerts benchmark: the co-ops' daily skill-match digest and their weekly digest, sent by
``flask alerts send``'s own functions to every member of every co-op.

    .venv/bin/python bench/bench_alerts.py                         # 100,000 jobs; 1,000 and 5,000 co-ops x 2 members
    .venv/bin/python bench/bench_alerts.py --jobs 10000 --coops 200 --coops 1000   # a quick look
    .venv/bin/python bench/bench_alerts.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_alerts

The data is ``bench/dataset.py``'s (skills, networks, co-ops with two to four skills, an admin and a
member each, jobs published over two years): a SQLite file per size, ``bench/alerts-<jobs>-<coops>.db``,
reused while it holds a finished build for the current models; with ``--database-url``, a PostgreSQL
database per size beside it (``<name>_<coops>``), made when missing and reused when its counts match.
Each run first empties the alert tables (saved searches, deliveries, digests sent, notifications).

For each size it sends (the clock stopped a minute after the newest job):

1. **daily**: every co-op's skill match, due, with the last day's jobs as news (``sending.send_due``);
2. **weekly**: every co-op's weekly digest (``digest.send_weekly``), the week's jobs as news.

Mail goes to the in-memory outbox (``MAIL_BACKEND=memory``), emptied after each run: the messages are
built and rendered, never handed to SMTP. It prints the total time, the SQL statements (counted with a
``before_cursor_execute`` listener), the number of batches and, per batch of recipients, the statements
and milliseconds (median and max), then both sizes side by side: the statements per batch must not
grow with the number of recipients (a fixed number of queries per batch, none per recipient). ``--max-batches N`` sends only the
first N batches of each run (the rest are left unsent), for the per-batch figures of a big size sooner.
"""
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta

import click
from sqlalchemy import create_engine, delete, event, func, select, update
from sqlalchemy.engine import make_url

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from marketplace import create_app  # noqa: E402  (first: it loads every model)

import dataset  # noqa: E402, I001
from marketplace.alerts import digest, sending, services  # noqa: E402
from marketplace.alerts.models import AlertDelivery, AlertOptOut, SavedSearch, WeeklyDigestSent  # noqa: E402
from marketplace.core.time import frozen_now, to_local  # noqa: E402
from marketplace.coops.models import Coop  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from marketplace.jobs.models import Job  # noqa: E402
from marketplace.mail import outbox  # noqa: E402
from marketplace.notifications.models import Notification  # noqa: E402


def _app(url, index):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only-not-secret",
                       "SEARCH_INDEX_PATH": index, "MAIL_BACKEND": "memory", "ALERTS_DIGEST_HOUR": 0,
                       "SITE_URL": "https://marketplace.example.coop"})


def sqlite_database(jobs, coops, index):
    path = os.path.join(HERE, f"alerts-{jobs}-{coops}.db")
    app = _app(f"sqlite:///{path}", index)
    if not dataset.is_ready(path, jobs, coops):
        dataset.remove(path)
        dataset.build(app, jobs, coops, label=f"Building {os.path.basename(path)}")
    return app


def postgres_database(url, jobs, coops, index):
    url = make_url(url)
    name = f"{url.database}_{coops}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).scalar():
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    app = _app(url.set(database=name).render_as_string(hide_password=False), index)
    with app.app_context():
        db.create_all()
        have = (db.session.scalar(select(func.count()).select_from(Job)),
                db.session.scalar(select(func.count()).select_from(Coop)))
        db.session.commit()
        if have != (jobs, coops):
            click.echo(f"Building {name} ({jobs:,} jobs, {coops:,} co-ops)…")
            db.drop_all()
            db.create_all()
            with db.engine.begin() as conn:
                dataset.insert_rows(conn, jobs, coops)
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
    return app


class Counter:
    """SQL statements run, and per batch: (statements, seconds, recipients)."""

    def __init__(self, engine, max_batches=None):
        self.max_batches = max_batches
        self.skipped = 0
        self.statements = 0
        self.batches = []
        self.mail_seconds = 0.0  # building (and handing over) the messages
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *args):
        self.statements += 1

    def wrap(self, module):
        """Time and count each call of ``module._send_batch`` (what ``flask alerts send`` calls)."""
        original = module._send_batch

        def timed(*args, **kwargs):
            if self.max_batches is not None and len(self.batches) >= self.max_batches:
                self.skipped += 1
                return 0
            before, start = self.statements, time.perf_counter()
            recipients = original(*args, **kwargs)
            self.batches.append((self.statements - before, time.perf_counter() - start, recipients))
            return recipients

        module._send_batch = timed
        return lambda: setattr(module, "_send_batch", original)

    def wrap_mail(self):
        original = sending.send_mail

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.mail_seconds += time.perf_counter() - start

        sending.send_mail = timed
        return lambda: setattr(sending, "send_mail", original)


def reset(now):
    """Empty the alert tables and give every co-op its skill match, news since a day ago."""
    for model in (AlertDelivery, AlertOptOut, WeeklyDigestSent, Notification, SavedSearch):
        db.session.execute(delete(model))
    services.add_skill_matches(now)
    db.session.execute(update(SavedSearch).values(sent_up_to=now - timedelta(days=1)))
    db.session.commit()


def run(app, label, send, max_batches=None):
    """Run ``send(report)`` with its batches counted; returns the figures."""
    with app.app_context(), app.test_request_context("/", base_url=app.config["SITE_URL"]):
        now = db.session.scalar(select(func.max(Job.published_at))) + timedelta(minutes=1)
        app.config["ALERTS_WEEKLY_DAY"] = to_local(now).isoweekday()
        with frozen_now(now):
            reset(now)
            counter = Counter(db.engine, max_batches)
            restore = [counter.wrap(sending), counter.wrap(digest), counter.wrap_mail()]
            report = sending.SendReport()
            start = time.perf_counter()
            send(report)
            seconds = time.perf_counter() - start
            for undo in restore:
                undo()
            event.remove(db.engine, "before_cursor_execute", counter._count)
        notices = db.session.scalar(select(func.count()).select_from(Notification))
        outbox(app).clear()
        db.session.remove()
    batches = [b for b in counter.batches if b[2]]
    per_batch = [s for s, _, _ in batches]
    ms = [t * 1000 for _, t, _ in batches]
    recipients = sum(r for _, _, r in batches)
    figures = {
        "label": label, "seconds": seconds, "statements": counter.statements, "batches": len(batches),
        "recipients": recipients, "emails": report.emails + report.digests, "jobs": report.jobs, "notices": notices,
        "sql_median": statistics.median(per_batch) if per_batch else 0, "sql_max": max(per_batch, default=0),
        "ms_median": statistics.median(ms) if ms else 0, "ms_max": max(ms, default=0),
        "mail_seconds": counter.mail_seconds, "batch_size": statistics.median([r for _, _, r in batches]) if batches else 0,
    }
    click.echo(f"  {label}: {seconds:.2f} s, {counter.statements:,} SQL statements, {len(batches)} batches, "
               f"{recipients:,} recipients, {figures['emails']:,} emails, {notices:,} notices; per batch of "
               f"~{figures['batch_size']:.0f} recipients: SQL median {figures['sql_median']:.0f} max "
               f"{figures['sql_max']}, {figures['ms_median']:.0f} ms median, {figures['ms_max']:.0f} ms max "
               f"({seconds / max(recipients, 1) * 1000:.2f} ms and {counter.statements / max(recipients, 1):.3f} "
               f"statements per recipient); building the emails: {counter.mail_seconds:.2f} s "
               f"({counter.mail_seconds / max(figures['emails'], 1) * 1000:.1f} ms each)")
    if counter.skipped:
        click.echo(f"  (stopped after {max_batches} batches: {counter.skipped} more not sent)")
    if report.failed or report.skipped:
        click.echo(f"  failed: {report.failed[:3]} skipped: {report.skipped[:3]}")
    return figures


def daily(report):
    found = sending.send_due()
    report.emails, report.jobs, report.failed, report.skipped = found.emails, found.jobs, found.failed, found.skipped


def weekly(report):
    digest.send_weekly(report)


@click.command()
@click.option("--jobs", default=100_000, show_default=True)
@click.option("--coops", "sizes", multiple=True, type=int, default=(1000, 5000), show_default=True,
              help="Co-ops (two members each); give it more than once to compare sizes.")
@click.option("--database-url", default=None, help="PostgreSQL: databases <name>_<coops> on its server.")
@click.option("--max-batches", type=int, default=None,
              help="Send only this many batches of each run (the per-batch figures of a big size, sooner).")
def main(jobs, sizes, database_url, max_batches):
    results = []
    with tempfile.TemporaryDirectory() as index:
        for coops in sizes:
            app = (postgres_database(database_url, jobs, coops, index) if database_url
                   else sqlite_database(jobs, coops, index))
            with app.app_context():
                click.echo(f"{db.engine.dialect.name}, {jobs:,} jobs, {coops:,} co-ops x 2 members, "
                           f"batches of {sending.BATCH} saved searches / {digest.BATCH} co-ops")
            results.append((coops, run(app, "daily skill-match digest", daily, max_batches),
                            run(app, "weekly co-op digest", weekly, max_batches)))
            with app.app_context():
                db.engine.dispose()
    click.echo("\nSQL statements per batch (median / max) against the number of recipients:")
    click.echo(f"{'co-ops':>8} {'recipients':>11} {'daily SQL/batch':>16} {'daily s':>8} "
               f"{'weekly SQL/batch':>17} {'weekly s':>9}")
    for coops, day, week in results:
        click.echo(f"{coops:>8,} {day['recipients']:>11,} {day['sql_median']:>9.0f} / {day['sql_max']:<4} "
                   f"{day['seconds']:>8.2f} {week['sql_median']:>10.0f} / {week['sql_max']:<4} {week['seconds']:>9.2f}")


if __name__ == "__main__":
    main()
