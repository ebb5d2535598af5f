"""Changes to a consortium made at the same moment in two worker processes, each from the page it
loaded (``tests.processes.together``): two members of the lead co-op saving the split keep it at
100 %, whichever save lands last; two members of a co-op accepting the new split accept it once.
PostgreSQL only: SQLite lets one writer in at a time, so the two cannot interleave there.
"""
import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.consortia.models import ConsortiumMember
from marketplace.extensions import db
from marketplace.notifications.models import Notification

from ..factories import make_user
from ..processes import together
from .conftest import errors, member, split, team_of_three

pytestmark = pytest.mark.postgres_only


def _load(consortium_id, user_id):
    from marketplace.accounts.models import User
    from marketplace.consortia.models import Consortium

    consortium = db.session.get(Consortium, consortium_id)
    assert len(consortium.participants) == 3  # the page as it was opened
    return consortium, db.session.get(User, user_id)


def _save_split(wait, consortium_id, user_id, shares):
    from marketplace.consortia import services

    consortium, user = _load(consortium_id, user_id)
    wait()
    services.save_split(consortium, user, shares)
    db.session.commit()


def _accept(wait, consortium_id, user_id, member_id):
    from marketplace.consortia import services
    from marketplace.core.work import save_change

    consortium, user = _load(consortium_id, user_id)
    accepting = db.session.get(ConsortiumMember, member_id)
    assert accepting.status == "reaccept"
    wait()
    saved = save_change(lambda: services.accept(consortium, accepting, user), retry=True, show=False)
    return "accepted" if saved else saved.error.message


def test_two_saves_of_the_split_at_once_keep_it_whole(app, clients, coops, job, users):
    consortium = team_of_three(clients, coops, job)
    lead, beta, gamma = (member(consortium, coops[k]) for k in ("alpha", "beta", "gamma"))
    second_lead = make_user("Alpha Second", coops=[coops["alpha"]])
    roles = {lead.id: "Project management", beta.id: "Development", gamma.id: "Design"}
    money = {lead.id: 40, beta.id: 30, gamma.id: 30}
    # From 50/30/20 work: one save moves 10 points from gamma to the lead, the other moves 10
    # from beta to gamma. Each changes two rows; applied over each other's reads they give 110.
    first = {lead.id: 60, beta.id: 30, gamma.id: 10}
    second = {lead.id: 50, beta.id: 20, gamma.id: 30}
    together(app, _save_split, [
        (consortium.id, user.id, {k: (roles[k], work[k], money[k]) for k in roles})
        for user, work in ((users["alpha"], first), (second_lead, second))
    ])
    db.session.expire_all()
    saved = dict(db.session.execute(select(ConsortiumMember.id, ConsortiumMember.work_share)
                                    .where(ConsortiumMember.consortium_id == consortium.id)).all())
    assert sum(saved.values()) == 100, saved
    assert saved in (first, second)


def test_two_accepts_of_a_new_split_at_once_accept_it_once(app, clients, coops, job, users):
    """Beta's share changed, so Beta must accept again; two of its members press "Accept" at
    once: one accepts (one event, the others told once), the other is told it already has."""
    consortium = team_of_three(clients, coops, job)
    lead, beta, gamma = (member(consortium, coops[k]) for k in ("alpha", "beta", "gamma"))
    response = split(clients["alpha"], consortium, {
        lead: ("Project management", 45, 40), beta: ("Development", 35, 30), gamma: ("Design", 20, 30)})
    assert response.status_code == 302, errors(response)
    second_beta = make_user("Beta Second", coops=[coops["beta"]])
    told_before = db.session.scalar(select(func.count()).select_from(Notification)
                                    .where(Notification.message.contains("accepted the new split")))
    answers = together(app, _accept, [(consortium.id, user.id, beta.id) for user in (users["beta"], second_beta)])
    assert sorted(answers) == ["Beta Co-op has already accepted.", "accepted"], answers
    db.session.expire_all()
    events = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "consortium.reaccepted", AuditEvent.target_id == consortium.id))
    told = db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.message.contains("accepted the new split")))
    assert (events, told - told_before) == (1, 2)  # Alpha's and Gamma's members, once each
