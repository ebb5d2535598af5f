"""flask --app marketplace demo load"""
import click
from flask import current_app
from flask.cli import AppGroup

from ..extensions import db
from . import data, services

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("load")
def load():
    """Load demo networks, co-ops, people and jobs into an empty database (once)."""
    # The job rules link to pages (notifications): give them the site's address to build on.
    with current_app.test_request_context(base_url=current_app.config["SITE_URL"]):
        _load()


def _load():
    if services.is_loaded():
        click.echo("demo data already loaded")
        _print_logins()
        return
    if services.has_other_data():
        click.echo("The database already has co-ops or users of its own: demo data is only loaded "
                   "into an empty database. Nothing changed.")
        return
    try:
        summary = services.load_demo()
        db.session.commit()
    except (services.DemoError, ValueError) as error:
        db.session.rollback()
        raise click.ClickException(getattr(error, "message", str(error)))
    click.echo(
        "Demo data loaded: {networks} networks, {co-ops} co-ops, {users} users, {jobs} jobs "
        "({open} open, {closed} closed, {draft} draft, {withdrawn} withdrawn); "
        "{skills added} skills added.".format(**{"open": 0, "closed": 0, "draft": 0, "withdrawn": 0, **summary})
    )
    _print_logins()


def _print_logins():
    logins = services.demo_logins()
    click.echo(f"\nDemo logins (every demo user's password is {data.PASSWORD}):\n")
    rows = [("Email", "Password", "Co-op(s)", "Can see")] + [
        (login.email, login.password, login.coops, login.can_see) for login in logins
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for n, row in enumerate(rows):
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
        if n == 0:
            click.echo("  ".join("-" * width for width in widths) + "  " + "-" * len(row[3]))
