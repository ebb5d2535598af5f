"""Every co-op form refuses a POST without its CSRF token, and accepts one with it."""
import re

import pytest
from sqlalchemy import select

from marketplace.coops.models import Coop, CoopMember, JoinRequest
from marketplace.extensions import db

from ..conftest import login
from .conftest import audit_count, count, text


def token_from(response):
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"',
                     text(response)).group(1)


@pytest.fixture
def pending(coop, stranger):
    request = JoinRequest(coop=coop, user=stranger)
    db.session.add(request)
    db.session.commit()
    return request


def _member_id(coop, user):
    return db.session.scalar(select(CoopMember.id).where(CoopMember.coop_id == coop.id, CoopMember.user_id == user.id))


@pytest.mark.parametrize("user, path, data", [
    ("admin", "/coops/new", {"name": "Forged Co-op"}),
    ("admin", "/coops/{slug}/edit", {"name": "Forged"}),
    ("admin", "/coops/{slug}/members", {"email": "sam@example.coop", "role": "admin"}),
    ("admin", "/coops/{slug}/members/{member}/role", {"role": "admin"}),
    ("admin", "/coops/{slug}/members/{member}/remove", {}),
    ("admin", "/coops/{slug}/requests/{request}/approve", {}),
    ("admin", "/coops/{slug}/requests/{request}/decline", {}),
    ("admin", "/coops/{slug}/networks", {"network": "{network}"}),
    ("member", "/coops/{slug}/leave", {}),
    ("other", "/coops/{slug}/join", {"message": "forged"}),
])
def test_posts_without_a_token_are_refused(client, csrf, coop, admin, member, stranger, pending, networks,
                                           user, path, data):
    from ..factories import make_user

    users = {"admin": admin, "member": member, "other": make_user("Other Person")}
    login(client, users[user])
    values = {"slug": coop.slug, "member": _member_id(coop, member), "request": pending.id,
              "network": networks["workers-coop"].id}
    data = {k: v.format(**values) for k, v in data.items()}
    before = (count(Coop), count(CoopMember), count(JoinRequest), audit_count(), coop.name)
    response = client.post(path.format(**values), data=data)
    assert response.status_code == 400
    assert "Form expired" in text(response)
    db.session.refresh(coop)
    db.session.refresh(pending)
    assert (count(Coop), count(CoopMember), count(JoinRequest), audit_count(), coop.name) == before
    assert pending.status == "pending"


def test_a_form_with_its_token_is_accepted(client, csrf, coop, admin):
    login(client, admin)
    token = token_from(client.get(f"/coops/{coop.slug}/edit"))
    response = client.post(f"/coops/{coop.slug}/edit", data={"name": "Renamed Co-op", "csrf_token": token})
    assert response.status_code == 302
    db.session.refresh(coop)
    assert coop.name == "Renamed Co-op"
    token = token_from(client.get(f"/coops/{coop.slug}/members"))
    response = client.post(f"/coops/{coop.slug}/members",
                           data={"email": "nobody@example.coop", "role": "member", "csrf_token": token})
    assert response.status_code == 422  # past CSRF, to the field check
