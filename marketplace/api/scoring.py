"""The poster's scores of the bids on a job: the ranking (GET) and one's own scores of a bid
(PUT). Only the poster's members see or give them, once bids close (``evaluation.policy``):
everyone else gets the 404 of a sealed thing."""
from flask import Response, abort, jsonify
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import User
from ..bids.models import RECEIVED_STATUSES, Bid
from ..core.templating import format_datetime
from ..core.work import flush_retrying
from ..evaluation import services as scoring
from ..evaluation.policy import can_see_scores
from ..extensions import db
from ..federation import get_job_or_404, viewer_for
from ..jobs.models import Job, JobState
from . import schemas
from .base import ApiError, bp, invalid, parsed, token_user
from .idempotency import commit_with_answer
from .serializers import criterion_json, plain
from .spec import operation


def _ranked_json(row: scoring.Ranked) -> schemas.RankedBid:
    return schemas.RankedBid(
        bid_id=row.bid.id, bidder=row.bid.bidder_name, rank=row.rank, total=row.total, scorers=row.scorers,
        scored_by_you=row.scored_by_you,
        criteria=[schemas.CriterionMean(criterion_id=cid, mean=mean) for cid, mean in row.means.items()],
        flagged_requirements=[r.id for r in row.flags],
    )


def _scored_job(job_id: int, user: User) -> Job:
    """The job, for the poster's members once bids close; 404 for anyone else (and a 409 for
    the poster's members while bids are sealed)."""
    viewer = viewer_for(user)
    job: Job = get_job_or_404(job_id, viewer, options=[joinedload(Job.coop), selectinload(Job.criteria),
                                                       selectinload(Job.requirements)])
    if job.state == JobState.OPEN and job.coop_id in viewer.coop_ids:
        raise ApiError(409, "conflict", f"Bids are sealed until {format_datetime(job.bids_deadline)}: "
                                        "they are scored once bids close.")
    if not can_see_scores(viewer, job):
        abort(404)
    return job


@bp.get("/jobs/<int:job_id>/scores")
@operation("listScores", "scores", {200: (schemas.Ranking, "The bids ranked by the poster's scores")},
           (401, 404, 409))
def scores_index(job_id: int) -> Response:
    """The ranking of a job's bids by the scores of the poster's members, with the mean per criterion"""
    user = token_user()
    job = _scored_job(job_id, user)
    return jsonify(plain(_ranking_json(job, user)))


def _ranking_json(job: Job, user: User) -> schemas.Ranking:
    return schemas.Ranking(job_id=job.id, scoring_open=scoring.scoring_open(job),
                           criteria=[criterion_json(c) for c in job.criteria],
                           items=[_ranked_json(row) for row in scoring.ranking(job, user)])


def _entries(body: schemas.ScoresChange) -> dict[int, scoring.Entry]:
    entries: dict[int, scoring.Entry] = {}
    for given in body.scores:
        if given.criterion_id in entries:
            raise invalid({"scores": f"Criterion {given.criterion_id} is scored twice."})
        entries[given.criterion_id] = scoring.Entry(given.score, given.comment)
    return entries


@bp.put("/jobs/<int:job_id>/bids/<int:bid_id>/scores")
@operation("scoreBid", "scores", {200: (schemas.BidScores, "The caller's scores of the bid, and its place")},
           (400, 401, 404, 409, 422), body=schemas.ScoresChange)
def scores_update(job_id: int, bid_id: int) -> Response:
    """Give (or change) the caller's scores of a bid, one for every criterion of the job"""
    user = token_user()
    body = parsed(schemas.ScoresChange)
    job = _scored_job(job_id, user)
    bid = db.session.get(Bid, bid_id, options=[selectinload(Bid.answers), joinedload(Bid.coop)])
    if bid is None or bid.job_id != job.id or bid.status not in RECEIVED_STATUSES:
        abort(404)
    entries = _entries(body)
    try:
        flush_retrying(lambda: scoring.submit_scores(bid, user, entries))
    except scoring.ScoreRuleError as error:
        db.session.rollback()
        if error.field:
            raise invalid({"scores": error.message}, error.message)
        raise ApiError(409, "conflict", error.message)
    own = scoring.own_scores(bid, user)
    ranked = next(row for row in scoring.ranking(job, user) if row.bid.id == bid.id)
    answer = schemas.BidScores(
        bid_id=bid.id, ranked=_ranked_json(ranked),
        scores=[schemas.Score(criterion_id=c.id, score=own[c.id].score, comment=own[c.id].comment)
                for c in job.criteria])
    return commit_with_answer(plain(answer))
