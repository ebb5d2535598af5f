"""Small consortia for jobs no single co-op covers: the co-ops searched (the best few for each
skill, then the best overall), and the teams of two or three that together offer every skill
some co-op offers. Apart from ``matching`` (ranking co-ops one by one), which hands it the
scored matches."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .matching import Match, SkillWeight
    from .scoring import Weights


@dataclass
class Consortium:
    members: list[Match]
    fit: float

    @property
    def percent(self) -> int:
        return round(self.fit * 100)


def consortium_pool(matches: Sequence[Match], coverable: set[int], weight_of: Mapping[int, SkillWeight],
                     weights: Weights) -> list[Match]:
    """The co-ops searched for consortia: the best few for each skill (rarest skill first),
    then the best overall, up to ``consortium_pool``."""
    if not matches or any(m.covers_all for m in matches):
        return []  # one co-op covers the job (or none offers anything): no consortium needed
    by_score = sorted(matches, key=lambda m: (-m.score, m.name.lower(), m.coop_id))
    pool: list[Match] = []
    seen: set[int] = set()

    def take(m: Match) -> None:
        if m.coop_id not in seen and len(pool) < weights.consortium_pool:
            seen.add(m.coop_id)
            pool.append(m)

    for sid in sorted(coverable, key=lambda s: (-weight_of[s].weight, s)):
        for m in [m for m in by_score if sid in m.skill_ids][: weights.consortium_per_skill]:
            take(m)
    for m in by_score:
        take(m)
    return pool


def suggest_consortia(pool: Sequence[Match], coverable: set[int], weights: Weights) -> list[Consortium]:
    """Two or three co-ops that together offer every skill some co-op offers, best first:
    fewer members first, then the best average fit, then the fewest recent referrals."""
    if not pool or not coverable:
        return []
    found: list[Consortium] = []
    for size in range(2, weights.consortium_size + 1):
        for group in combinations(pool, size):
            union: set[int] = set().union(*(m.skill_ids for m in group))
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
