"""`flask documents prune`: remove files no row points to, and report rows whose file is gone."""
import click
from flask.cli import AppGroup

from . import services

documents_cli = AppGroup("documents", help="Attached documents.")


@documents_cli.command("prune")
def prune_command():
    """Remove files no document points to (left by a crash), uploads never attached after a
    day, and documents whose owner is gone; list documents whose file is missing."""
    result = services.prune()
    click.echo(f"Removed {result.orphan_files} file(s) no document points to, {result.leftovers} unfinished "
               f"upload(s), {result.stale_pending} upload(s) never attached, and {result.ownerless} "
               "document(s) whose owner is gone.")
    for document in result.missing:
        click.echo(f"Missing file: document {document.id} “{document.name}” "
                   f"({document.owner_kind} {document.owner_id}, key {document.storage_key})", err=True)
    if result.missing:
        raise SystemExit(1)
