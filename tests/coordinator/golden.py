"""A seeded network for the golden ranking test: the benchmark's generator (bench/dataset.py) at
a small size, plus stated capacity, bids, awards and referrals drawn from their own seeded
generator, all at a fixed moment so that windows, deadlines and "the last 12 months" never move.

    PYTHONPATH=. .venv/bin/python -m tests.coordinator.golden   # writes fixtures/rankings.json

(the fixture records what the ranking answers; it is rewritten only when the ranking is meant
to change.)"""
import json
import os
import random
import sys
from datetime import datetime, timedelta

from sqlalchemy import insert, select

from marketplace.bids.models import Bid
from marketplace.coops.models import Coop
from marketplace.coordinator import matching
from marketplace.coordinator.models import CoopCapacity, Invitation
from marketplace.core.time import frozen_now
from marketplace.extensions import db
from marketplace.federation.models import Visibility
from marketplace.federation.policy import Viewer
from marketplace.jobs.models import Job

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import dataset  # noqa: E402

MOMENT = datetime(2026, 3, 2, 9, 30)
JOBS, COOPS, BIDS, INVITATIONS = 400, 120, 1200, 300
EVERY = 4  # every fourth published job is ranked
SEED = 2501
FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "rankings.json")
EVERY_JOB = Viewer(visibilities=frozenset(v.value for v in Visibility), is_site_admin=True)
PUBLIC = Viewer()  # someone not signed in: past bids count on public jobs only


def build():
    """Fill the (empty) database of the current app context."""
    with frozen_now(MOMENT):
        with db.engine.begin() as conn:
            dataset.insert_rows(conn, JOBS, COOPS, seed=SEED)
        rng = random.Random(SEED)
        coop_ids = db.session.scalars(select(Coop.id).order_by(Coop.id)).all()
        jobs = db.session.execute(select(Job.id, Job.coop_id, Job.bids_deadline, Job.status)
                                  .where(Job.status != "draft").order_by(Job.id)).all()
        capacity = []
        for c in coop_ids:
            if rng.random() < 0.7:
                low = rng.randrange(250, 600, 25) if rng.random() < 0.8 else None
                capacity.append({
                    "coop_id": c, "people_1m": rng.choice((None, 0, 1, 2, 3)), "people_3m": rng.randint(0, 6),
                    "people_6m": rng.randint(0, 10), "day_rate_min": low,
                    "day_rate_max": low and low + rng.randrange(0, 200, 25), "updated_at": MOMENT})
        bids, decided = [], set()
        for (job_id, _, deadline, status), coop_id in _pairs(rng, jobs, coop_ids, BIDS):
            award = deadline < MOMENT and status == "published" and job_id not in decided and rng.random() < 0.35
            if award:
                decided.add(job_id)
            bids.append({
                "job_id": job_id, "coop_id": coop_id, "status": "awarded" if award else "submitted",
                "price_type": "fixed", "amount": rng.randrange(1000, 50000, 500), "proposal": "",
                "proposal_html": "", "feedback": "", "submitted_at": deadline - timedelta(days=1),
                "decided_at": deadline + timedelta(days=3) if award else None,
                "created_at": deadline - timedelta(days=2), "updated_at": deadline - timedelta(days=1)})
        invitations = [{"job_id": job_id, "coop_id": coop_id, "status": "pending", "decline_reason": "",
                        "created_at": deadline - timedelta(days=10)}
                       for (job_id, _, deadline, _), coop_id in _pairs(rng, jobs, coop_ids, INVITATIONS)]
        with db.engine.begin() as conn:
            conn.execute(insert(CoopCapacity.__table__), capacity)
            conn.execute(insert(Bid.__table__), bids)
            conn.execute(insert(Invitation.__table__), invitations)


def _pairs(rng, jobs, coop_ids, n):
    """``n`` different (job row, co-op id) pairs drawn at random, never the job's own poster."""
    seen = set()
    while len(seen) < n:
        job, coop_id = rng.choice(jobs), rng.choice(coop_ids)
        if coop_id != job.coop_id and (job.id, coop_id) not in seen:
            seen.add((job.id, coop_id))
            yield job, coop_id


def _match(m):
    return {"coop": m.name, "coop_id": m.coop_id, "fit": round(m.fit, 9), "percent": m.percent,
            "close_match": m.close_match, "covers_all": m.covers_all, "no_capacity": m.no_capacity,
            "reasons": m.reasons}


def rankings():
    """What ``rank`` answers for every published job with skills, for two kinds of viewer, as
    plain data: {"<job id> <viewer>": {...}}."""
    answers = {}
    with frozen_now(MOMENT):
        job_ids = db.session.scalars(select(Job.id).where(Job.status == "published").order_by(Job.id)).all()
        for job_id in job_ids[::EVERY]:
            job = db.session.get(Job, job_id)
            for label, viewer in (("all", EVERY_JOB), ("public", PUBLIC)):
                r = matching.rank(job, viewer)
                answers[f"{job_id} {label}"] = {
                    "skills": [[s.name, s.offered_by, round(s.weight, 9)] for s in r.skills],
                    "window": [r.window_months, r.window_day.isoformat()],
                    "eligible": r.eligible, "candidates": r.candidates, "not_offered": r.not_offered,
                    "matches": [_match(m) for m in r.matches],
                    # every member of a suggested consortium, by co-op id, with its reasons
                    "members": {m.coop_id: _match(m) for c in r.consortia for m in c.members},
                    "consortia": [[round(c.fit, 9), [m.coop_id for m in c.members]] for c in r.consortia],
                }
    return answers


def main():  # pragma: no cover - writes the fixture
    from marketplace import create_app

    url = os.environ.get("GOLDEN_DATABASE_URL", "sqlite://")
    app = create_app({"TESTING": True, "SECRET_KEY": "golden", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.drop_all()
        db.create_all()
        build()
        answers = rankings()
    with open(FIXTURE, "w") as f:
        # One ranking a line, so that a change shows as a readable diff.
        f.write("{\n" + ",\n".join(f"{json.dumps(key)}: {json.dumps(answers[key], sort_keys=True, ensure_ascii=False)}"
                                     for key in sorted(answers)) + "\n}\n")
    print(f"{len(answers)} rankings written to {FIXTURE}")


if __name__ == "__main__":
    main()
