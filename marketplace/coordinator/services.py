"""The coordinator's rules as plain functions: capacity, who may match and invite, invitations,
and the figures of the coordinator's and a co-op's dashboards. Callers commit."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from dataclasses import dataclass
from datetime import timedelta

from flask import url_for
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from ..audit.services import record
from ..bids.models import RECEIVED_STATUSES, Bid, Interest, status_values
from ..bids.policy import coordinates_audience, is_poster, visible_bids
from ..coops.models import Coop, CoopMember, coop_skill
from ..core.rules import RuleError
from ..core.time import utcnow
from ..core.work import flush_retrying
from ..extensions import db
from ..federation.models import NetworkMembership, Visibility
from ..federation import acting_coops_clause
from ..federation.policy import can_view_job, coops_seeing_job_clause, viewer_for_coop, visible_jobs
from ..jobs.models import Job, JobState, JobStatus, job_skill
from ..notifications.models import NotificationKind
from ..notifications.services import notify
from ..skills.models import Skill
from .matching import recent_counts
from .models import CoopCapacity, Invitation, InvitationStatus

if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterable
    from collections.abc import Mapping
    from sqlalchemy import ColumnElement
    from sqlalchemy import Select
    from typing import Sequence
    from ..accounts.models import User
    from ..federation.policy import Viewer

MAX_PEOPLE = 10_000
MAX_DAY_RATE = 50_000
MAX_REASON = 2_000
CLOSING_SOON = timedelta(days=7)


T = TypeVar("T")
S = TypeVar("S", bound="Select[*tuple[Any, ...]]")


class CoordinatorRuleError(RuleError):
    """A change that the rules refuse."""


# --- capacity --------------------------------------------------------------------------------

CAPACITY_FIELDS = ("people_1m", "people_3m", "people_6m", "day_rate_min", "day_rate_max")


def capacity_of(coop: Coop) -> CoopCapacity | None:
    return db.session.get(CoopCapacity, coop.id)


def can_see_capacity(viewer: Viewer, coop: Coop) -> bool:
    """A co-op's capacity is for the network, not the public: signed-in members of co-ops
    that see federation posts (active members of a federation network, guests of CoTech), the co-op itself,
    coordinators and site admins."""
    if viewer.is_anonymous:
        return False
    return (coop.id in viewer.coop_ids or viewer.is_site_admin or viewer.is_coordinator
            or Visibility.FEDERATION.value in viewer.visibilities)


def save_capacity(coop: Coop, user: User, values: Mapping[str, int | None]) -> CoopCapacity:
    """``values``: {field: int or None}. Writes an audit event with what changed."""
    if not user.is_admin_of(coop):
        raise CoordinatorRuleError(f"Only admins of {coop.name} can change its capacity.")
    low, high = values.get("day_rate_min"), values.get("day_rate_max")
    if low is not None and high is not None and high < low:
        raise CoordinatorRuleError("The highest day rate must not be below the lowest.", "day_rate_max")
    capacity = capacity_of(coop)
    if capacity is None:
        capacity = CoopCapacity(coop_id=coop.id)
        db.session.add(capacity)
    changed = {}
    for name in CAPACITY_FIELDS:
        if getattr(capacity, name) != values.get(name):
            changed[name] = values.get(name)
            setattr(capacity, name, values.get(name))
    if changed:
        record("coop.capacity_updated", coop, actor=user, coop=coop, changed=changed)
    return capacity


# --- who may match and invite ----------------------------------------------------------------

def coordinates_job(viewer: Viewer, job: Job) -> bool:
    """A coordinator of a network in the job's audience; a public job is every network's."""
    if not viewer.is_coordinator:
        return False
    if job.visibility == Visibility.PUBLIC:
        return True
    return coordinates_audience(viewer, job)


def can_match(viewer: Viewer, job: Job) -> bool:
    """Who sees the suggestions for a job and invites co-ops to bid: the poster's co-op, the
    coordinators of its audience, and site admins; never for a draft."""
    if job.status == JobStatus.DRAFT or not can_view_job(viewer, job):
        return False
    return viewer.is_site_admin or is_poster(viewer, job) or coordinates_job(viewer, job)


def eligible_coops(job: Job, coop_ids: Iterable[int]) -> list[Any] | Sequence[Coop]:
    """Those of ``coop_ids`` that may be invited: they may see the job, are in a network,
    and did not post it."""
    if not coop_ids:
        return []
    return db.session.scalars(
        select(Coop).where(Coop.id.in_(sorted(set(coop_ids))), Coop.id != job.coop_id,
                           coops_seeing_job_clause(job), acting_coops_clause())
        .order_by(Coop.name)
    ).all()


def invitations_for_job(job: Job) -> Sequence[Invitation]:
    return db.session.scalars(
        select(Invitation).where(Invitation.job_id == job.id)
        .options(joinedload(Invitation.coop), joinedload(Invitation.invited_by))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ).all()


def invite(job: Job, coop_ids: Iterable[int], user: User, viewer: Viewer) -> list[Invitation]:
    """Invite the co-ops ``coop_ids`` to bid on ``job``; returns the invitations written."""
    if not can_match(viewer, job):
        raise CoordinatorRuleError("You cannot invite co-ops to bid on this job.")
    if job.state != JobState.OPEN:
        raise CoordinatorRuleError("This job is not open for bids, so nobody can be invited.")
    wanted = set(coop_ids or [])
    if not wanted:
        raise CoordinatorRuleError("Choose at least one co-op to invite.", "coops")
    coops = eligible_coops(job, wanted)
    if len(coops) != len(wanted):
        raise CoordinatorRuleError("Some of the chosen co-ops cannot be invited to this job.", "coops")
    already = set(db.session.scalars(select(Invitation.coop_id).where(
        Invitation.job_id == job.id, Invitation.coop_id.in_(sorted(wanted)))))
    if already:
        names = ", ".join(c.name for c in coops if c.id in already)
        raise CoordinatorRuleError(f"Already invited: {names}.", "coops")
    written = []
    for coop in coops:
        invitation = Invitation(job=job, coop=coop, invited_by_id=user.id)
        db.session.add(invitation)
        db.session.flush()
        record("invitation.created", invitation, actor=user, coop=coop, job_id=job.id)
        notify(NotificationKind.INVITED_TO_BID, job,
               f"{coop.name} is invited to bid on “{job.title}”",
               url_for("coordinator.coop_dashboard", slug=coop.slug, _anchor=f"invitation-{invitation.id}"),
               coops=[coop], actor=user)
        written.append(invitation)
    return written


def flush_invitations(change: Callable[[], T]) -> T:
    """Run ``change`` and flush it, turning a race on the one-invitation-per-co-op rule into a
    rule error (the caller commits)."""
    try:
        return flush_retrying(change, attempts=1)
    except IntegrityError:
        raise CoordinatorRuleError("One of the co-ops was invited by someone else meanwhile.", "coops") from None


def visible_invitation(invitation_id: int, viewer: Viewer) -> Invitation | None:
    """An invitation to one of the viewer's co-ops, on a job that co-op may still see."""
    invitation = db.session.get(Invitation, invitation_id,
                                options=[joinedload(Invitation.job), joinedload(Invitation.coop)])
    if invitation is None or invitation.coop_id not in viewer.coop_ids:
        return None
    if not can_view_job(viewer_for_coop(invitation.coop), invitation.job):
        return None
    return invitation


def answer(invitation: Invitation, user: User, accept: bool, reason: str = "") -> Invitation:
    if not user.is_member_of(invitation.coop):
        raise CoordinatorRuleError("You can only answer for a co-op you belong to.")
    if not invitation.is_pending:
        raise CoordinatorRuleError(f"This invitation was already answered ({invitation.status_label.lower()}).")
    invitation.status = (InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED).value
    invitation.decline_reason = "" if accept else (reason or "").strip()[:MAX_REASON]
    invitation.answered_at = utcnow()
    invitation.answered_by_id = user.id
    record("invitation.accepted" if accept else "invitation.declined", invitation, actor=user,
           coop=invitation.coop, job_id=invitation.job_id, reason=invitation.decline_reason or None)
    return invitation


# --- the coordinator's dashboard -------------------------------------------------------------

def can_use_dashboard(viewer: Viewer) -> bool:
    return viewer.is_coordinator or viewer.is_site_admin


def network_coops_clause(viewer: Viewer) -> ColumnElement[bool]:
    """The co-ops a dashboard reports on: current active or guest members of the networks
    the viewer coordinates (every network, for a site admin)."""
    return acting_coops_clause(None if viewer.is_site_admin else viewer.coordinated_network_ids)


def _open(stmt: S) -> S:
    return stmt.where(Job.in_state(JobState.OPEN))


def unanswered_jobs(viewer: Viewer, limit: int = 50) -> tuple[Sequence[Job], int]:
    """Open jobs the viewer may see that nobody has shown interest in or bid on yet, the
    nearest deadline first; and how many there are."""
    nobody = ~exists(select(Interest.id).where(Interest.job_id == Job.id)) & ~exists(
        select(Bid.id).where(Bid.job_id == Job.id, Bid.status.in_(status_values(RECEIVED_STATUSES))))
    base = visible_jobs(_open(select(Job.id)), viewer).where(nobody)
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    jobs = db.session.scalars(
        visible_jobs(_open(select(Job)), viewer).where(nobody)
        .options(joinedload(Job.coop)).order_by(Job.bids_deadline, Job.id).limit(limit)
    ).all()
    return jobs, total


def closing_soon(viewer: Viewer, limit: int = 20) -> list[Any]:
    """Open jobs whose bids close within a week, with their bid and interest counts."""
    now = utcnow()
    bids = select(func.count(Bid.id)).where(
        Bid.job_id == Job.id, Bid.status.in_(status_values(RECEIVED_STATUSES))).scalar_subquery()
    interests = select(func.count(Interest.id)).where(Interest.job_id == Job.id).scalar_subquery()
    rows = db.session.execute(
        visible_jobs(_open(select(Job, bids, interests)), viewer)
        .where(Job.bids_deadline <= now + CLOSING_SOON)
        .options(joinedload(Job.coop)).order_by(Job.bids_deadline, Job.id).limit(limit)
    ).all()
    return [(job, b, i) for job, b, i in rows]


@dataclass
class CoopFigures:
    id: int
    name: str
    slug: str
    referrals: int = 0
    awards: int = 0


def referrals_and_awards(viewer: Viewer) -> list[Any]:
    """Per co-op of the viewer's networks: invitations and awards over the last 12 months,
    on jobs the viewer may see. Every co-op of the networks is listed (most first)."""
    coops = {row.id: CoopFigures(row.id, row.name, row.slug) for row in db.session.execute(
        select(Coop.id, Coop.name, Coop.slug).where(network_coops_clause(viewer)))}
    invitations, awards = recent_counts(viewer)
    for coop_id, figures in coops.items():
        figures.referrals, figures.awards = invitations.get(coop_id, 0), awards.get(coop_id, 0)
    return sorted(coops.values(), key=lambda c: (-(c.referrals + c.awards), -c.awards, c.name.lower(), c.id))


def gini(values: Iterable[int]) -> float | None:
    """The Gini coefficient of non-negative counts: 0 when all are equal, near 1 when one
    co-op has everything. None when there is nothing to share."""
    values = sorted(values)
    n, total = len(values), sum(values)
    if n == 0 or total == 0:
        return None
    weighted = sum((i + 1) * v for i, v in enumerate(values))
    return (2 * weighted) / (n * total) - (n + 1) / n


@dataclass
class SkillDemand:
    name: str
    slug: str
    demand: int  # open jobs the viewer may see that ask for it
    supply: int  # co-ops of the viewer's networks that offer it


def skills_against_demand(viewer: Viewer, limit: int | None = None) -> list[Any] | list[SkillDemand]:
    demand: dict[int, int] = dict(db.session.execute(
        visible_jobs(_open(select(job_skill.c.skill_id, func.count())
                           .join(Job, Job.id == job_skill.c.job_id)), viewer)
        .group_by(job_skill.c.skill_id)
    ).all())
    supply: dict[int, int] = dict(db.session.execute(
        select(coop_skill.c.skill_id, func.count()).join(Coop, Coop.id == coop_skill.c.coop_id)
        .where(network_coops_clause(viewer)).group_by(coop_skill.c.skill_id)
    ).all())
    wanted = set(demand) | set(supply)
    if not wanted:
        return []
    skills = db.session.execute(select(Skill.id, Skill.name, Skill.slug).where(Skill.id.in_(sorted(wanted)))).all()
    rows = [SkillDemand(s.name, s.slug, demand.get(s.id, 0), supply.get(s.id, 0)) for s in skills]
    rows.sort(key=lambda r: (-r.demand, -r.supply, r.name.lower()))
    return rows[:limit] if limit else rows


def capacity_totals(viewer: Viewer) -> dict[Any, Any]:
    """People free within 1, 3 and 6 months across the viewer's networks, and how many co-ops said."""
    row = db.session.execute(
        select(func.coalesce(func.sum(CoopCapacity.people_1m), 0), func.coalesce(func.sum(CoopCapacity.people_3m), 0),
               func.coalesce(func.sum(CoopCapacity.people_6m), 0), func.count())
        .join(Coop, Coop.id == CoopCapacity.coop_id).where(network_coops_clause(viewer))
    ).one()
    return {"1": row[0], "3": row[1], "6": row[2], "coops": row[3]}


def capacities(coop_ids: Iterable[int]) -> dict[int, CoopCapacity]:
    if not coop_ids:
        return {}
    return {c.coop_id: c for c in db.session.scalars(
        select(CoopCapacity).where(CoopCapacity.coop_id.in_(sorted(coop_ids))))}


# --- a co-op's own dashboard -----------------------------------------------------------------

def matching_jobs(coop: Coop, limit: int = 20) -> list[Any]:
    """Open jobs the co-op may see, posted by others, that ask for its skills: the most
    shared skills first, then the nearest deadline."""
    skill_ids = [s.id for s in coop.skills]
    if not skill_ids:
        return []
    shared = func.count(job_skill.c.skill_id).label("shared")
    rows = db.session.execute(
        visible_jobs(_open(select(Job.id, shared).join(job_skill, job_skill.c.job_id == Job.id)),
                     viewer_for_coop(coop))
        .where(job_skill.c.skill_id.in_(skill_ids), Job.coop_id != coop.id)
        .group_by(Job.id, Job.bids_deadline).order_by(shared.desc(), Job.bids_deadline, Job.id).limit(limit)
    ).all()
    jobs = {j.id: j for j in db.session.scalars(
        select(Job).where(Job.id.in_([r.id for r in rows]))
        .options(joinedload(Job.coop), selectinload(Job.skills)))}
    return [(jobs[r.id], r.shared) for r in rows]


def coop_invitations(coop: Coop, limit: int = 50) -> Sequence[Any]:
    """The co-op's invitations on jobs it may still see: pending first, newest first."""
    pending_first = (Invitation.status != InvitationStatus.PENDING.value)
    return db.session.scalars(
        visible_jobs(select(Invitation).join(Job, Job.id == Invitation.job_id)
                     .where(Invitation.coop_id == coop.id), viewer_for_coop(coop))
        .options(joinedload(Invitation.job).joinedload(Job.coop), joinedload(Invitation.invited_by))
        .order_by(pending_first, Invitation.created_at.desc(), Invitation.id.desc()).limit(limit)
    ).all()


def coop_interests(coop: Coop, limit: int = 20) -> Sequence[Any]:
    return db.session.scalars(
        visible_jobs(select(Interest).join(Job, Job.id == Interest.job_id)
                     .where(Interest.coop_id == coop.id), viewer_for_coop(coop))
        .options(joinedload(Interest.job), joinedload(Interest.received_bid))
        .order_by(Interest.bid_by.desc(), Interest.id.desc()).limit(limit)
    ).all()


def coop_bids(coop: Coop, limit: int = 20) -> Sequence[Any]:
    return db.session.scalars(
        visible_bids(select(Bid).join(Job, Job.id == Bid.job_id).where(Bid.coop_id == coop.id),
                     viewer_for_coop(coop))
        .options(joinedload(Bid.job)).order_by(Bid.id.desc()).limit(limit)
    ).all()


def pending_invitations_for(user: User, viewer: Viewer) -> list[Any] | Sequence[Any]:
    """The pending invitations of the user's co-ops, on jobs the user may see (the dashboard)."""
    if viewer.is_anonymous or not viewer.coop_ids:
        return []
    return db.session.scalars(
        visible_jobs(select(Invitation).join(Job, Job.id == Invitation.job_id)
                     .where(Invitation.coop_id.in_(sorted(viewer.coop_ids)),
                            Invitation.status == InvitationStatus.PENDING.value), viewer)
        .options(joinedload(Invitation.job), joinedload(Invitation.coop))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc()).limit(20)
    ).all()


def member_coop(user: User, slug: str) -> Coop | None:
    return db.session.scalar(
        select(Coop).join(CoopMember, CoopMember.coop_id == Coop.id)
        .where(Coop.slug == slug, CoopMember.user_id == user.id)
        .options(selectinload(Coop.skills), selectinload(Coop.memberships).joinedload(NetworkMembership.network))
    )
