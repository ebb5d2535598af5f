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
"""
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import combinations

from sqlalchemy import and_, exists, func, literal_column, select

from ..bids.models import RECEIVED_STATUSES, Bid, BidStatus, status_values
from ..coops.models import Coop, coop_skill
from ..core.time import utcnow
from ..extensions import db
from ..federation.policy import acting_coops_clause, coops_seeing_job_clause, visible_jobs
from ..jobs.models import BudgetType, Currency, Job, WorkMode, job_skill
from .models import CoopCapacity, Invitation


@dataclass(frozen=True)
class Weights:
    """The weights of the ranking, in one place (see the module's docstring)."""

    skills: float = 1.0
    capacity: float = 0.35
    capacity_unknown: float = 0.5  # the share of ``capacity`` for a co-op that has not said
    day_rate: float = 0.1
    day_rate_unknown: float = 0.5
    track_record: float = 0.2
    track_record_full: int = 5  # past bids (awards count ``award_weight``) for full marks
    award_weight: int = 3
    location: float = 0.15
    close_band: float = 0.1  # fits within 10 points of each other are close matches
    recent_days: int = 365  # the window of referrals and awards that fairness looks at
    shown: int = 20  # co-ops listed for a job
    history_pool: int = 40  # co-ops whose track record is looked up (see ``_shortlist``)
    consortium_pool: int = 16  # candidates searched for consortia
    consortium_per_skill: int = 4  # best co-ops per skill that enter the pool
    consortium_size: int = 3  # at most this many co-ops in a suggested consortium
    consortia_shown: int = 5


WEIGHTS = Weights()

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
    skill_ids: set
    capacity: dict | None  # the co-op's figures, or None if it stated nothing
    score: float = 0.0  # before the track record
    fit: float = 0.0  # 0..1, everything counted
    covers_all: bool = False
    track_bids: int = 0
    track_awards: int = 0
    recent_invitations: int = 0
    recent_awards: int = 0
    close_match: bool = False  # ordered among close matches by fewer recent referrals
    no_capacity: bool = False
    invitation: object = None
    reasons: list = field(default_factory=list)

    @property
    def recent(self):
        return self.recent_invitations + self.recent_awards

    @property
    def percent(self):
        return round(self.fit * 100)


@dataclass
class Consortium:
    members: list  # of Match
    fit: float

    @property
    def percent(self):
        return round(self.fit * 100)


@dataclass
class Ranking:
    job: object
    skills: list  # SkillWeight, rarest first
    window_months: int
    window_day: date
    eligible: int  # co-ops that may see the job (the N of the rarity weights)
    candidates: int  # of them, the co-ops offering at least one of the job's skills
    matches: list
    consortia: list
    not_offered: list  # skills nobody who may see the job offers
    weights: Weights = WEIGHTS

    @property
    def single_covers(self):
        return any(m.covers_all for m in self.matches)


def window_of(job, today=None):
    """(months, day): the capacity bucket of the job's window, and the day it starts from."""
    today = today or utcnow().date()
    day = job.start_date or job.bids_deadline.date()
    ahead = (day - today).days
    for months, days in BUCKETS:
        if days is None or ahead <= days:
            return months, day
    return 6, day  # pragma: no cover


def eligible_clause(job):
    return and_(coops_seeing_job_clause(job), acting_coops_clause())


def rank(job, viewer, weights=WEIGHTS, limit=None, consortia=True):
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

    # One statement: every (co-op, skill) pair for the job's skills among the co-ops that may
    # see it, with what the score needs of the co-op.
    rows = db.session.execute(
        select(coop_skill.c.coop_id, coop_skill.c.skill_id, Coop.name, Coop.slug, Coop.location,
               CoopCapacity.people_1m, CoopCapacity.people_3m, CoopCapacity.people_6m,
               CoopCapacity.day_rate_min, CoopCapacity.day_rate_max)
        .join(Coop, Coop.id == coop_skill.c.coop_id)
        .outerjoin(CoopCapacity, CoopCapacity.coop_id == Coop.id)
        .where(coop_skill.c.skill_id.in_(sorted(job_skills)), eligible)
    ).all()
    offered = {skill_id: 0 for skill_id in job_skills}
    matches = {}
    poster_id = job.coop_id
    for coop_id, skill_id, name, slug, location, p1, p3, p6, low, high in rows:
        offered[skill_id] += 1
        if coop_id == poster_id:
            continue
        match = matches.get(coop_id)
        if match is None:
            capacity = None
            if not (p1 is None and p3 is None and p6 is None and low is None and high is None):
                capacity = {"1": p1, "3": p3, "6": p6, "min": low, "max": high}
            match = matches[coop_id] = Match(coop_id, name, slug, location or "", set(), capacity)
        match.skill_ids.add(skill_id)

    skills = sorted(
        (SkillWeight(sid, name, offered[sid], math.log(1 + population / offered[sid]) if offered[sid] else 0.0)
         for sid, name in job_skills.items()),
        key=lambda s: (-s.weight, s.name),
    )
    weight_of = {s.id: s for s in skills}
    coverable = {sid for m in matches.values() for sid in m.skill_ids}
    total_weight = sum(s.weight for s in skills if s.id in coverable) or 1.0
    maximum = _maximum(job, weights)
    context = _context(job)
    for match in matches.values():
        match.covers_all = match.skill_ids >= coverable
        match.score = _base_score(match, context, months, weight_of, total_weight, weights)

    _add_recent(list(matches.values()), weights, viewer, awards=False)
    chosen = _shortlist(job, list(matches.values()), limit, weights)
    pool = []
    if consortia and matches and not any(m.covers_all for m in matches.values()):
        pool = _consortium_pool(list(matches.values()), coverable, weight_of, weights)
    finished = list({m.coop_id: m for m in chosen + pool}.values())
    _add_recent(finished, weights, viewer)
    _add_track(job, finished, viewer)
    for match in finished:
        match.fit = (match.score + weights.track_record * _track(match, weights)) / maximum
    ordered = _fair_order(chosen, weights)[:limit]
    suggested = _consortia(pool, coverable, weights) if pool else []
    shown = list({m.coop_id: m for m in ordered + [m for c in suggested for m in c.members]}.values())
    for match in shown:
        match.reasons = _reasons(match, job, months, day, weight_of, population, weights)
    _attach_invitations(job, shown)
    not_offered = [s.name for s in skills if s.id not in coverable]
    return Ranking(job, skills, months, day, population, len(matches), ordered, suggested, not_offered, weights)


# --- scoring ---------------------------------------------------------------------------------

def _applies_day_rate(job):
    return job.budget_type == BudgetType.DAY_RATE and job.currency == Currency.GBP


def _applies_location(job):
    return job.work_mode != WorkMode.REMOTE and bool((job.location or "").strip())


def _maximum(job, weights):
    top = weights.skills + weights.capacity + weights.track_record
    if _applies_day_rate(job):
        top += weights.day_rate
    if _applies_location(job):
        top += weights.location
    return top


def _people(match, months):
    if match.capacity is None:
        return None
    return match.capacity[str(months)]


def _job_day_budget(job):
    return job.budget_max or job.budget_min


def same_place(a, b):
    a, b = (a or "").strip().lower(), (b or "").strip().lower()
    return bool(a and b) and (a == b or a in b or b in a)


def _base_score(match, context, months, weight_of, total_weight, weights):
    """Everything but the track record. ``context``: what the score needs of the job,
    read once (``_context``)."""
    score = weights.skills * sum(weight_of[sid].weight for sid in match.skill_ids) / total_weight
    people = None if match.capacity is None else match.capacity[str(months)]
    match.no_capacity = people == 0
    score += weights.capacity * (weights.capacity_unknown if people is None else 1.0 if people > 0 else 0.0)
    if context["day_rate"]:
        low = (match.capacity or {}).get("min")
        score += weights.day_rate * (weights.day_rate_unknown if low is None else
                                     1.0 if low <= context["budget"] else 0.0)
    if context["location"] and same_place(match.location, context["location"]):
        score += weights.location
    return score


def _context(job):
    return {"day_rate": _applies_day_rate(job), "budget": _job_day_budget(job),
            "location": job.location if _applies_location(job) else ""}


def _track(match, weights):
    done = match.track_bids + (weights.award_weight - 1) * match.track_awards
    return min(1.0, done / weights.track_record_full) if weights.track_record_full else 0.0


def _shortlist(job, matches, limit, weights):
    """The co-ops whose track record and recent awards are looked up: the best
    ``history_pool`` by everything else; among equal scores, fewer recent referrals first,
    then an order that changes from job to job (so that no name always wins a tie).
    Counting past bids in the job's skills costs a look at every bid of a co-op, too much for
    the thousands of co-ops that offer a common skill; so the track record orders the front
    runners only."""
    def rotation(m):
        return (m.coop_id * 2654435761 + job.id * 40503) % 4294967296

    ordered = sorted(matches, key=lambda m: (-round(m.score, 9), m.recent_invitations, rotation(m)))
    return ordered[: max(weights.history_pool, limit)]


def _fair_order(matches, weights):
    """Best fit first; within each run of close matches, fewer recent referrals first."""
    ordered = sorted(matches, key=lambda m: (-m.fit, m.name.lower(), m.coop_id))
    result, i = [], 0
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


def _add_recent(matches, weights, viewer, awards=True):
    """Referrals (and awards, unless ``awards`` is false) of each co-op in the recent window,
    on jobs ``viewer`` may see."""
    ids = [m.coop_id for m in matches]
    invitations, won = recent_counts(viewer, ids if len(ids) <= 200 else None, weights, awards=awards)
    for m in matches:
        m.recent_invitations = invitations.get(m.coop_id, 0)
        if awards:
            m.recent_awards = won.get(m.coop_id, 0)


def _add_track(job, matches, viewer):
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


def recent_counts(viewer, coop_ids=None, weights=WEIGHTS, awards=True):
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


def _attach_invitations(job, matches):
    if not matches:
        return
    found = {i.coop_id: i for i in db.session.scalars(
        select(Invitation).where(Invitation.job_id == job.id,
                                 Invitation.coop_id.in_(sorted({m.coop_id for m in matches}))))}
    for m in matches:
        m.invitation = found.get(m.coop_id)


# --- reasons ---------------------------------------------------------------------------------

def _plural(n, word, plural=None):
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _reasons(match, job, months, day, weight_of, population, weights):
    reasons = []
    covered = sorted((weight_of[sid] for sid in match.skill_ids), key=lambda s: (-s.weight, s.name))
    parts = [f"{s.name} (offered by {s.offered_by} of {population} co-ops)" for s in covered]
    missing = sorted(s.name for sid, s in weight_of.items() if sid not in match.skill_ids and s.offered_by)
    text = "Offers " + ", ".join(parts)
    if missing:
        text += "; not " + ", ".join(missing)
    reasons.append(text + ".")
    people = _people(match, months)
    when = f"within {_plural(months, 'month')} (the work starts around {day:%-d %b %Y})"
    if people is None:
        reasons.append(f"Has not said how many people are free {when}.")
    elif people == 0:
        reasons.append(f"Says nobody is free {when}.")
    else:
        reasons.append(f"Says {_plural(people, 'person', 'people')} free {when}.")
    if _applies_day_rate(job):
        low, high = (match.capacity or {}).get("min"), (match.capacity or {}).get("max")
        budget = f"£{_job_day_budget(job):,}"
        if low is None:
            reasons.append("Has not stated its day rates.")
        elif low <= _job_day_budget(job):
            rate = f"£{low:,}" + (f"–£{high:,}" if high and high != low else "")
            reasons.append(f"Day rate {rate} is within the budget of {budget} a day.")
        else:
            reasons.append(f"Lowest day rate £{low:,} is above the budget of {budget} a day.")
    if match.track_bids:
        reasons.append(f"Has bid on {_plural(match.track_bids, 'job')} with these skills"
                       f" and won {match.track_awards}.")
    else:
        reasons.append("Has not bid on jobs with these skills here yet.")
    if _applies_location(job):
        if same_place(match.location, job.location):
            reasons.append(f"Based in {match.location}, where the work is.")
        else:
            reasons.append(f"Based in {match.location or 'an unstated place'}; the work is in {job.location}.")
    reasons.append(f"{_plural(match.recent_invitations, 'referral')} and "
                   f"{_plural(match.recent_awards, 'award')} in the last 12 months.")
    return reasons


# --- consortia -------------------------------------------------------------------------------

def _consortium_pool(matches, coverable, weight_of, weights):
    """The co-ops searched for consortia: the best few for each skill (rarest skill first),
    then the best overall, up to ``consortium_pool``."""
    by_score = sorted(matches, key=lambda m: (-m.score, m.name.lower(), m.coop_id))
    pool, seen = [], set()

    def take(m):
        if m.coop_id not in seen and len(pool) < weights.consortium_pool:
            seen.add(m.coop_id)
            pool.append(m)

    for sid in sorted(coverable, key=lambda s: (-weight_of[s].weight, s)):
        for m in [m for m in by_score if sid in m.skill_ids][: weights.consortium_per_skill]:
            take(m)
    for m in by_score:
        take(m)
    return pool


def _consortia(pool, coverable, weights):
    """Two or three co-ops that together offer every skill some co-op offers, best first:
    fewer members first, then the best average fit, then the fewest recent referrals."""
    if not coverable:
        return []
    found = []
    for size in range(2, weights.consortium_size + 1):
        for group in combinations(pool, size):
            union = set().union(*(m.skill_ids for m in group))
            if not union >= coverable:
                continue
            # A member that adds no skill the others lack is not needed.
            if any(set().union(*(o.skill_ids for o in group if o is not m)) >= coverable for m in group):
                continue
            fit = sum(m.fit for m in group) / size
            found.append(Consortium(sorted(group, key=lambda m: (-m.fit, m.name.lower())), fit))
        if len(found) >= weights.consortia_shown:
            break
    found.sort(key=lambda c: (len(c.members), -round(c.fit, 6), sum(m.recent for m in c.members)))
    return found[: weights.consortia_shown]
