"""Business rules of feeds, as plain functions: private feed tokens and feed sources."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import exists, or_, select

from ..audit.services import record
from ..core import tokens
from ..core.tokens import MAX_TOKENS_PER_USER  # noqa: F401  (tests and pages quote it)
from ..core.rules import RuleError
from ..core.time import utcnow
from ..extensions import db
from ..federation import viewer_for
from ..federation.models import NetworkCoordinator, Visibility
from ..federation import posting_visibilities
from ..jobs.models import Job, JobKind
from .addresses import DEFAULT_PORTS, AddressPolicy
from .models import FeedSource, FeedToken, ImportedEntry, SourceKind

if TYPE_CHECKING:
    from sqlalchemy.sql.selectable import Exists
    from collections.abc import Iterable, Mapping
    from typing import Any
    from typing import Sequence
    from ..accounts.models import User
    from ..federation.policy import Viewer
    from ..skills.models import Skill

MIN_INTERVAL, MAX_INTERVAL = 5, 7 * 24 * 60


def tag_authority() -> str:
    """The host part of tag: URIs, from SITE_URL so that ids survive a change of front end."""
    host = urlsplit(current_app.config.get("SITE_URL") or "").hostname
    return host or "marketplace.invalid"


def job_guid(job: Job, authority: str | None = None) -> str:
    """A permanent id for a job's entries: a tag URI (RFC 4151) of the site and the job."""
    return f"tag:{authority or tag_authority()},{job.created_at:%Y-%m-%d}:job/{job.id}"


class FeedRuleError(RuleError):
    """A change that the rules refuse; ``field`` names the form field at fault, if any."""


# --- private feed tokens (the shared token rules of core.tokens, for FeedToken) -------------

def create_token(user: User, label: str = "") -> tuple[FeedToken, str]:
    """Make a token for ``user``; returns (FeedToken, plain token). Show the plain token once."""
    return tokens.create_token(FeedToken, user, label)


def user_tokens(user: User) -> list[FeedToken]:
    return tokens.user_tokens(FeedToken, user)


def revoke_token(token: FeedToken, user: User) -> None:
    tokens.revoke_token(token, user)


def viewer_for_token(plain: str | None) -> Viewer | None:
    """The viewer of a private feed's token owner, or None for an unknown, revoked or
    malformed token and for a deactivated user. Notes the token's use (the caller commits)."""
    user = tokens.owner_of(FeedToken, plain)
    return viewer_for(user) if user is not None else None


# --- feed sources -----------------------------------------------------------------------------

def can_manage_sources(user: User) -> bool:
    """Network coordinators and site admins manage the feed sources."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_site_admin:
        return True
    return db.session.scalar(
        select(NetworkCoordinator.user_id).where(NetworkCoordinator.user_id == user.id).limit(1)
    ) is not None


def check_url(url: str) -> str:
    """Only http(s) URLs are fetched (never file:, ftp: or data: through urllib), on the allowed
    ports; an address written as a private or local IP is refused here already. Names are
    checked again at every fetch (addresses.AddressPolicy), since what they point to can change."""
    parts = urlsplit(url or "")
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        port = None
    if parts.scheme not in ("http", "https") or not parts.hostname or port is None:
        raise FeedRuleError("Give the feed's full address, starting with https:// or http://.", field="url")
    refusal = AddressPolicy.from_settings().refusal(parts.hostname, port)
    if refusal:
        raise FeedRuleError(refusal, field="url")
    return url


REFETCH_FIELDS = {"url", "kind", "visibility", "job_kind", "skills"}


def _check_source(values: Mapping[str, Any], user: User, source: FeedSource | None = None) -> None:
    check_url(values["url"])
    if values["kind"] not in {k.value for k in SourceKind}:
        raise FeedRuleError("Choose RSS/Atom or OCDS.", field="kind")
    if values["job_kind"] not in {k.value for k in JobKind}:
        raise FeedRuleError("Choose the kind of work the entries are.", field="job_kind")
    interval = values["fetch_interval_minutes"]
    if not MIN_INTERVAL <= interval <= MAX_INTERVAL:
        raise FeedRuleError(
            f"Fetch every {MIN_INTERVAL} minutes at most often, once a week at least.",
            field="fetch_interval_minutes",
        )
    coop, visibility = values["coop"], values["visibility"]
    if coop is None:
        raise FeedRuleError("Choose the co-op in whose name the jobs appear.", field="coop")
    # Imported jobs speak in a co-op's name, so only its own members may set that up (or change
    # what a source imports): a coordinator cannot post, through a feed, as a co-op they are not in.
    if not user.is_member_of(coop):
        raise FeedRuleError(
            f"Jobs can only be imported in the name of a co-op you belong to, and you are not a member of {coop.name}.",
            field="coop",
        )
    # The same rule as posting by hand: the co-op must belong to that audience …
    if visibility not in posting_visibilities(coop):
        raise FeedRuleError(
            f"{coop.name} cannot post jobs with this visibility: it is not an active member of that audience.",
            field="visibility",
        )
    # … and whoever sets up the import must be able to see what it brings in.
    if visibility not in viewer_for(user).visibilities:
        raise FeedRuleError("You cannot import jobs for an audience you cannot see.", field="visibility")
    clash = db.session.scalar(select(FeedSource).where(FeedSource.url == values["url"]))
    if clash is not None and clash is not source:
        raise FeedRuleError(f"This feed is already a source: {clash.name}.", field="url")


def _apply_source(source: FeedSource, values: Mapping[str, Any], skills: Iterable[Skill] | None) -> None:
    source.name = values["name"]
    source.url = values["url"]
    source.kind = values["kind"]
    source.coop = values["coop"]
    source.visibility = values["visibility"]
    source.job_kind = values["job_kind"]
    source.active = bool(values["active"])
    source.bids_here = bool(values.get("bids_here", False))
    source.fetch_interval_minutes = values["fetch_interval_minutes"]
    if skills is not None:
        source.default_skills = list(skills)


def _snapshot(source: FeedSource) -> dict[str, Any]:
    return {
        "name": source.name, "url": source.url, "kind": source.kind, "coop": source.coop_id,
        "visibility": source.visibility, "job_kind": source.job_kind, "active": source.active,
        "bids_here": source.bids_here,
        "fetch_interval_minutes": source.fetch_interval_minutes,
        "skills": sorted(s.id for s in source.default_skills),
    }


def create_source(user: User, values: Mapping[str, Any], skills: Iterable[Skill] = ()) -> FeedSource:
    if not can_manage_sources(user):
        raise FeedRuleError("Only network coordinators and site admins manage feed sources.")
    _check_source(values, user)
    source = FeedSource(created_by=user)
    _apply_source(source, values, skills)
    db.session.add(source)
    record("feed_source.created", source, actor=user, coop=source.coop, name=source.name,
           url=source.url, visibility=source.visibility)
    return source


def update_source(source: FeedSource, user: User, values: Mapping[str, Any],
                  skills: Iterable[Skill] | None = None) -> list[str]:
    if not can_manage_sources(user):
        raise FeedRuleError("Only network coordinators and site admins manage feed sources.")
    _check_source(values, user, source)
    before = _snapshot(source)
    _apply_source(source, values, skills)
    after = _snapshot(source)
    changed = sorted(k for k in after if after[k] != before[k])
    if set(changed) & REFETCH_FIELDS:
        # Another address, or entries that now make other jobs: the next fetch reads and
        # compares everything instead of trusting the last one's validators.
        source.etag = source.last_modified = source.body_hash = None
    if changed:
        record("feed_source.updated", source, actor=user, coop=source.coop, fields=changed)
    return changed


def set_active(source: FeedSource, user: User, active: bool) -> None:
    if not can_manage_sources(user):
        raise FeedRuleError("Only network coordinators and site admins manage feed sources.")
    if source.active == active:
        raise FeedRuleError("This source is already " + ("active." if active else "paused."))
    source.active = active
    record("feed_source.resumed" if active else "feed_source.paused", source, actor=user,
           coop=source.coop)


def request_fetch(source: FeedSource, user: User, now: datetime | None = None) -> bool:
    """Queue ``source`` for the next run of ``flask feeds fetch``: a fetch can take as long as the
    feed's timeout, which no web request should wait for. True if it was not queued already."""
    if not can_manage_sources(user):
        raise FeedRuleError("Only network coordinators and site admins manage feed sources.")
    if source.fetch_requested_at is not None:
        return False
    source.fetch_requested_at = now or utcnow()
    record("feed_source.fetch_requested", source, actor=user, coop=source.coop)
    return True


def all_sources() -> Sequence[FeedSource]:
    return db.session.scalars(select(FeedSource).order_by(FeedSource.name, FeedSource.id)).all()


def due_sources(now: datetime | None = None) -> list[FeedSource]:
    """Active sources whose fetch interval has passed (or that were never fetched), and those a
    person asked to fetch now, paused or not."""
    now = now or utcnow()
    active = db.session.scalars(
        select(FeedSource)
        .where(or_(FeedSource.active.is_(True), FeedSource.fetch_requested_at.is_not(None)))
        .order_by(FeedSource.id)
    ).all()
    return [s for s in active if s.is_due(now)]


# --- imported jobs ------------------------------------------------------------------------------

def imported_from(job: Job | None) -> ImportedEntry | None:
    """The ImportedEntry (with its source) that ``job`` came from, or None for a job posted here."""
    if job is None or job.id is None:
        return None
    return db.session.scalar(
        select(ImportedEntry).where(ImportedEntry.job_id == job.id).limit(1)
    )


def published_elsewhere() -> Exists:
    """SQL condition: the job is another organisation's notice, imported from a source that is
    not a co-op's own feed of its own work (the opposite of ``bids_here``)."""
    return exists().where(ImportedEntry.job_id == Job.id, FeedSource.id == ImportedEntry.source_id,
                          FeedSource.bids_here.is_(False))


def imported_entries(jobs: Iterable[Job]) -> dict[int, ImportedEntry]:
    """{job id: ImportedEntry} for the imported jobs among ``jobs``, in one statement."""
    ids = [job.id for job in jobs]
    if not ids:
        return {}
    return {e.job_id: e for e in db.session.scalars(select(ImportedEntry).where(ImportedEntry.job_id.in_(ids)))}


def bids_go_to_source(job: Job) -> ImportedEntry | None:
    """The entry of an imported job whose bids go to the original notice (its source is not a
    co-op's own feed of its own work), or None when co-ops bid on the job here."""
    entry = imported_from(job)
    return entry if entry is not None and not entry.source.bids_here else None


def visibility_choices(user: User) -> list[tuple[str, str]]:
    """The visibilities a user may give imported jobs (those they can see)."""
    seen = viewer_for(user).visibilities
    return [(v.value, v.label) for v in Visibility if v.value in seen]
