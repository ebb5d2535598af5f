"""Outgoing RSS 2.0 and Atom 1.0 feeds of jobs, built with feedgen.

A feed is a list of jobs read through ``queries.matching_jobs`` (the visibility rule) for one viewer:
ANONYMOUS for public feeds, a token owner's viewer for private ones. Its validators (ETag,
Last-Modified) are computed from the rows alone, so a reader that already has the feed gets
a 304 before any XML is built.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from html import escape

from feedgen.feed import FeedGenerator
from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..core.templating import format_datetime
from ..core.time import aware, utcnow
from ..extensions import db
from ..jobs.models import Job
from .models import FeedSource, ImportedEntry
from .services import job_guid, tag_authority

if TYPE_CHECKING:
    from .queries import JobQuery

# Bump when the rendering changes, so readers' stored ETags stop matching.
FEED_VERSION = "1"

MIMETYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
}
RENDERED_FIELDS = (
    "id", "title", "summary", "description_html", "kind", "budget_type", "budget_min", "budget_max",
    "currency", "location", "work_mode", "questions_deadline", "bids_deadline", "visibility",
    "published_at", "created_at", "updated_at",
)


@dataclass
class FeedSpec:
    """What one feed is: which jobs, how it is titled and where its HTML page is."""

    key: str        # stable name of the feed ("skill:python"), part of its Atom id
    title: str
    page_url: str   # the HTML page showing the same jobs
    self_url: str   # this feed's own address
    query: JobQuery  # which jobs


@dataclass
class FeedRows:
    jobs: Sequence[Job]
    origins: dict[int, tuple[str, str]]  # job id → (source name, original link) for imported jobs


ROW_OPTIONS = (joinedload(Job.coop), selectinload(Job.skills))  # what an entry shows


def rows_for(jobs: Sequence[Job]) -> FeedRows:
    """A feed's rows for jobs already read through the visibility rule (with co-op and skills):
    the jobs, and where the imported ones came from."""
    origins: dict[int, tuple[str, str]] = {}
    if jobs:
        origins = {
            job_id: (name, link) for job_id, name, link in db.session.execute(
                select(ImportedEntry.job_id, FeedSource.name, ImportedEntry.link)
                .join(FeedSource, FeedSource.id == ImportedEntry.source_id)
                .where(ImportedEntry.job_id.in_([job.id for job in jobs]))
            )
        }
    return FeedRows(jobs, origins)


def feed_updated(jobs: Sequence[Job]) -> datetime:
    """The feed's last change: its newest job edit, or the start of today for an empty feed
    (so that an empty feed's body, and so its ETag, stays the same all day)."""
    if jobs:
        return max(job.updated_at for job in jobs)
    return utcnow().replace(hour=0, minute=0, second=0, microsecond=0)


def validators(spec: FeedSpec, fmt: str, rows: FeedRows) -> tuple[str, datetime]:
    """(etag, last_modified) of the feed, from the rows that make it up."""
    digest = hashlib.sha256()
    updated = feed_updated(rows.jobs)
    digest.update(f"{FEED_VERSION}|{fmt}|{spec.key}|{spec.title}|{spec.self_url}|{updated}".encode())
    for job in rows.jobs:
        # Everything an entry shows: updated_at alone has one-second resolution.
        fields = [getattr(job, name) for name in RENDERED_FIELDS]
        fields += [job.coop.name, job.coop.slug, rows.origins.get(job.id)]
        fields += [(s.slug, s.name) for s in job.skills]
        digest.update(repr(fields).encode())
    return digest.hexdigest()[:40], aware(updated)


def feed_id(spec: FeedSpec) -> str:
    return f"tag:{tag_authority()},2024-01-01:feeds/{spec.key}"


def entry_summary(job: Job, origin: tuple[str, str] | None = None) -> str:
    """The entry's summary as HTML: the job's summary, then co-op, budget and deadlines, and
    the original of an imported job."""
    facts = (
        ("Posted by", job.coop.name),
        ("Kind", job.kind_label),
        ("Budget", job.budget_label),
        ("Where", job.work_mode_label + (f", {job.location}" if job.location else "")),
        ("Questions by", format_datetime(job.questions_deadline)),
        ("Bids by", format_datetime(job.bids_deadline)),
        ("Who can see it", job.visibility_label),
    )
    items = "".join(f"<li>{label}: {escape(value)}</li>" for label, value in facts)
    if origin is not None:
        name, link = origin
        original = f' (<a href="{escape(link)}">original</a>)' if link else ""
        items += f"<li>Imported from: {escape(name)}{original}</li>"
    return f"<p>{escape(job.summary)}</p><ul>{items}</ul>"


def render(spec: FeedSpec, fmt: str, rows: FeedRows) -> bytes:
    """The feed as bytes (``fmt`` is "rss" or "atom")."""
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    site_name = current_app.config.get("SITE_NAME", "CoTech Marketplace")
    updated = aware(feed_updated(rows.jobs))
    fg.id(feed_id(spec))
    fg.title(f"{spec.title} · {site_name}")
    fg.description(f"{spec.title}, newest first, from {site_name}.")
    # Self first: feedgen's RSS <link> takes the last link given, which must be the page.
    fg.link(href=spec.self_url, rel="self", type=MIMETYPES[fmt].split(";")[0])
    fg.link(href=spec.page_url, rel="alternate", type="text/html")
    fg.language("en-GB")
    fg.generator(site_name, uri=url_for("jobs.home", _external=True))
    fg.updated(updated)
    fg.lastBuildDate(updated)
    authority, skills_url = tag_authority(), url_for("skills.index", _external=True)
    for job in rows.jobs:
        _add_entry(fg, job, rows.origins.get(job.id), authority, skills_url)
    return fg.rss_str(pretty=False) if fmt == "rss" else fg.atom_str(pretty=False)


def _add_entry(fg: Any, job: Job, origin: tuple[str, str] | None, authority: str, skills_url: str) -> None:
    entry = fg.add_entry(order="append")
    link = url_for("jobs.show", job_id=job.id, _external=True)
    guid = job_guid(job, authority)
    entry.id(guid)
    entry.guid(guid, permalink=False)
    entry.title(job.title)
    entry.link(href=link, rel="alternate", type="text/html")
    entry.published(aware(job.published_at or job.created_at))
    entry.updated(aware(job.updated_at))
    coop_url = url_for("coops.show", slug=job.coop.slug, _external=True)
    entry.author({"name": job.coop.name, "uri": coop_url})
    entry.dc.dc_creator(job.coop.name)
    for skill in job.skills:
        entry.category(term=skill.slug, label=skill.name, scheme=skills_url)
    entry.summary(entry_summary(job, origin), type="html")
    if job.description_html:
        entry.content(job.description_html, type="html")

