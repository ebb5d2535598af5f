"""The bidding pages run a fixed number of SQL statements, however many bids, interests,
questions or notifications there are (no query per row)."""
from datetime import date

import pytest
from marketplace.bids.models import Bid, BidAnswer, Interest
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.questions.models import Question

from marketplace.coops.models import CoopMember

from ..factories import make_coop, make_user
from ..factories import counted_statements
from .conftest import after_deadline, client_for


def add_followers(job, networks, n, member):
    """``n`` more co-ops (``member`` belongs to all) that each bid, say they are interested,
    and ask (answered)."""
    for _ in range(n):
        coop = make_coop(memberships={networks["cotech"]: "active"})
        db.session.add(CoopMember(coop=coop, user=member))
        bid = Bid(job=job, coop=coop, status="submitted", amount=100, available_from=date.today(),
                  proposal="p", proposal_html="<p>p</p>", submitted_at=utcnow())
        bid.answers = [BidAnswer(requirement_id=r.id, answer="yes") for r in job.requirements]
        db.session.add_all([bid, Interest(job=job, coop=coop, bid_by=job.bids_deadline.date()),
                            Question(job=job, coop=coop, text="q?", answer="a", answer_html="<p>a</p>",
                                     answered_at=utcnow())])
    db.session.commit()


@pytest.mark.parametrize("path, closed", [
    ("/jobs/{job}", False), ("/jobs/{job}", True), ("/jobs/{job}/bids", True),
    ("/jobs/{job}/questions", False), ("/notifications/", False), ("/bids", False),
])
def test_statements_do_not_grow(app, job, networks, poster, path, closed, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_CACHE_SECONDS", 0)  # what rendering the page costs
    member = make_user("Member of many")
    counts = []
    for more in (1, 6):
        add_followers(job, networks, more, member)
        for _ in range(more):
            db.session.add(Notification(user_id=poster.id, kind="bid_received", job_id=job.id, message="m"))
        db.session.commit()
        client = client_for(app, member if path == "/bids" else poster)
        url = path.format(job=job.id)
        if closed:
            with after_deadline(job):
                client.get(url)  # the first visit after the deadline tells the poster; then steady
                with counted_statements() as statements:
                    assert client.get(url).status_code == 200
        else:
            with counted_statements() as statements:
                assert client.get(url).status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], (path, counts)
