"""Every network form refuses a POST without its CSRF token, and accepts one with it."""
import re

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.federation.models import Network, NetworkCoordinator, NetworkMembership

from ..conftest import login
from .conftest import audit_count


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Network, NetworkCoordinator, NetworkMembership)) + (audit_count(),)


def _cotech_membership_id(people):
    return db.session.scalar(select(NetworkMembership.id).where(NetworkMembership.coop_id == people["member_coop"].id))


@pytest.mark.parametrize("actor, path, data", [
    ("site_admin", "/networks/new", {"slug": "forged", "name": "Forged"}),
    ("coordinator_cotech", "/networks/cotech/memberships", {"coop": "candidate-co-op", "status": "active"}),
    ("coordinator_cotech", "/networks/cotech/memberships/{membership}/edit", {"status": "pending"}),
    ("coordinator_cotech", "/networks/cotech/memberships/{membership}/remove", {}),
    ("site_admin", "/networks/cotech/coordinators", {"email": "cleo@example.coop"}),
    ("site_admin", "/networks/cotech/coordinators/{coordinator}/remove", {}),
    ("coop_admin", "/networks/cotech/apply", {"coop": "{candidate}"}),
])
def test_posts_without_a_token_are_refused(client, csrf, people, actor, path, data):
    login(client, people[actor])
    values = {"membership": _cotech_membership_id(people), "coordinator": people["coordinator_cotech"].id,
              "candidate": people["candidate"].id}
    before = counts()
    response = client.post(path.format(**values), data={k: v.format(**values) for k, v in data.items()})
    assert response.status_code == 400 and "Form expired" in response.get_data(as_text=True)
    assert counts() == before
    assert db.session.scalar(select(NetworkMembership.status).where(
        NetworkMembership.id == values["membership"])) == "active"


def test_a_form_with_its_token_is_accepted(client, csrf, people):
    login(client, people["coordinator_cotech"])
    page = client.get("/networks/cotech").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]* value="([^"]+)"', page).group(1)
    response = client.post("/networks/cotech/memberships",
                           data={"coop": "candidate-co-op", "status": "guest", "csrf_token": token})
    assert response.status_code == 302
    assert db.session.scalar(select(NetworkMembership.status).where(
        NetworkMembership.coop_id == people["candidate"].id)) == "guest"
