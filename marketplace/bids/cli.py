"""`flask bids …`: the bidding tasks that may run from cron."""
import click
from flask import current_app
from flask.cli import AppGroup

from ..extensions import db
from . import services

bids_cli = AppGroup("bids", help="Bidding tasks.")


@bids_cli.command("notify-closed")
def notify_closed():
    """Tell posters that bids closed on their jobs. Safe to run as often as you like (from
    cron, say every ten minutes) and to run twice at once: each poster is told once."""
    told = 0
    # Links in the notifications and emails are built for the site's public address.
    with current_app.test_request_context("/", base_url=current_app.config["SITE_URL"]):
        for job in services.jobs_to_notice():
            if services.notice_bids_closed(job):
                told += 1
            db.session.commit()
    click.echo(f"Told the posters of {told} job{'' if told == 1 else 's'} that bids closed.")
