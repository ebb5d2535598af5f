"""flask --app marketplace feeds fetch | add | list"""
import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from ..accounts.models import User
from ..coops.models import Coop
from ..extensions import db
from ..federation.models import Visibility
from ..jobs.models import JobKind
from ..skills.services import skill_by_slug
from . import services
from .ingest import fetch_source
from .models import FeedSource, SourceKind
from .settings import setting

feeds_cli = AppGroup("feeds", help="Feed sources: import jobs from RSS/Atom feeds and OCDS packages.")


@feeds_cli.command("fetch")
@click.option("--source", "source_id", type=int, help="Fetch this source only (even if paused or not due).")
@click.option("--force", is_flag=True, help="Ignore the stored ETag/Last-Modified and compare every entry.")
def fetch(source_id, force):
    """Fetch every active source that is due, with a progress bar. Exits with status 1 if any
    source failed (its error is kept on the source)."""
    if source_id is not None:
        source = db.session.get(FeedSource, source_id)
        if source is None:
            raise click.ClickException(f"There is no feed source {source_id}.")
        sources = [source]
    else:
        sources = services.due_sources()
    if not sources:
        click.echo("No feed source is due.")
        return
    reports = []
    # Imports notify followers with links: build them on SITE_URL, as a request would.
    with current_app.test_request_context(base_url=current_app.config.get("SITE_URL")), \
            click.progressbar(sources, label="Fetching feeds", show_pos=True,
                              item_show_func=lambda s: s.name if s else "") as bar:
        for source in bar:
            reports.append(fetch_source(source, force=force))
    for report in reports:
        click.echo(report.describe() + f" ({report.seconds:.1f} s)", err=not report.ok)
        for title, reason in report.skips:
            click.echo(f"  skipped “{title}”: {reason}")
    failed = sum(not r.ok for r in reports)
    if failed:
        raise click.exceptions.Exit(1)


@feeds_cli.command("add")
@click.argument("url")
@click.option("--name", required=True, help="Shown on imported jobs: 'Imported from NAME'.")
@click.option("--coop", "coop_slug", required=True, help="Slug of the co-op in whose name jobs appear.")
@click.option("--kind", type=click.Choice([k.value for k in SourceKind]), default=SourceKind.RSS.value,
              show_default=True, help="rss (RSS or Atom) or ocds (OCDS release package).")
@click.option("--visibility", type=click.Choice([v.value for v in Visibility]),
              default=Visibility.PUBLIC.value, show_default=True)
@click.option("--job-kind", type=click.Choice([k.value for k in JobKind]), default=JobKind.LEAD.value,
              show_default=True, help="What the entries are.")
@click.option("--skill", "skill_slugs", multiple=True, help="A skill slug every imported job gets (repeatable).")
@click.option("--interval", type=int, default=None, help="Minutes between fetches (default: FEED_FETCH_INTERVAL_MINUTES).")
@click.option("--paused", is_flag=True, help="Add it paused.")
@click.option("--bids-here", is_flag=True,
              help="Co-ops bid on its jobs here (a co-op's own feed of its own work); else bids go to the original.")
@click.option("--by", "email", required=True, help="E-mail of the coordinator or site admin adding it.")
def add(url, name, coop_slug, kind, visibility, job_kind, skill_slugs, interval, paused, bids_here, email):
    """Add a feed source."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"There is no user {email}.")
    coop = db.session.scalar(select(Coop).where(Coop.slug == coop_slug))
    if coop is None:
        raise click.ClickException(f"There is no co-op {coop_slug}.")
    skills = []
    for slug in skill_slugs:
        skill = skill_by_slug(slug)
        if skill is None:
            raise click.ClickException(f"There is no skill {slug}.")
        skills.append(skill)
    values = {
        "name": name.strip(), "url": url.strip(), "kind": kind, "coop": coop, "visibility": visibility,
        "job_kind": job_kind, "active": not paused, "bids_here": bids_here,
        "fetch_interval_minutes": interval or setting("FEED_FETCH_INTERVAL_MINUTES"),
    }
    if not values["name"]:
        raise click.ClickException("Give the source a name.")
    try:
        source = services.create_source(user, values, skills)
        db.session.commit()
    except services.FeedRuleError as error:
        db.session.rollback()
        raise click.ClickException(error.message)
    click.echo(f"Feed source {source.id} added: {source.name} ({source.url}).")


@feeds_cli.command("list")
def list_sources():
    """List the feed sources and how their last fetch went."""
    sources = services.all_sources()
    if not sources:
        click.echo("No feed sources.")
    for s in sources:
        state = "paused" if not s.active else ("FAILING" if s.is_failing else "active")
        fetched = s.last_fetched_at.isoformat(sep=" ") if s.last_fetched_at else "never"
        click.echo(f"{s.id:>4}  {state:<8} {s.kind:<5} {s.name} <{s.url}> last fetched {fetched}, "
                   f"{s.entries_seen} entries")
        if s.is_failing:
            click.echo(f"      last error: {s.last_error}")
        for line in s.last_skipped or ():
            click.echo(f"      skipped {line}")
