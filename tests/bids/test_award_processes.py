"""Two awards of one job at the same moment, in two worker processes, each from the review page
it loaded (the same bid twice, or two different bids): exactly one awards it, with one
``job.awarded`` event and one notice to the winner; the other is told the job is already
awarded. PostgreSQL only: SQLite lets one writer in at a time.
"""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.bids.models import Bid
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.notifications.models import Notification

from ..factories import make_job, make_user
from ..processes import together

pytestmark = pytest.mark.postgres_only

ROUNDS = 4


def _award(wait, bid_id, user_id):
    from marketplace.accounts.models import User
    from marketplace.bids import services
    from marketplace.core.work import save_change

    bid = db.session.get(Bid, bid_id)
    user = db.session.get(User, user_id)
    assert bid.job.state.value == "closed"  # the review page as it was opened
    wait()
    saved = save_change(lambda: services.award_bid(bid, user, 8000, utcnow().date() + timedelta(days=30)),
                        retry=True, show=False)
    return "awarded" if saved else saved.error.message


def _closed_job_with_bids(poster_coop, poster, coops):
    job = make_job(poster_coop, "cotech", "closed", user=poster)
    bids = [Bid(job=job, coop=coop, status="submitted", price_type="fixed", amount=9000,
                available_from=utcnow().date() + timedelta(days=30), proposal="Our proposal",
                submitted_at=utcnow() - timedelta(days=2)) for coop in coops]
    db.session.add_all(bids)
    db.session.commit()
    return job, bids


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.parametrize("same_bid", [True, False], ids=["same bid", "two bids"])
def test_two_awards_at_once_award_the_job_once(app, poster_coop, poster, alpha, beta, alpha_user, beta_user,
                                               same_bid):
    second_poster = make_user("Pam Poster", coops=[poster_coop])
    problems = []
    for round_ in range(ROUNDS):
        job, bids = _closed_job_with_bids(poster_coop, poster, [alpha, beta])
        chosen = [bids[0], bids[0]] if same_bid else bids
        answers = together(app, _award, [(bid.id, user.id) for bid, user in zip(chosen, (poster, second_poster))])
        db.session.expire_all()
        awarded = _count(AuditEvent, AuditEvent.action == "job.awarded", AuditEvent.target_id == job.id)
        told = _count(Notification, Notification.job_id == job.id, Notification.kind == "bid_awarded")
        winners = _count(Bid, Bid.job_id == job.id, Bid.status == "awarded")
        if sorted(answers) != ["This job has already been awarded.", "awarded"] or (awarded, winners) != (1, 1) \
                or told != 1:
            problems.append(f"round {round_}: answers {answers}, {awarded} job.awarded events, "
                            f"{winners} awarded bids, the winner told {told} times")
    assert problems == []
