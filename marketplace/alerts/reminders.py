"""Reminders, so that nobody has to keep checking the site: an interest about to lapse, bids
closing soon on a job a co-op said it would bid on, questions waiting for the poster, and a
poster who has neither awarded nor cancelled a week and four weeks after bids closed.

Each reminder is a notification (in the app, and by email unless the member turned that kind
off) through ``notifications.notify``, which tells only people who may still see the job. A
reminder is claimed in ``reminder_sent`` (unique per kind, job, co-op and step) in the same
transaction as its notifications: ``flask alerts remind`` may run as often as you like, and
twice at once, and each reminder is given once.
"""
from __future__ import annotations

from typing import TYPE_CHECKING
from datetime import datetime

from dataclasses import dataclass
from datetime import timedelta

from flask import url_for
from sqlalchemy import func, select

from ..bids.models import Interest, InterestState
from ..core.models import claim_new
from ..core.templating import format_datetime
from ..core.time import utcnow
from ..extensions import db
from ..jobs.models import Job, JobState, JobStatus
from ..notifications.models import NotificationKind
from ..notifications.services import notify
from ..questions.models import Question
from .models import ReminderSent

if TYPE_CHECKING:
    from collections.abc import Iterator

SOON = timedelta(days=2)  # an interest lapsing, or bids closing, within this is worth a reminder
QUESTIONS_WAIT = timedelta(days=1)  # a question unanswered this long is worth a reminder
AWARD_AFTER = (7, 28)  # days after bids closed to remind a poster who has not decided


@dataclass
class Due:
    kind: NotificationKind
    job: Job
    coop_id: int
    step: str
    message: str


def _interests_lapsing(now: datetime) -> Iterator[Due]:
    rows = db.session.execute(
        select(Interest, Job).join(Job, Job.id == Interest.job_id)
        .where(Interest.state == InterestState.ACTIVE, Interest.bid_by <= (now + SOON).date(),
               Job.in_state(JobState.OPEN))
    ).all()
    for interest, job in rows:
        yield Due(NotificationKind.INTEREST_LAPSING, job, interest.coop_id, interest.bid_by.isoformat(),
                  f"Your co-op's interest in “{job.title}” lapses after {interest.bid_by:%d %B}: bid, or say when you will.")


def _deadlines_near(now: datetime) -> Iterator[Due]:
    rows = db.session.execute(
        select(Interest, Job).join(Job, Job.id == Interest.job_id)
        .where(Interest.state == InterestState.ACTIVE, Job.in_state(JobState.OPEN),
               Job.bids_deadline <= now + SOON)
    ).all()
    for interest, job in rows:
        yield Due(NotificationKind.DEADLINE_NEAR, job, interest.coop_id, job.bids_deadline.isoformat(),
                  f"Bids on “{job.title}” close {format_datetime(job.bids_deadline)} and your co-op has not bid yet.")


def _questions_waiting(now: datetime) -> Iterator[Due]:
    rows = db.session.execute(
        select(Job, func.count(Question.id), func.max(Question.id)).join(Question, Question.job_id == Job.id)
        .where(Question.answered_at.is_(None), Question.created_at <= now - QUESTIONS_WAIT,
               Job.in_state(JobState.OPEN))
        .group_by(Job.id)
    ).all()
    for job, count, newest in rows:
        # Step: the newest question waiting, so that new questions bring a new reminder.
        yield Due(NotificationKind.QUESTIONS_WAITING, job, job.coop_id, str(newest),
                  f"{count} question{'' if count == 1 else 's'} on “{job.title}” "
                  f"{'waits' if count == 1 else 'wait'} for an answer.")


def _awards_due(now: datetime) -> Iterator[Due]:
    for days in AWARD_AFTER:
        jobs = db.session.scalars(
            select(Job).where(Job.status == JobStatus.PUBLISHED.value, Job.in_state(JobState.CLOSED),
                              Job.bids_deadline <= now - timedelta(days=days))
        ).all()
        for job in jobs:
            yield Due(NotificationKind.AWARD_DUE, job, job.coop_id, str(days),
                      f"Bids closed on “{job.title}” {days} days ago: award a bid, or cancel the job with a reason, "
                      "so the co-ops that bid know.")


FINDERS = (_interests_lapsing, _deadlines_near, _questions_waiting, _awards_due)


def _claim(due: Due) -> bool:
    row = {"kind": due.kind.value, "job_id": due.job.id, "coop_id": due.coop_id, "step": due.step,
           "sent_at": utcnow()}
    return bool(claim_new(ReminderSent, [row], ("kind", "job_id", "coop_id", "step"), (ReminderSent.id,)))


def send_reminders(now: datetime | None = None) -> int:
    """Give every reminder that is due and not given yet; returns how many were given."""
    now = now or utcnow()
    given = 0
    for finder in FINDERS:
        for due in list(finder(now)):
            if _claim(due):
                notify(due.kind, due.job, due.message, url_for("jobs.show", job_id=due.job.id), coops=[due.coop_id])
                given += 1
            db.session.commit()  # the claim and its notifications together; emails after the commit
    return given
