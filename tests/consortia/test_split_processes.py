"""Two members of the lead co-op save the split at the same moment, in two worker processes, each
from the page it loaded: the shares saved must still add up to 100 %, whichever save lands last.

Each process reads the consortium first, then both save together (a barrier between), which is
what two requests do when both pages were opened before either was saved. PostgreSQL only:
SQLite lets one writer in at a time, so the two saves cannot interleave there.
"""
import multiprocessing
import traceback

import pytest
from sqlalchemy import select

from marketplace.consortia.models import ConsortiumMember
from marketplace.extensions import db

from ..factories import make_user
from .conftest import member, team_of_three

pytestmark = pytest.mark.postgres_only


def _saver(config, consortium_id, user_id, shares, barrier, results):
    try:
        from marketplace import create_app
        from marketplace.accounts.models import User
        from marketplace.consortia import services
        from marketplace.consortia.models import Consortium

        app = create_app(config)
        with app.app_context(), app.test_request_context(base_url="http://marketplace.test"):
            consortium = db.session.get(Consortium, consortium_id)
            user = db.session.get(User, user_id)
            assert len(consortium.participants) == 3  # the page as it was opened
            barrier.wait(timeout=60)
            services.save_split(consortium, user, shares)
            db.session.commit()
        results.put(("ok", None))
    except Exception:
        results.put(("error", traceback.format_exc()))


def test_two_saves_of_the_split_at_once_keep_it_whole(app, clients, coops, job, users):
    consortium = team_of_three(clients, coops, job)
    lead, beta, gamma = (member(consortium, coops[k]) for k in ("alpha", "beta", "gamma"))
    second_lead = make_user("Alpha Second", coops=[coops["alpha"]])
    roles = {lead.id: "Project management", beta.id: "Development", gamma.id: "Design"}
    # From 50/30/20 work: one save moves 10 points from gamma to the lead, the other moves 10
    # from beta to gamma. Each changes two rows; applied over each other's reads they give 110.
    first = {lead.id: 60, beta.id: 30, gamma.id: 10}
    second = {lead.id: 50, beta.id: 20, gamma.id: 30}
    config = {"TESTING": True, "SECRET_KEY": "test-secret", "MAIL_BACKEND": "memory",
              "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    processes = [
        context.Process(target=_saver, args=(config, consortium.id, user.id,
                                             {k: (roles[k], work[k], {lead.id: 40, beta.id: 30, gamma.id: 30}[k])
                                              for k in roles}, barrier, results))
        for user, work in ((users["alpha"], first), (second_lead, second))
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    assert [status for status, _ in outcomes] == ["ok", "ok"], [detail for _, detail in outcomes]
    db.session.expire_all()
    saved = dict(db.session.execute(select(ConsortiumMember.id, ConsortiumMember.work_share)
                                    .where(ConsortiumMember.consortium_id == consortium.id)).all())
    assert sum(saved.values()) == 100, saved
    assert saved in ({lead.id: 60, beta.id: 30, gamma.id: 10}, {lead.id: 50, beta.id: 20, gamma.id: 30})
