import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.extensions import db
from marketplace.federation.models import NetworkMembership

from ..factories import make_coop, make_user
from ..matrix import awarded_world, world  # noqa: F401


@pytest.fixture
def people(networks):
    """A co-op with no membership yet (and its admin and member), a CoTech co-op, and a
    user of each role that may or may not manage networks."""
    cotech, workers = networks["cotech"], networks["workers-coop"]
    candidate = make_coop("Candidate Co-op", location="Bristol")
    member_coop = make_coop("Member Co-op", {cotech: "active"})
    return {
        "candidate": candidate,
        "member_coop": member_coop,
        "coop_admin": make_user("Cleo Coopadmin", coops={candidate: "admin"}, email="cleo@example.coop"),
        "coop_member": make_user("Carl Coopmember", coops={candidate: "member"}),
        "coordinator_cotech": make_user("Cora Cotech", coordinates=[cotech], email="cora@example.coop"),
        "coordinator_workers": make_user("Wes Workers", coordinates=[workers]),
        "site_admin": make_user("Sid Siteadmin", admin=True),
        "anonymous": None,
    }


def memberships(coop):
    return {
        (m.network.slug, m.status, m.since, m.until)
        for m in db.session.scalars(select(NetworkMembership).where(NetworkMembership.coop_id == coop.id))
    }


def audit_count():
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def last_event():
    return db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
