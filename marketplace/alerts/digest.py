"""The weekly digest of a co-op, to every member who has not stopped it: new work matching the
co-op's skills, the co-op's interests lapsing in the coming week, and questions waiting for an
answer on the co-op's jobs.

It goes once a week, from ``ALERTS_WEEKLY_DAY`` (ISO: 1 is Monday) at ``ALERTS_DIGEST_HOUR`` in
the site's time zone, with ``flask alerts send``. Each (co-op, member, week) is claimed in
``weekly_digest_sent`` (unique) and committed before the email leaves: a repeat, or a second
process at once, sends nothing twice. Every item passes the visibility rule for its recipient
when it is sent. Co-ops go in batches: the statements of a batch do not depend on its size.
"""
from __future__ import annotations

from typing import TYPE_CHECKING
from datetime import date, datetime

from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app, url_for
from sqlalchemy import func, select

from ..accounts.models import User
from ..bids.models import Interest, InterestState
from ..coops.models import Coop, CoopMember, coop_skill
from ..core.models import claim_new
from ..core.rules import RuleError
from ..core.time import to_local, utcnow
from ..extensions import db
from ..federation import can_view_job, viewers_for
from ..jobs.models import Job, JobState
from ..notifications.models import NotificationKind
from ..notifications.services import add_notices
from ..questions.models import Question
from .models import WeeklyDigestOptOut, WeeklyDigestSent
from .sending import job_items, job_options, new_jobs_with_skills, send_outgoing, visible_news
from .services import signed, unsigned

if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Callable
    from collections.abc import Sequence
    from sqlalchemy import Row

BATCH = 200  # co-ops per batch
WEEK = timedelta(days=7)
UNSUBSCRIBE_SALT = "weekly-digest-unsubscribe"


@dataclass
class Digest:
    """What one member gets: lists of jobs they may see."""
    work: list[Job] = field(default_factory=list)
    lapsing: list[tuple[Job, date]] = field(default_factory=list)  # (job, the interest's date)
    questions: list[tuple[Job, int]] = field(default_factory=list)  # (job, questions waiting)

    def __bool__(self) -> bool:
        return bool(self.work or self.lapsing or self.questions)


def week_of(now: datetime) -> str | None:
    """The week a sending at ``now`` belongs to (ISO, in the site's time zone), or None before
    the weekly day and hour of that week."""
    local = to_local(now)
    day = current_app.config["ALERTS_WEEKLY_DAY"]
    if not 1 <= day <= 7:
        raise RuleError(f"ALERTS_WEEKLY_DAY must be 1 (Monday) to 7 (Sunday), not {day}.")
    if (local.isoweekday(), local.hour) < (day, current_app.config["ALERTS_DIGEST_HOUR"]):
        return None
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def when() -> str:
    """When the digest goes, for people: "Monday from 07:00"."""
    config = current_app.config
    return f"{DAYS[(config['ALERTS_WEEKLY_DAY'] - 1) % 7]} from {config['ALERTS_DIGEST_HOUR']:02d}:00"


def send_weekly(report: Any, now: datetime | None = None) -> None:
    """Send the week's digests that are due and not sent yet (adds to ``report``)."""
    now = now or utcnow()
    week = week_of(now)
    if week is None:
        return
    coop_ids = db.session.scalars(
        select(CoopMember.coop_id).join(User, User.id == CoopMember.user_id)
        .where(User.active.is_(True)).distinct().order_by(CoopMember.coop_id)
    ).all()
    for start in range(0, len(coop_ids), BATCH):
        _send_batch(coop_ids[start:start + BATCH], week, now, report)


def _members(coop_ids: Sequence[int]) -> Sequence[Row[int, User]]:
    """[(co-op id, user)] of the active members who have not stopped the digest."""
    opted_out = select(WeeklyDigestOptOut.user_id).where(WeeklyDigestOptOut.coop_id == CoopMember.coop_id)
    return db.session.execute(
        select(CoopMember.coop_id, User).join(User, User.id == CoopMember.user_id)
        .where(CoopMember.coop_id.in_(coop_ids), User.active.is_(True), User.id.not_in(opted_out))
        .order_by(CoopMember.coop_id, User.id)
    ).all()


def _items(coop_ids: Sequence[int],
           now: datetime) -> tuple[dict[int, set[int]], list[Any], dict[int, list[Any]], dict[int, list[Any]]]:
    """({co-op id: {skill ids}}, new jobs with their skills, {co-op id: [(job, date)]} of interests
    lapsing within the week, {co-op id: [(job, count)]} of questions waiting): before visibility."""
    skills: dict[int, set[int]] = {}
    for coop_id, skill_id in db.session.execute(
            select(coop_skill.c.coop_id, coop_skill.c.skill_id).where(coop_skill.c.coop_id.in_(coop_ids))):
        skills.setdefault(coop_id, set()).add(skill_id)
    work = new_jobs_with_skills(set().union(*skills.values()), now - WEEK)
    lapsing: dict[int, list[Any]] = {}
    for interest, job in db.session.execute(
        select(Interest, Job).join(Job, Job.id == Interest.job_id)
        .where(Interest.coop_id.in_(coop_ids), Interest.state == InterestState.ACTIVE,
               Interest.bid_by <= (now + WEEK).date(), Job.in_state(JobState.OPEN))
        .options(*job_options()).order_by(Interest.bid_by, Job.id)
    ):
        lapsing.setdefault(interest.coop_id, []).append((job, interest.bid_by))
    questions: dict[int, list[Any]] = {}
    for job, count in db.session.execute(
        select(Job, func.count(Question.id)).join(Question, Question.job_id == Job.id)
        .where(Job.coop_id.in_(coop_ids), Question.answered_at.is_(None), Job.in_state(JobState.OPEN))
        .group_by(Job.id).options(*job_options()).order_by(Job.id)
    ):
        questions.setdefault(job.coop_id, []).append((job, count))
    return skills, work, lapsing, questions


def _send_batch(coop_ids: Sequence[int], week: str, now: datetime, report: Any) -> int:
    """Send one batch of co-ops' digests; returns how many members it had."""
    members = _members(coop_ids)
    if not members:
        return 0
    viewers = viewers_for({user.id: user for _, user in members}.values())
    skills, work, lapsing, questions = _items(coop_ids, now)
    digests = []
    for coop_id, user in members:  # visible_news below is can_view_job too, for many jobs at once
        viewer = viewers[user.id]
        digests.append((coop_id, user, Digest(
            work=visible_news(work, viewer, frozenset(skills.get(coop_id, ())), now - WEEK, not_by=coop_id),
            lapsing=[(j, d) for j, d in lapsing.get(coop_id, []) if can_view_job(viewer, j)],
            questions=[(j, n) for j, n in questions.get(coop_id, []) if can_view_job(viewer, j)],
        )))
    claimed = set(claim_new(
        WeeklyDigestSent, [{"coop_id": c, "user_id": u.id, "week": week, "sent_at": utcnow()} for c, u, _ in digests],
        ("coop_id", "user_id", "week"), (WeeklyDigestSent.coop_id, WeeklyDigestSent.user_id)))
    names = dict(db.session.execute(select(Coop.id, Coop.name).where(Coop.id.in_(coop_ids))).all())
    outgoing, notices, item = [], [], job_items()
    for coop_id, user, digest in digests:
        if digest and (coop_id, user.id) in claimed:
            outgoing.append(_message(coop_id, names[coop_id], user, digest, item))
            notices += _notices(names[coop_id], user, digest, item)
    add_notices(notices)
    db.session.commit()  # the claims (and notices) first: a digest goes at most once
    report.digests += len(send_outgoing(outgoing, report, "weekly digest"))
    return len(members)


def _notices(coop_name: str, user: User, digest: Digest, item: Callable[[Job], dict[str, Any]]) -> list[Any]:
    """The digest's items as in-app notices, one per job."""
    kind = NotificationKind.WEEKLY_DIGEST
    return ([(user.id, kind, j, f"Work for {coop_name}: {j.title}", item(j)["path"]) for j in digest.work]
            + [(user.id, kind, j, f"{coop_name}'s interest in “{j.title}” lapses after {d:%d %B}", item(j)["path"])
               for j, d in digest.lapsing]
            + [(user.id, kind, j, f"{n} question{'' if n == 1 else 's'} on “{j.title}” "
                f"{'waits' if n == 1 else 'wait'} for an answer", item(j)["path"]) for j, n in digest.questions])


def _message(coop_id: int, coop_name: str, user: User, digest: Digest,
             job: Callable[[Job], dict[str, Any]]) -> dict[str, Any]:
    site = current_app.config["SITE_NAME"]
    unsubscribe_link = url_for("alerts.weekly_unsubscribe", token=unsubscribe_token(coop_id, user.id), _external=True)
    return dict(
        to=user.email,
        subject=f"[{site}] The week for {coop_name}"[:200],
        template="weekly_digest",
        name=user.name, coop=coop_name,
        jobs=[job(j) for j in digest.work],
        lapsing=[dict(job(j), bid_by=d) for j, d in digest.lapsing],
        questions=[dict(job(j), count=n) for j, n in digest.questions],
        settings_link=url_for("alerts.index", _external=True),
        unsubscribe_link=unsubscribe_link,
        headers={"List-Unsubscribe": f"<{unsubscribe_link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )


# --- getting it or not -------------------------------------------------------------------------

def is_getting(coop_id: int, user_id: int) -> bool:
    return db.session.get(WeeklyDigestOptOut, (coop_id, user_id)) is None


def set_getting(coop_id: int, user_id: int, getting: bool) -> None:
    """A member starts or stops getting their co-op's weekly digest."""
    found = db.session.get(WeeklyDigestOptOut, (coop_id, user_id))
    if getting and found is not None:
        db.session.delete(found)
    elif not getting and found is None:
        db.session.add(WeeklyDigestOptOut(coop_id=coop_id, user_id=user_id))


def unsubscribe_token(coop_id: int, user_id: int) -> str:
    return signed(UNSUBSCRIBE_SALT, {"coop": coop_id, "user": user_id})


def read_unsubscribe_token(token: str) -> tuple[Coop, User] | None:
    """(co-op, user) a link was made for, or None when it is not valid (or either is gone)."""
    payload = unsigned(UNSUBSCRIBE_SALT, token)
    if payload is None:
        return None
    coop, user = db.session.get(Coop, payload.get("coop")), db.session.get(User, payload.get("user"))
    return (coop, user) if coop is not None and user is not None else None
