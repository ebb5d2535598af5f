"""The parts of a co-op's score for a job, and the reason each gives, as plain functions (every
number lives in ``WEIGHTS``); ``matching.rank`` puts them together (see its docstring)."""
from __future__ import annotations

from typing import TYPE_CHECKING
from datetime import date

import math
from dataclasses import dataclass

if TYPE_CHECKING:
    from collections.abc import Iterable
    from collections.abc import Mapping
    from ..coordinator.matching import SkillWeight


@dataclass(frozen=True)
class Weights:
    """The weights of the ranking, in one place (see ``matching``'s docstring)."""

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


def rarity(population: int, offered_by: int) -> float:
    """The weight of a skill: ``log(1 + N / n)``; a skill nobody offers weighs nothing."""
    return math.log(1 + population / offered_by) if offered_by else 0.0


def same_place(a: str | None, b: str | None) -> bool:
    a, b = (a or "").strip().lower(), (b or "").strip().lower()
    return bool(a and b) and (a == b or a in b or b in a)


def skills_score(skill_ids: Iterable[int], weight_of: Mapping[int, SkillWeight], total_weight: float,
                 weights: Weights = WEIGHTS) -> float:
    """The rarity-weighted share of the job's (coverable) skills that the co-op offers."""
    return weights.skills * sum(weight_of[sid].weight for sid in skill_ids) / total_weight


def capacity_score(people: int | None, weights: Weights = WEIGHTS) -> float:
    """People free in the job's window: any counts in full, nobody not at all, not saying half."""
    if people is None:
        return weights.capacity * weights.capacity_unknown
    return weights.capacity * (1.0 if people > 0 else 0.0)


def day_rate_score(low: int | None, budget: int, weights: Weights = WEIGHTS) -> float:
    """The co-op's lowest day rate within the job's budget (a day-rate job in GBP only)."""
    if low is None:
        return weights.day_rate * weights.day_rate_unknown
    return weights.day_rate * (1.0 if low <= budget else 0.0)


def location_score(coop_location: str | None, job_location: str | None, weights: Weights = WEIGHTS) -> float:
    """Based where the work is (``job_location`` is empty for remote work)."""
    return weights.location if job_location and same_place(coop_location, job_location) else 0.0


def track_score(bids: int, awards: int, weights: Weights = WEIGHTS) -> float:
    """Past bids in the job's skills, an award counting ``award_weight`` bids, up to full marks."""
    if not weights.track_record_full:
        return 0.0
    done = bids + (weights.award_weight - 1) * awards
    return weights.track_record * min(1.0, done / weights.track_record_full)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def skills_reason(skill_ids: Iterable[int], weight_of: Mapping[int, SkillWeight], population: int) -> str:
    covered = sorted((weight_of[sid] for sid in skill_ids), key=lambda s: (-s.weight, s.name))
    text = "Offers " + ", ".join(f"{s.name} (offered by {s.offered_by} of {population} co-ops)" for s in covered)
    missing = sorted(s.name for sid, s in weight_of.items() if sid not in skill_ids and s.offered_by)
    if missing:
        text += "; not " + ", ".join(missing)
    return text + "."


def capacity_reason(people: int | None, months: int, day: date) -> str:
    when = f"within {_plural(months, 'month')} (the work starts around {day:%-d %b %Y})"
    if people is None:
        return f"Has not said how many people are free {when}."
    if people == 0:
        return f"Says nobody is free {when}."
    return f"Says {_plural(people, 'person', 'people')} free {when}."


def day_rate_reason(low: int | None, high: int | None, budget: int) -> str:
    if low is None:
        return "Has not stated its day rates."
    if low <= budget:
        rate = f"£{low:,}" + (f"–£{high:,}" if high and high != low else "")
        return f"Day rate {rate} is within the budget of £{budget:,} a day."
    return f"Lowest day rate £{low:,} is above the budget of £{budget:,} a day."


def track_reason(bids: int, awards: int) -> str:
    if bids:
        return f"Has bid on {_plural(bids, 'job')} with these skills and won {awards}."
    return "Has not bid on jobs with these skills here yet."


def location_reason(coop_location: str | None, job_location: str | None) -> str:
    if same_place(coop_location, job_location):
        return f"Based in {coop_location}, where the work is."
    return f"Based in {coop_location or 'an unstated place'}; the work is in {job_location}."


def recent_reason(invitations: int, awards: int) -> str:
    return f"{_plural(invitations, 'referral')} and {_plural(awards, 'award')} in the last 12 months."
