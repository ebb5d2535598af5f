"""Ranking the co-ops that fit a job, with the reasons, and small consortia for jobs no single
co-op covers.

How a co-op is scored for a job (every number lives in ``WEIGHTS``):

- **skills** — the share of the job's skills the co-op offers, each skill weighted by its
  rarity among the co-ops that may see the job: ``log(1 + N / n)``, where ``N`` is how many
  co-ops may see the job and ``n`` how many of them offer the skill. Covering the one rare
  skill counts for more than covering the common ones.
- **capacity** — the people the co-op says are free in the job's window: the job's start date
  (or, without one, its bids deadline) falls within 1, 3 or 6 months from today, and the
  co-op's figure for that bucket counts. Nobody free scores nothing; not saying scores half.
- **day rate** — for a day-rate job in GBP: the co-op's lowest day rate is within the budget.
- **track record** — the co-op's past bids on jobs with the same skills (an award counts as
  ``award_weight`` bids), up to ``track_record_full`` for full marks.
- **location** — for on-site and hybrid work: the co-op is based where the work is.

The fit is the score over the most a co-op could score on this job (0–100%). Co-ops whose fit
is within ``close_band`` of each other are *close matches*: among them, the co-op with fewer
referrals (invitations to bid) and awards in the last ``recent_days`` days comes first, so that
work spreads across the network instead of going to the co-ops everyone already knows.

Only co-ops that may see the job (``federation.policy.coops_seeing_job_clause``, the same rule
as every other read path) and that hold a current active or guest membership of a network are
ever considered; the poster's own co-op never is.

The consortia suggested from the ranked matches are ``teams``'s.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from datetime import date, timedelta

from sqlalchemy import and_, exists, func, literal_column, select

from ..bids.models import RECEIVED_STATUSES, Bid, BidStatus, status_values
from ..coops.models import Coop, coop_skill
from ..core.time import utcnow
from ..extensions import db
from ..federation import acting_coops_clause
from ..federation.policy import coops_seeing_job_clause, visible_jobs
from ..jobs.models import BudgetType, Currency, Job, WorkMode, job_skill
from .models import CoopCapacity, Invitation
from .teams import Consortium, consortium_pool, suggest_consortia
from .scoring import (WEIGHTS, Weights, capacity_reason, capacity_score, day_rate_reason, day_rate_score,
                      location_reason, location_score, rarity, recent_reason, skills_reason, skills_score,
                      track_reason, track_score)

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement
    from ..federation.policy import Viewer


# Written out, not bound: the databases then read awards from the partial index uq_bid_awarded.
AWARDED = Bid.status == literal_column(f"'{BidStatus.AWARDED.value}'")

# Months ahead of each capacity bucket, and the days that fall in each.
BUCKETS = ((1, 31), (3, 92), (6, None))


@dataclass
class SkillWeight:
    id: int
    name: str
    offered_by: int  # co-ops that may see the job and offer the skill
    weight: float


@dataclass
class Match:
    coop_id: int
    name: str
    slug: str
    location: str
    skill_ids: set[int]
    capacity: dict[str, int | None] | None  # the co-op's figures, or None if it stated nothing
    score: float = 0.0  # before the track record
    fit: float = 0.0  # 0..1, everything counted
    covers_all: bool = False
    track_bids: int = 0
    track_awards: int = 0
    recent_invitations: int = 0
    recent_awards: int = 0
    close_match: bool = False  # ordered among close matches by fewer recent referrals
    no_capacity: bool = False
    invitation: Invitation | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def recent(self) -> int:
        return self.recent_invitations + self.recent_awards

    @property
    def percent(self) -> int:
        return round(self.fit * 100)


@dataclass
class Ranking:
    job: Job
    skills: list[SkillWeight]  # rarest first
    window_months: int
    window_day: date
    eligible: int  # co-ops that may see the job (the N of the rarity weights)
    candidates: int  # of them, the co-ops offering at least one of the job's skills
    matches: list[Match]
    consortia: list[Consortium]
    not_offered: list[str]  # skills nobody who may see the job offers
    weights: Weights = WEIGHTS

    @property
    def single_covers(self) -> bool:
        return any(m.covers_all for m in self.matches)


def window_of(job: Job, today: date | None = None) -> tuple[int, date]:
    """(months, day): the capacity bucket of the job's window, and the day it starts from."""
    today = today or utcnow().date()
    day = job.start_date or job.bids_deadline.date()
    ahead = (day - today).days
    for months, days in BUCKETS:
        if days is None or ahead <= days:
            return months, day
    return 6, day  # pragma: no cover


def eligible_clause(job: Job) -> ColumnElement[bool]:
    return and_(coops_seeing_job_clause(job), acting_coops_clause())


def rank(job: Job, viewer: Viewer, weights: Weights = WEIGHTS, limit: int | None = None,
         consortia: bool = True) -> Ranking:
    """The co-ops that fit ``job``, best first, with their reasons (a ``Ranking``), as
    ``viewer`` may be shown them: past bids, awards and referrals count only on jobs the
    viewer may see (a count over hidden jobs tells what they are)."""
    limit = limit or weights.shown
    months, day = window_of(job)
    job_skills = {s.id: s.name for s in job.skills}
    eligible = eligible_clause(job)
    population = db.session.scalar(select(func.count()).select_from(Coop).where(eligible)) or 0
    if not job_skills or not population:
        return Ranking(job, [], months, day, population, 0, [], [], sorted(job_skills.values()), weights)

    offered, matches = _candidates(job, job_skills, eligible)
    skills = skill_weights(job_skills, offered, population)
    weight_of = {s.id: s for s in skills}
    coverable: set[int] = set().union(*(m.skill_ids for m in matches))
    _score(job, matches, months, weight_of, coverable, weights)

    _add_recent(matches, weights, viewer, awards=False)
    chosen = _shortlist(job, matches, limit, weights)
    pool = consortium_pool(matches, coverable, weight_of, weights) if consortia else []
    _add_history(job, _unique(chosen + pool), viewer, weights)
    ordered = _fair_order(chosen, weights)[:limit]
    suggested = suggest_consortia(pool, coverable, weights)
    _explain(job, _unique(ordered + [m for c in suggested for m in c.members]), months, day, weight_of, population)
    not_offered = [s.name for s in skills if s.id not in coverable]
    return Ranking(job, skills, months, day, population, len(matches), ordered, suggested, not_offered, weights)


def _explain(job: Job, shown: Sequence[Match], months: int, day: date, weight_of: Mapping[int, SkillWeight],
             population: int) -> None:
    """The reasons, and the invitation if any, of each co-op shown."""
    for match in shown:
        match.reasons = _reasons(match, job, months, day, weight_of, population)
    _attach_invitations(job, shown)


def _unique(matches: Iterable[Match]) -> list[Match]:
    """``matches`` without repeats, in their order."""
    return list({m.coop_id: m for m in matches}.values())


def _candidates(job: Job, job_skills: Mapping[int, str],
                eligible: ColumnElement[bool]) -> tuple[dict[int, int], list[Match]]:
    """({skill id: co-ops offering it among those that may see the job}, [Match of every such
    co-op but the poster's]), from one statement: every (co-op, skill) pair for the job's skills,
    with what the score needs of the co-op."""
    rows = db.session.execute(
        select(coop_skill.c.coop_id, coop_skill.c.skill_id, Coop.name, Coop.slug, Coop.location,
               CoopCapacity.people_1m, CoopCapacity.people_3m, CoopCapacity.people_6m,
               CoopCapacity.day_rate_min, CoopCapacity.day_rate_max)
        .join(Coop, Coop.id == coop_skill.c.coop_id)
        .outerjoin(CoopCapacity, CoopCapacity.coop_id == Coop.id)
        .where(coop_skill.c.skill_id.in_(sorted(job_skills)), eligible)
    ).all()
    offered = {skill_id: 0 for skill_id in job_skills}
    matches: dict[int, Match] = {}
    for coop_id, skill_id, name, slug, location, *figures in rows:
        offered[skill_id] += 1
        if coop_id == job.coop_id:
            continue
        if coop_id not in matches:
            matches[coop_id] = Match(coop_id, name, slug, location or "", set(), capacity_of(*figures))
        matches[coop_id].skill_ids.add(skill_id)
    return offered, list(matches.values())


def capacity_of(people_1m: int | None, people_3m: int | None, people_6m: int | None, day_rate_min: int | None,
                day_rate_max: int | None) -> dict[str, int | None] | None:
    """A co-op's stated figures as ``Match.capacity``: None when it stated nothing."""
    figures = {"1": people_1m, "3": people_3m, "6": people_6m, "min": day_rate_min, "max": day_rate_max}
    return None if all(v is None for v in figures.values()) else figures


def skill_weights(job_skills: Mapping[int, str], offered: Mapping[int, int], population: int) -> list[SkillWeight]:
    """The job's skills as ``SkillWeight``, rarest first."""
    return sorted((SkillWeight(sid, name, offered[sid], rarity(population, offered[sid]))
                   for sid, name in job_skills.items()), key=lambda s: (-s.weight, s.name))


def _score(job: Job, matches: Iterable[Match], months: int, weight_of: Mapping[int, SkillWeight],
           coverable: set[int], weights: Weights) -> None:
    """Everything but the track record, on each match."""
    total_weight = sum(s.weight for s in weight_of.values() if s.id in coverable) or 1.0
    day_rate, budget = _applies_day_rate(job), _job_day_budget(job)
    place = job.location if _applies_location(job) else ""
    for match in matches:
        match.covers_all = match.skill_ids >= coverable
        people = _people(match, months)
        match.no_capacity = people == 0
        match.score = sum((
            skills_score(match.skill_ids, weight_of, total_weight, weights),
            capacity_score(people, weights),
            day_rate_score(_low_rate(match), budget, weights) if day_rate else 0.0,
            location_score(match.location, place, weights),
        ))


def _add_history(job: Job, matches: Sequence[Match], viewer: Viewer, weights: Weights) -> None:
    """Recent referrals and awards, the track record, and so the fit, of each match."""
    _add_recent(matches, weights, viewer)
    _add_track(job, matches, viewer)
    maximum = _maximum(job, weights)
    for match in matches:
        match.fit = (match.score + track_score(match.track_bids, match.track_awards, weights)) / maximum


# --- scoring ---------------------------------------------------------------------------------

def _applies_day_rate(job: Job) -> bool:
    return job.budget_type == BudgetType.DAY_RATE and job.currency == Currency.GBP


def _applies_location(job: Job) -> bool:
    return job.work_mode != WorkMode.REMOTE and bool((job.location or "").strip())


def _maximum(job: Job, weights: Weights) -> float:
    top = weights.skills + weights.capacity + weights.track_record
    if _applies_day_rate(job):
        top += weights.day_rate
    if _applies_location(job):
        top += weights.location
    return top


def _people(match: Match, months: int) -> int | None:
    if match.capacity is None:
        return None
    return match.capacity[str(months)]


def _low_rate(match: Match) -> int | None:
    return (match.capacity or {}).get("min")


def _job_day_budget(job: Job) -> int:
    return job.budget_max or job.budget_min


def _shortlist(job: Job, matches: Iterable[Match], limit: int, weights: Weights) -> list[Match]:
    """The co-ops whose track record and recent awards are looked up: the best
    ``history_pool`` by everything else; among equal scores, fewer recent referrals first,
    then an order that changes from job to job (so that no name always wins a tie).
    Counting past bids in the job's skills costs a look at every bid of a co-op, too much for
    the thousands of co-ops that offer a common skill; so the track record orders the front
    runners only."""
    def rotation(m: Match) -> int:
        return (m.coop_id * 2654435761 + job.id * 40503) % 4294967296

    ordered = sorted(matches, key=lambda m: (-round(m.score, 9), m.recent_invitations, rotation(m)))
    return ordered[: max(weights.history_pool, limit)]


def _fair_order(matches: Iterable[Match], weights: Weights) -> list[Match]:
    """Best fit first; within each run of close matches, fewer recent referrals first."""
    ordered = sorted(matches, key=lambda m: (-m.fit, m.name.lower(), m.coop_id))
    result: list[Match] = []
    i = 0
    while i < len(ordered):
        lead = ordered[i].fit
        j = i + 1
        while j < len(ordered) and lead - ordered[j].fit <= weights.close_band + 1e-9:
            j += 1
        group = ordered[i:j]
        if len(group) > 1:
            group.sort(key=lambda m: (m.recent, -m.fit, m.name.lower(), m.coop_id))
            for m in group:
                m.close_match = True
        result.extend(group)
        i = j
    return result


def _add_recent(matches: Sequence[Match], weights: Weights, viewer: Viewer, awards: bool = True) -> None:
    """Referrals (and awards, unless ``awards`` is false) of each co-op in the recent window,
    on jobs ``viewer`` may see."""
    ids = [m.coop_id for m in matches]
    invitations, won = recent_counts(viewer, ids if len(ids) <= 200 else None, weights, awards=awards)
    for m in matches:
        m.recent_invitations = invitations.get(m.coop_id, 0)
        if awards:
            m.recent_awards = won.get(m.coop_id, 0)


def _add_track(job: Job, matches: Sequence[Match], viewer: Viewer) -> None:
    """Past bids (received by the poster) and awards of each co-op on jobs with the job's skills
    that ``viewer`` may see."""
    if not matches:
        return
    by_id = {m.coop_id: m for m in matches}
    skill_ids = sorted(s.id for s in job.skills)
    same_skills = exists(select(job_skill.c.job_id).where(
        job_skill.c.job_id == Bid.job_id, job_skill.c.skill_id.in_(skill_ids)))
    for coop_id, bids, awards in db.session.execute(visible_jobs(
        select(Bid.coop_id, func.count(Bid.id), func.count(Bid.id).filter(AWARDED))
        .join(Job, Job.id == Bid.job_id)
        .where(Bid.coop_id.in_(sorted(by_id)), Bid.status.in_(status_values(RECEIVED_STATUSES)),
               Bid.job_id != job.id, same_skills), viewer)
        .group_by(Bid.coop_id)
    ):
        by_id[coop_id].track_bids, by_id[coop_id].track_awards = bids, awards


def recent_counts(viewer: Viewer, coop_ids: Iterable[int] | None = None, weights: Weights = WEIGHTS,
                  awards: bool = True) -> tuple[dict[int, int], dict[int, int]]:
    """({co-op id: invitations}, {co-op id: awards}) over the last ``recent_days`` days, on
    jobs ``viewer`` may see, for ``coop_ids`` or every co-op (awards left out, as {}, when
    ``awards`` is false)."""
    since = utcnow() - timedelta(days=weights.recent_days)
    invited = visible_jobs(select(Invitation.coop_id, func.count()).join(Job, Job.id == Invitation.job_id)
                           .where(Invitation.created_at >= since), viewer)
    won = visible_jobs(select(Bid.coop_id, func.count()).join(Job, Job.id == Bid.job_id)
                       .where(AWARDED, Bid.decided_at >= since), viewer)
    if coop_ids is not None:
        invited = invited.where(Invitation.coop_id.in_(sorted(coop_ids)))
        won = won.where(Bid.coop_id.in_(sorted(coop_ids)))
    return (dict(db.session.execute(invited.group_by(Invitation.coop_id)).all()),
            dict(db.session.execute(won.group_by(Bid.coop_id)).all()) if awards else {})


def _attach_invitations(job: Job, matches: Sequence[Match]) -> None:
    if not matches:
        return
    found = {i.coop_id: i for i in db.session.scalars(
        select(Invitation).where(Invitation.job_id == job.id,
                                 Invitation.coop_id.in_(sorted({m.coop_id for m in matches}))))}
    for m in matches:
        m.invitation = found.get(m.coop_id)


# --- reasons ---------------------------------------------------------------------------------

def _reasons(match: Match, job: Job, months: int, day: date, weight_of: Mapping[int, SkillWeight],
             population: int) -> list[str]:
    reasons = [
        skills_reason(match.skill_ids, weight_of, population),
        capacity_reason(_people(match, months), months, day),
    ]
    if _applies_day_rate(job):
        capacity = match.capacity or {}
        reasons.append(day_rate_reason(capacity.get("min"), capacity.get("max"), _job_day_budget(job)))
    reasons.append(track_reason(match.track_bids, match.track_awards))
    if _applies_location(job):
        reasons.append(location_reason(match.location, job.location))
    reasons.append(recent_reason(match.recent_invitations, match.recent_awards))
    return reasons
