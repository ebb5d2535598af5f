"""Scoring bids against a job's criteria, and ranking them (callers commit).

Scores are whole numbers from 0 to ``MAX_SCORE`` per criterion. A scorer's total of a bid is
sum(score × weight) / MAX_SCORE, out of 100 (the weights add up to 100 %); a bid's total is
the mean of its scorers' totals. Scores are given once bids close and may change until the
job is awarded or cancelled; they are read-only after."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select

from ..audit.services import record
from ..bids import services as bid_services
from ..bids.models import RECEIVED_STATUSES, Bid
from ..core.rules import RuleError
from ..core.templating import format_datetime
from ..extensions import db
from ..jobs.models import JobState
from .models import MAX_SCORE, BidScore

if TYPE_CHECKING:
    from ..accounts.models import User
    from ..jobs.models import Job, JobRequirement

MAX_COMMENT = 2000
# An answer to an essential requirement that starts with "no" ("No", "No, but…", "Not yet")
# is flagged in the ranking, as is an empty one.
NO_ANSWER = re.compile(r"\s*(no|not)\b", re.IGNORECASE)


class ScoreRuleError(RuleError):
    """A score the rules refuse; ``field`` names the form field at fault, if any."""


@dataclass
class Entry:
    """One criterion's score and comment, as typed."""

    score: int | None
    comment: str = ""


def scoring_open(job: Job) -> bool:
    """Scores may be given and changed after the deadline until the job is awarded or cancelled."""
    return job.state == JobState.CLOSED


def check_scorer(bid: Bid, user: User) -> None:
    """Raise ScoreRuleError unless ``user`` may score ``bid`` now (writes nothing)."""
    job = bid.job
    if not user.is_member_of(job.coop):
        raise ScoreRuleError("Only the co-op that posted the job scores its bids.")
    if job.state == JobState.OPEN:
        raise ScoreRuleError(f"Bids are sealed until {format_datetime(job.bids_deadline)}: "
                             "you can score them once bids close.")
    if not scoring_open(job):
        raise ScoreRuleError(f"This job is {job.state.value}: its scores can no longer change.")
    if not job.criteria:
        raise ScoreRuleError("This job has no evaluation criteria to score bids on.")
    if bid.status not in RECEIVED_STATUSES:
        raise ScoreRuleError("Only submitted bids are scored.")


def score_errors(job: Job, entries: Mapping[int, Entry]) -> dict[str, str]:
    """What is wrong with ``entries`` ({criterion id: Entry}), as {field: message}: every
    criterion scored from 0 to MAX_SCORE, no criterion the job does not have."""
    errors: dict[str, str] = {}
    known = {c.id for c in job.criteria}
    unknown = sorted(set(entries) - known)
    if unknown:
        errors["criteria"] = f"This job has no criterion {', '.join(map(str, unknown))}."
    for criterion in job.criteria:
        entry = entries.get(criterion.id)
        if entry is None or entry.score is None:
            errors[f"score_{criterion.id}"] = f"Give “{criterion.name}” a score from 0 to {MAX_SCORE}."
        elif isinstance(entry.score, bool) or not 0 <= entry.score <= MAX_SCORE:
            errors[f"score_{criterion.id}"] = f"A score is a whole number from 0 to {MAX_SCORE}."
        elif len(entry.comment or "") > MAX_COMMENT:
            errors[f"comment_{criterion.id}"] = f"A comment must be at most {MAX_COMMENT:,} characters."
    return errors


def own_scores(bid: Bid, user: User) -> dict[int, BidScore]:
    """``user``'s scores of ``bid``: {criterion id: BidScore}."""
    return {s.criterion_id: s for s in db.session.scalars(
        select(BidScore).where(BidScore.bid_id == bid.id, BidScore.scorer_id == user.id))}


def submit_scores(bid: Bid, user: User, entries: Mapping[int, Entry]) -> Bid:
    """Save ``user``'s scores of ``bid`` on every criterion (one submission: all of them),
    over their earlier ones, and record it. A second submission racing the first finds its
    rows (the unique constraint; the caller retries) and changes them."""
    check_scorer(bid, user)
    job = bid.job
    errors = score_errors(job, entries)
    if errors:
        name, message = next(iter(errors.items()))
        raise ScoreRuleError(message, field=name)
    existing = own_scores(bid, user)
    for criterion in job.criteria:
        entry = entries[criterion.id]
        assert entry.score is not None  # score_errors refused a missing score
        row = existing.get(criterion.id)
        if row is None:
            row = BidScore(bid_id=bid.id, criterion_id=criterion.id, scorer_id=user.id)
            db.session.add(row)
        row.score = entry.score
        row.comment = (entry.comment or "").strip()
    record("bid.scored", bid, actor=user, coop=job.coop, job_id=job.id, changed=bool(existing),
           scores={c.name: entries[c.id].score for c in job.criteria})
    return bid


# --- reading ---------------------------------------------------------------------------------

def flagged_requirements(bid: Bid) -> list[JobRequirement]:
    """The essential requirements ``bid`` answered "no" to, or left unanswered."""
    return [r for r in bid.job.requirements
            if r.essential and (not bid.answer_to(r).strip() or NO_ANSWER.match(bid.answer_to(r)))]


def scorer_total(job: Job, scores: Mapping[int, int]) -> float:
    """One scorer's total of a bid, out of 100: {criterion id: score} weighted."""
    return sum(scores.get(c.id, 0) * c.weight for c in job.criteria) / MAX_SCORE


@dataclass
class Ranked:
    """A bid in the ranking. ``total`` and ``means`` are None unless the viewer has scored it
    (a scorer sees the others' scores only after giving their own)."""

    bid: Bid
    scorers: int
    scored_by_you: bool
    flags: list[JobRequirement]
    total: float | None = None
    means: dict[int, float] = field(default_factory=dict)  # {criterion id: mean score}
    rank: int | None = None


ScoresByScorer = dict[int, dict[int, BidScore]]  # {scorer id: {criterion id: BidScore}}


def _scores_by_bid(bids: Sequence[Bid]) -> dict[int, ScoresByScorer]:
    """{bid id: {scorer id: {criterion id: BidScore}}} in one statement."""
    found: dict[int, ScoresByScorer] = {}
    if not bids:
        return found
    for row in db.session.scalars(select(BidScore).where(BidScore.bid_id.in_([b.id for b in bids]))):
        found.setdefault(row.bid_id, {}).setdefault(row.scorer_id, {})[row.criterion_id] = row
    return found


def ranking(job: Job, user: User) -> list[Ranked]:
    """The received bids of ``job`` ranked by their total for ``user``: first the bids ``user``
    has scored, highest total first (ties keep the order the bids came in), then the others
    in that order, without totals."""
    bids = bid_services.received_bids(job)
    scores = _scores_by_bid(bids)
    rows = []
    for bid in bids:
        by_scorer = scores.get(bid.id, {})
        row = Ranked(bid=bid, scorers=len(by_scorer), scored_by_you=user.id in by_scorer,
                     flags=flagged_requirements(bid))
        if row.scored_by_you and job.criteria:
            totals = [scorer_total(job, {cid: s.score for cid, s in given.items()}) for given in by_scorer.values()]
            row.total = sum(totals) / len(totals)
            row.means = {c.id: sum(g[c.id].score for g in by_scorer.values() if c.id in g) /
                         max(1, sum(1 for g in by_scorer.values() if c.id in g)) for c in job.criteria}
        rows.append(row)
    scored = sorted((r for r in rows if r.total is not None), key=lambda r: -(r.total or 0.0))  # sorted() is stable
    for rank, row in enumerate(scored, 1):
        row.rank = rank
    return scored + [r for r in rows if r.total is None]


def bid_scores(bid: Bid, user: User) -> tuple[dict[int, BidScore], list[tuple[str, dict[int, BidScore], float]]]:
    """What the scoring page of ``bid`` shows ``user``: their own scores, and every scorer's
    (name, {criterion id: BidScore}, total) once they have given theirs (else an empty list)."""
    by_scorer = _scores_by_bid([bid]).get(bid.id, {})
    own = by_scorer.get(user.id, {})
    if not own:
        return own, []
    from ..accounts.models import User

    names = {u.id: u.name for u in db.session.scalars(select(User).where(User.id.in_(sorted(by_scorer))))}
    job = bid.job
    return own, sorted(((names.get(sid, "?"), given, scorer_total(job, {cid: s.score for cid, s in given.items()}))
                        for sid, given in by_scorer.items()), key=lambda row: row[0])
