import re

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.extensions import db

from ..factories import make_coop, make_user


@pytest.fixture
def coop(networks, skills):
    """A CoTech co-op with one admin and one member."""
    return make_coop("Outlandish Bytes", {networks["cotech"]: "active"}, skills=[skills["python"]],
                     location="Leeds", size=12)


@pytest.fixture
def admin(coop):
    return make_user("Ada Admin", coops={coop: "admin"}, email="ada@example.coop")


@pytest.fixture
def member(coop):
    return make_user("Mo Member", coops={coop: "member"}, email="mo@example.coop")


@pytest.fixture
def stranger():
    return make_user("Sam Stranger", email="sam@example.coop")


def audit_actions(target_type=None):
    stmt = select(AuditEvent.action).order_by(AuditEvent.id)
    if target_type:
        stmt = stmt.where(AuditEvent.target_type == target_type)
    return list(db.session.scalars(stmt))


def audit_count():
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def text(response):
    return response.get_data(as_text=True)


def flashes(response):
    return re.findall(r'<p class="flash flash-\w+">([^<]+)</p>', text(response))
