"""`flask search reindex` and `flask search check [--repair]`."""
import sys
import time

import click
from flask.cli import AppGroup

from . import IndexBusy, SearchUnavailable, check, drain, rebuild, repair, setting

search_cli = AppGroup("search", help="The search index.")
SHOWN = 20  # keys listed per problem


@search_cli.command("reindex")
def reindex_command():
    """Rebuild the index from the database. The site keeps searching the old index until the
    new one is complete; changes made meanwhile are applied to the new one afterwards."""
    from .documents import KINDS, count_objects
    from sqlalchemy.orm import Session

    from ..extensions import db

    with Session(db.engine) as session:
        total = sum(count_objects(session, kind) for kind in KINDS)
    started = time.monotonic()
    try:
        with click.progressbar(length=total, label=f"Indexing {total:,} jobs and co-ops",
                               file=sys.stderr) as bar:
            count = rebuild(progress=bar.update)
    except IndexBusy as error:
        raise click.ClickException(str(error) or "The index is busy; try again shortly.") from error
    queued = drain(timeout=30)
    seconds = time.monotonic() - started
    backend = setting("SEARCH_BACKEND")
    click.echo(f"Indexed {count:,} documents ({backend}) in {seconds:.1f}s"
               + (f"; then applied {queued:,} queued changes." if queued else "."))


@search_cli.command("check")
@click.option("--repair", "fix", is_flag=True, help="Reindex what is missing, stale or orphaned.")
def check_command(fix):
    """Compare the index with the database: jobs and co-ops missing from the index, documents
    older than their object, and documents whose object no longer exists."""
    try:
        report = check()
    except SearchUnavailable as error:
        raise click.ClickException(f"{error} Run `flask --app marketplace search reindex`.") from error
    _print(report)
    if report.ok:
        click.echo("The index is in step with the database.")
        return
    if not fix:
        click.echo("Run `flask --app marketplace search check --repair` to fix it.")
        sys.exit(1)
    try:
        applied = repair(report)
    except IndexBusy as error:
        raise click.ClickException("The index stayed busy; try again shortly.") from error
    after = check()
    if not after.ok:
        _print(after)
        raise click.ClickException("Some documents could not be repaired.")
    click.echo(f"Repaired: {applied:,} documents brought up to date.")


def _print(report):
    for title, keys in (("Missing from the index", report.missing), ("Stale in the index", report.stale),
                        ("In the index but gone from the database", report.orphans),
                        ("Changed, waiting in the queue", report.queued)):
        click.echo(f"{title}: {len(keys)}")
        for key in keys[:SHOWN]:
            click.echo(f"  {key}")
        if len(keys) > SHOWN:
            click.echo(f"  … and {len(keys) - SHOWN:,} more")
