"""Sending saved searches: which are due, the news each recipient may see now (the visibility rule
applied at send time, through the recipient's own viewer), claiming each job for each recipient
once in ``alert_delivery``, and only then the email. Apart from ``services`` (saving, managing
and unsubscribing), which it reads; the weekly digest sends through the same parts."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app, url_for
from flask_babel import ngettext
from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import User
from ..coops.models import Coop, CoopMember
from ..core.models import claim_new
from ..core.time import to_local, utcnow
from ..extensions import db
from ..federation import audience_key, audience_of, viewers_for
from ..feeds import queries
from ..jobs.models import Job, JobState, job_skill
from ..mail import MailError, send_mail
from ..notifications.models import NotificationKind
from ..notifications.services import add_notices
from ..search import SearchUnavailable
from .models import AlertDelivery, AlertOptOut, Delivery, SavedSearch
from .services import MAX_JOBS, add_skill_matches, query_of, unsubscribe_token

if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Callable
    from collections.abc import Iterable
    from collections.abc import Sequence
    from ..federation.policy import Viewer

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=10)
BATCH = 200  # saved searches sent together


@dataclass
class SendReport:
    searches: int = 0
    emails: int = 0
    jobs: int = 0
    digests: int = 0  # weekly co-op digests sent (not in ``emails``)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (what, address, reason)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (search id, reason)


def is_due(search: SavedSearch, now: datetime) -> bool:
    """Instant alerts at every sending; digests from the digest hour of the site's time zone,
    once a day (daily) or seven days after the last (weekly)."""
    if search.paused or search.delivery == Delivery.FEED:
        return False
    if search.delivery == Delivery.INSTANT:
        return True
    local = to_local(now)
    if local.hour < current_app.config["ALERTS_DIGEST_HOUR"]:
        return False
    days = (local.date() - to_local(search.sent_up_to).date()).days
    return days >= (1 if search.delivery == Delivery.DAILY else 7)


def _recipients(searches: Sequence[SavedSearch]) -> dict[int, list[User]]:
    """{search id: [active users who get it]}: its author, or its co-op's members not opted
    out. Two statements for any number of searches."""
    coop_ids = sorted({s.coop_id for s in searches if s.coop_id is not None})
    members: dict[int, list[Any]] = {}
    opted_out: set[Any] = set()
    if coop_ids:
        for coop_id, user in db.session.execute(
            select(CoopMember.coop_id, User).join(User, User.id == CoopMember.user_id)
            .where(CoopMember.coop_id.in_(coop_ids), User.active.is_(True)).order_by(User.id)
        ).all():
            members.setdefault(coop_id, []).append(user)
        opted_out = set(db.session.execute(
            select(AlertOptOut.saved_search_id, AlertOptOut.user_id)
            .where(AlertOptOut.saved_search_id.in_([s.id for s in searches if s.coop_id is not None]))
        ))
    found = {}
    for search in searches:
        if search.coop_id is None:
            found[search.id] = [search.user] if search.user is not None and search.user.is_active else []
        else:
            found[search.id] = [u for u in members.get(search.coop_id, []) if (search.id, u.id) not in opted_out]
    return found


def news_for(viewer: Viewer, query: queries.JobQuery, since: datetime) -> list[Job]:
    """Open jobs of the query published after ``since`` (give or take OVERLAP) that ``viewer``
    may see now. The overlap catches a job committed just after a sending read the jobs but
    published (stamped) just before it; the claims keep it from being sent twice."""
    found = queries.matching_jobs(viewer, query, MAX_JOBS * 4, job_options())
    return [job for job in found if job.published_at and job.published_at > since - OVERLAP
            and job.state == JobState.OPEN][:MAX_JOBS]


def job_options() -> tuple[Any, ...]:
    """What an alert shows of a job (a function: the mappers are set up once the app is)."""
    return joinedload(Job.coop), selectinload(Job.skills)


@dataclass(frozen=True)
class News:
    """A new job with what picking its recipients needs, worked out once per batch."""
    job: Job
    published_at: datetime | None  # set: only published jobs are news
    coop_id: int
    skill_ids: frozenset[int]
    audience: frozenset[str]  # federation.audience_of(job)


def new_jobs_with_skills(skill_ids: Iterable[int], since: datetime) -> list[News]:
    """``News`` of the open jobs published after ``since`` with any of ``skill_ids``, newest
    first, for many recipients at once: each recipient's share is picked with ``visible_news``."""
    if not skill_ids:
        return []
    jobs = db.session.scalars(
        select(Job).where(Job.in_state(JobState.OPEN), Job.published_at > since,
                          exists().where(job_skill.c.job_id == Job.id, job_skill.c.skill_id.in_(sorted(skill_ids))))
        .options(*job_options()).order_by(Job.published_at.desc(), Job.id.desc())
    ).all()
    return [News(job, job.published_at, job.coop_id, frozenset(s.id for s in job.skills), audience_of(job))
            for job in jobs]


def visible_news(news: Iterable[News], viewer: Viewer, skill_ids: frozenset[int] | set[int], since: datetime,
                 not_by: int | None = None) -> list[Job]:
    """The jobs of ``news`` with one of ``skill_ids``, published after ``since``, not posted by
    the co-op ``not_by``, that ``viewer`` may see: ``can_view_job``, the audiences worked out once."""
    tokens = viewer.tokens
    return [n.job for n in news
            if n.published_at is not None and n.published_at > since and n.coop_id != not_by and n.skill_ids & skill_ids
            and n.audience & tokens][:MAX_JOBS]


def job_items() -> Callable[[Job], dict[str, Any]]:
    """A function giving what an email and a notice show of a job, made once per job (a batch
    sends the same jobs to many recipients)."""
    made = {}

    def item(job: Job) -> dict[str, Any]:
        if job.id not in made:
            made[job.id] = {"title": job.title, "coop": job.coop.name, "kind": job.kind_label,
                            "budget": job.budget_label, "deadline": job.bids_deadline,
                            "link": url_for("jobs.show", job_id=job.id, _external=True),
                            "path": url_for("jobs.show", job_id=job.id)}
        return made[job.id]
    return item


def _news(searches: Sequence[SavedSearch], recipients: dict[int, list[User]], viewers: dict[int, Viewer],
          report: SendReport) -> dict[int, list[tuple[User, list[Job]]]]:
    """{search id: [(user, jobs)]} of the due ``searches``. The co-ops' skill matches share one
    query of new jobs; each other search runs once per audience of its recipients. A search that
    cannot run is left out (and reported)."""
    matches = [s for s in searches if s.match_skills]
    candidates = new_jobs_with_skills({k.id for s in matches if s.coop is not None for k in s.coop.skills},
                                      min((s.sent_up_to for s in matches), default=utcnow()) - OVERLAP)
    wanted = {}
    for search in searches:
        users = recipients[search.id]
        try:
            if search.match_skills:
                coop = search.coop
                if coop is None:  # not kept: the co-op's searches go with it
                    raise queries.InvalidQuery("the co-op has gone")
                skill_ids = {k.id for k in coop.skills}
                if not skill_ids:
                    raise queries.InvalidQuery(f"{coop.name} lists no skills")
                wanted[search.id] = [(u, visible_news(candidates, viewers[u.id], frozenset(skill_ids),
                                                      search.sent_up_to - OVERLAP))
                                     for u in users]
                continue
            query = query_of(search)
            # Recipients of one audience (most members of a co-op) see the same jobs: one query each.
            by_audience = {}
            for user in users:
                key = audience_key(viewers[user.id])
                if key not in by_audience:
                    by_audience[key] = news_for(viewers[user.id], query, search.sent_up_to)
            wanted[search.id] = [(u, by_audience[audience_key(viewers[u.id])]) for u in users]
        except queries.InvalidQuery as error:  # a skill or co-op it names has gone
            report.skipped.append((search.id, str(error)))
        except SearchUnavailable:
            report.skipped.append((search.id, "the search index is being rebuilt"))
    return wanted


def _claim(wanted: dict[int, list[tuple[User, list[Job]]]]) -> set[Any]:
    """{(search id, user id, job id)} of ``wanted`` ({search id: [(user, jobs)]}) not sent yet,
    claimed for sending now."""
    rows = [{"saved_search_id": search_id, "user_id": user.id, "job_id": job.id, "sent_at": utcnow()}
            for search_id, pairs in wanted.items() for user, jobs in pairs for job in jobs]
    return set(claim_new(AlertDelivery, rows, ("saved_search_id", "user_id", "job_id"),
                         (AlertDelivery.saved_search_id, AlertDelivery.user_id, AlertDelivery.job_id)))


def send_outgoing(outgoing: Iterable[dict[str, Any]], report: Any, what: str) -> list[dict[str, Any]]:
    """Send the emails prepared (after the commit of their claims); failures are reported.
    Returns those sent."""
    sent = []
    for message in outgoing:
        try:
            send_mail(**message)
            sent.append(message)
        except MailError as error:
            log.error("%s to %s not sent: %s", what, message["to"], error)
            report.failed.append((what, message["to"], str(error)))
    return sent


def send_due(now: datetime | None = None) -> SendReport:
    """Send every saved search that is due, in batches of BATCH searches (a fixed number of
    statements each, whatever the number of recipients); returns a ``SendReport``."""
    now = now or utcnow()
    report = SendReport()
    if add_skill_matches(now):
        db.session.commit()
    due = [s.id for s in db.session.scalars(
        select(SavedSearch).where(SavedSearch.paused.is_(False)).order_by(SavedSearch.id)
    ) if is_due(s, now)]
    report.searches = len(due)
    for start in range(0, len(due), BATCH):
        # Loaded again for each batch: the previous batch's commit expired them.
        searches = db.session.scalars(
            select(SavedSearch).where(SavedSearch.id.in_(due[start:start + BATCH])).order_by(SavedSearch.id)
            .options(joinedload(SavedSearch.user), joinedload(SavedSearch.coop).selectinload(Coop.skills))
        ).unique().all()
        _send_batch(searches, now, report)
    return report


def _send_batch(searches: Sequence[SavedSearch], now: datetime, report: SendReport) -> int:
    """Send one batch of due searches; returns how many recipients it had."""
    recipients = _recipients(searches)
    viewers = viewers_for({u.id: u for users in recipients.values() for u in users}.values())
    wanted = _news(searches, recipients, viewers, report)
    claimed = _claim(wanted)
    outgoing, notices, item = [], [], job_items()
    by_id = {s.id: s for s in searches}
    for search_id, pairs in wanted.items():
        search = by_id[search_id]
        for user, jobs in pairs:
            mine = [job for job in jobs if (search_id, user.id, job.id) in claimed]
            if mine:
                outgoing.append(_message(search, user, [item(job) for job in mine]))
                notices += [(user.id, NotificationKind.SAVED_SEARCH, job, f"New for “{search.name}”: {job.title}",
                             item(job)["path"]) for job in mine]
        search.sent_up_to = max(search.sent_up_to, now)
    add_notices(notices)
    db.session.commit()  # the claims (and notices) first: a job is sent at most once
    sent = send_outgoing(outgoing, report, "saved search")
    report.emails += len(sent)
    report.jobs += sum(len(message["jobs"]) for message in sent)
    return sum(len(users) for users in recipients.values())


def _message(search: SavedSearch, user: User, jobs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    site = current_app.config["SITE_NAME"]
    unsubscribe_link = url_for("alerts.unsubscribe", token=unsubscribe_token(search, user), _external=True)
    count = ngettext("%(num)d new job", "%(num)d new jobs", len(jobs))
    return dict(
        to=user.email, zone=user.time_zone,
        subject=f"[{site}] {count}: {search.name}"[:200],
        template="alert",
        name=user.name, search_name=search.name, count=count,
        jobs=jobs,
        search_link=url_for("alerts.index", _external=True),
        unsubscribe_link=unsubscribe_link,
        for_coop=search.coop.name if search.coop is not None else None,
        headers={"List-Unsubscribe": f"<{unsubscribe_link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
