"""flask --app marketplace skills load [CSV]"""
import click
from flask.cli import AppGroup

from ..extensions import db
from . import services

skills_cli = AppGroup("skills", help="Manage the skill taxonomy.")


@skills_cli.command("load")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False))
def load(path):
    """Add or update skills from a CSV (group, skill, synonyms); defaults to the CoTech list."""
    try:
        created, updated = services.load_taxonomy(path or services.DEFAULT_TAXONOMY)
    except (ValueError, UnicodeDecodeError) as error:
        db.session.rollback()
        raise click.ClickException(str(error))
    db.session.commit()
    click.echo(f"Skills: {created} added, {updated} updated.")
