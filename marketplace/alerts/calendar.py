"""A private iCalendar (RFC 5545) of the deadlines of the jobs a user follows: those their
co-ops posted (open), said they would bid on (a live interest) or bid on (a live bid), and those
their saved searches find (the ones they get, not paused; not the co-ops' skill matches). Read
with a private feed token, so it is revocable like the private feeds; every job in it passes
the visibility rule for the token's owner at the moment it is read."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app, url_for
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..bids.models import LIVE_STATUSES, Bid, Interest, InterestState, status_values
from ..core.time import aware, utcnow
from ..extensions import db
from ..federation import visible_jobs
from ..feeds import queries
from ..feeds.services import job_guid
from ..jobs.models import Job, JobState
from ..search import SearchUnavailable
from . import services

if TYPE_CHECKING:
    from typing import Any
    from typing import Sequence
    from ..federation.policy import Viewer

MAX_JOBS = 500
PER_SEARCH = 50  # newest jobs of each saved search


def followed_jobs(viewer: Viewer) -> list[Any]:
    """Open jobs the viewer's co-ops posted, mean to bid on or bid on, or the viewer's saved
    searches find, that the viewer may see; soonest bids deadline first."""
    found = {job.id: job for job in [*_coops_jobs(viewer), *_searched_jobs(viewer)]}
    return sorted(found.values(), key=lambda job: (job.bids_deadline, job.id))[:MAX_JOBS]


def _searched_jobs(viewer: Viewer) -> list[Any]:
    user = db.session.get(User, viewer.user_id) if viewer.user_id is not None else None
    if user is None:
        return []
    found = []
    for search, getting in services.searches_for(user):
        if not getting or search.paused or search.match_skills:
            continue
        try:
            jobs = queries.matching_jobs(viewer, services.query_of(search), PER_SEARCH, (joinedload(Job.coop),))
        except (queries.InvalidQuery, SearchUnavailable):  # a skill it names has gone; the index is rebuilt
            continue
        found += [job for job in jobs if job.state == JobState.OPEN]
    return found


def _coops_jobs(viewer: Viewer) -> list[Any] | Sequence[Any]:
    coops = sorted(viewer.coop_ids)
    if not coops:
        return []
    interested = exists().where(Interest.job_id == Job.id, Interest.coop_id.in_(coops),
                                Interest.state == InterestState.ACTIVE)
    bidding = exists().where(Bid.job_id == Job.id, Bid.coop_id.in_(coops),
                             Bid.status.in_(status_values(LIVE_STATUSES)))
    stmt = (visible_jobs(select(Job), viewer)
            .where(Job.in_state(JobState.OPEN), or_(Job.coop_id.in_(coops), interested, bidding))
            .options(joinedload(Job.coop)).order_by(Job.bids_deadline, Job.id).limit(MAX_JOBS))
    return db.session.scalars(stmt).all()


def calendar(viewer: Viewer) -> bytes:
    """The calendar as bytes: a questions deadline and a bids deadline event per job."""
    # Here, not at the top: icalendar is 3 MB of modules in every worker, for a rare request.
    from icalendar import Calendar, Event

    site = current_app.config["SITE_NAME"]
    cal = Calendar()
    cal.add("prodid", f"-//{site}//Deadlines//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{site}: deadlines")
    stamp = utcnow()
    for job in followed_jobs(viewer):
        link = url_for("jobs.show", job_id=job.id, _external=True)
        for what, moment in (("questions", job.questions_deadline), ("bids", job.bids_deadline)):
            if moment is None or moment < stamp:
                continue
            event = Event()
            event.add("uid", f"{job_guid(job)}/{what}")
            event.add("dtstamp", aware(stamp))
            event.add("dtstart", aware(moment))
            event.add("dtend", aware(moment))
            event.add("summary", f"{'Questions' if what == 'questions' else 'Bids'} close: {job.title}")
            event.add("description", f"{job.coop.name} · {job.kind_label}\n{link}")
            event.add("url", link)
            cal.add_component(event)
    return cal.to_ical()
