"""Scorers at once over real HTTP: three members of the posting co-op, each submitting their
scores of both bids several times at the same moment. Nobody's scores are lost (one row per
bid, scorer and criterion; a lost race on the unique constraint is retried as an edit) and
each submission is one audit event."""
import random

from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.evaluation.models import BidScore
from marketplace.extensions import db

from ..bids import load
from ..factories import make_user
from .conftest import after_deadline, score_data


def test_simultaneous_scorers_lose_nothing(app, scored_job, two_bids, poster_coop):
    scorers = [make_user(f"Scorer {n}", coops=[poster_coop]) for n in range(3)]
    sent, requests = {}, []
    for scorer in scorers:
        cookie = load.session_cookie(app, scorer)
        for bid in two_bids:
            for n in range(4):
                score = (scorer.id + bid.id + n) % 11
                sent.setdefault((bid.id, scorer.id), set()).add(score)
                requests.append((f"/jobs/{scored_job.id}/bids/{bid.id}/score",
                                 score_data(scored_job, score, score, score), cookie))
    random.Random(3).shuffle(requests)
    with after_deadline(scored_job), load.serve(app) as base_url:
        results = load.fire(base_url, requests, workers=8)
    assert [status for status, _ in results] == [302] * len(requests)
    db.session.expire_all()
    rows = db.session.scalars(select(BidScore)).all()
    assert len(rows) == len(scorers) * len(two_bids) * len(scored_job.criteria)
    for (bid_id, scorer_id), scores in sent.items():
        given = {r.score for r in rows if (r.bid_id, r.scorer_id) == (bid_id, scorer_id)}
        assert len(given) == 1 and given <= scores, (bid_id, scorer_id, given)
    events = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "bid.scored"))
    assert events == len(requests)
