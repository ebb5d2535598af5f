"""`flask alerts send`: deliver the saved searches that are due (from cron or a systemd timer)."""
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from ..core.rules import RuleError
from . import digest, reminders, sending

alerts_cli = AppGroup("alerts", help="Saved-search alerts.")


@alerts_cli.command("send")
def send():
    """Email every saved search that is due, and the co-ops' weekly digests once their day
    comes. Safe to run as often as you like and to run twice at once: each job reaches each
    recipient at most once, and each digest goes once a week."""
    with current_app.test_request_context("/", base_url=current_app.config["SITE_URL"]):
        report = sending.send_due()
        try:
            digest.send_weekly(report)
        except RuleError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"{report.searches} saved search{'' if report.searches == 1 else 'es'} due: "
               f"{report.emails} email{'' if report.emails == 1 else 's'} "
               f"with {report.jobs} job{'' if report.jobs == 1 else 's'}; "
               f"{report.digests} weekly digest{'' if report.digests == 1 else 's'}.")
    for search_id, reason in report.skipped:
        click.echo(f"  skipped saved search {search_id}: {reason}", err=True)
    for what, address, reason in report.failed:
        click.echo(f"  not sent: {what} to {address}: {reason}", err=True)
    if report.failed:
        sys.exit(1)


@alerts_cli.command("remind")
def remind():
    """Give the reminders that are due (interests lapsing, bids closing, questions waiting,
    awards not made). Safe to run as often as you like and twice at once: each is given once."""
    with current_app.test_request_context("/", base_url=current_app.config["SITE_URL"]):
        given = reminders.send_reminders()
    click.echo(f"Gave {given} reminder{'' if given == 1 else 's'}.")
