"""Registering a co-op and editing its profile."""
import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditEvent
from marketplace.coops.models import Coop, CoopMember
from marketplace.extensions import db
from marketplace.federation.models import NetworkMembership

from ..conftest import login
from ..factories import make_coop
from .conftest import audit_actions, audit_count, count, text


@pytest.fixture
def coop_form(skills):
    return {
        "name": "Dev Society",
        "website": "https://devsociety.example",
        "email": "hello@devsociety.example",
        "description": "We make **software**.\n\n<script>alert(1)</script>",
        "size": "7",
        "location": "Manchester",
        "skills": [str(skills["python"].id), str(skills["devops"].id)],
    }


def test_register_a_coop(client, stranger, networks, coop_form):
    login(client, stranger)
    coop_form["networks"] = [str(networks["cotech"].id), str(networks["workers-coop"].id)]
    response = client.post("/coops/new", data=coop_form)
    assert response.status_code == 302
    coop = db.session.scalars(select(Coop)).one()
    assert response.headers["Location"].endswith("/coops/dev-society")
    assert coop.slug == "dev-society" and coop.size == 7 and coop.location == "Manchester"
    assert {s.slug for s in coop.skills} == {"python", "devops"}
    assert "<strong>software</strong>" in coop.description_html and "<script>" not in coop.description_html
    assert [(m.user_id, m.role) for m in coop.members] == [(stranger.id, "admin")]
    assert sorted((m.network.slug, m.status) for m in coop.memberships) == [
        ("cotech", "pending"), ("workers-coop", "pending")]
    assert audit_actions() == ["coop.created", "network_membership.applied", "network_membership.applied"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "network_membership.applied")).first()
    assert event.coop_id == coop.id and event.actor_id == stranger.id and event.data["network"] == "cotech"
    html = text(client.get("/coops/dev-society"))
    assert "pending until a coordinator approves" in html and "Pending" in html


def test_registering_needs_signing_in(client, coop_form):
    response = client.post("/coops/new", data=coop_form)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert count(Coop) == 0


def test_slug_gets_a_numeric_suffix_on_a_clash(client, stranger, networks):
    make_coop("Agile Co-op")
    make_coop("Agile: Co-op!!", slug="agile-co-op-2")
    login(client, stranger)
    client.post("/coops/new", data={"name": "Agile (Co-op)"})
    client.post("/coops/new", data={"name": "New"})  # would shadow /coops/new
    assert set(db.session.scalars(select(Coop.slug))) == {"agile-co-op", "agile-co-op-2", "agile-co-op-3", "new-2"}
    assert client.get("/coops/new-2").status_code == 200


@pytest.mark.parametrize("change, field, message", [
    ({"name": ""}, "name", "This field is required"),
    ({"name": "   "}, "name", "This field is required"),
    ({"name": "x" * 121}, "name", "longer than 120"),
    ({"name": "OUTLANDISH bytes"}, "name", "already registered"),
    ({"website": "javascript:alert(1)"}, "website", "starting with http:// or https://"),
    ({"website": "ftp://files.example"}, "website", "starting with http:// or https://"),
    ({"website": "devsociety.example"}, "website", "starting with http:// or https://"),
    ({"email": "not-an-address"}, "email", "valid email address"),
    ({"size": "-1"}, "size", "between 0 and 10,000"),
    ({"size": "10001"}, "size", "between 0 and 10,000"),
    ({"size": "lots"}, "size", "Not a valid integer"),
    ({"skills": ["99999"]}, "skills", "not a valid choice"),
    ({"skills": ["abc"]}, "skills", "could not be coerced"),
    ({"networks": ["99999"]}, "networks", "not a valid choice"),
    ({"description": "x" * 20001}, "description", "longer than 20000"),
])
def test_bad_registration_rerenders_and_saves_nothing(client, coop, stranger, coop_form, change, field, message):
    login(client, stranger)
    coops_before, events_before = count(Coop), audit_count()
    coop_form.update(change)
    response = client.post("/coops/new", data=coop_form)
    assert response.status_code == 422
    html = text(response)
    assert "There is a problem" in html and message.lower() in html.lower()
    assert count(Coop) == coops_before and audit_count() == events_before
    assert count(NetworkMembership) == 1


def test_admin_edits_the_profile(client, coop, admin, coop_form, skills):
    login(client, admin)
    form = client.get(f"/coops/{coop.slug}/edit")
    assert form.status_code == 200 and 'value="Outlandish Bytes"' in text(form)
    assert "Apply to join these networks" not in text(form)
    response = client.post(f"/coops/{coop.slug}/edit", data=coop_form)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/coops/{coop.slug}")
    db.session.refresh(coop)
    assert coop.name == "Dev Society" and coop.slug == "outlandish-bytes"  # links keep working
    assert coop.website == "https://devsociety.example" and coop.email == "hello@devsociety.example"
    assert "<strong>software</strong>" in coop.description_html and "<script>" not in coop.description_html
    assert {s.slug for s in coop.skills} == {"python", "devops"}
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "coop.updated")).one()
    assert event.actor_id == admin.id and event.coop_id == coop.id
    assert event.data["fields"] == ["description", "email", "location", "name", "size", "website", "skills"]
    # Saving again without changes writes no event.
    client.post(f"/coops/{coop.slug}/edit", data=coop_form)
    assert audit_actions() == ["coop.updated"]


def test_keeping_its_own_name_in_another_case_is_fine(client, coop, admin):
    login(client, admin)
    response = client.post(f"/coops/{coop.slug}/edit", data={"name": "OUTLANDISH BYTES"})
    assert response.status_code == 302
    db.session.refresh(coop)
    assert coop.name == "OUTLANDISH BYTES" and coop.skills == []


def test_only_admins_may_edit(client, coop, member, stranger, coop_form):
    assert "/login" in client.get(f"/coops/{coop.slug}/edit").headers["Location"]
    for user in (member, stranger):
        login(client, user)
        assert client.get(f"/coops/{coop.slug}/edit").status_code == 403
        assert client.post(f"/coops/{coop.slug}/edit", data=coop_form).status_code == 403
    db.session.refresh(coop)
    assert coop.name == "Outlandish Bytes" and audit_count() == 0
    assert client.get("/coops/no-such-coop/edit").status_code == 404


@pytest.mark.parametrize("change, message", [
    ({"website": "javascript:alert(1)"}, "starting with http:// or https://"),
    ({"size": "20000"}, "between 0 and 10,000"),
    ({"skills": ["424242"]}, "not a valid choice"),
])
def test_bad_edit_rerenders_and_saves_nothing(client, coop, admin, coop_form, change, message):
    login(client, admin)
    coop_form.update(change)
    response = client.post(f"/coops/{coop.slug}/edit", data=coop_form)
    assert response.status_code == 422 and message in text(response)
    db.session.refresh(coop)
    assert coop.name == "Outlandish Bytes" and [s.slug for s in coop.skills] == ["python"]
    assert audit_count() == 0


def test_name_of_another_coop_is_refused_on_edit(client, coop, admin, coop_form):
    make_coop("Dev Society")
    login(client, admin)
    response = client.post(f"/coops/{coop.slug}/edit", data=coop_form)
    assert response.status_code == 422 and "already registered" in text(response)
    db.session.refresh(coop)
    assert coop.name == "Outlandish Bytes"
    assert db.session.scalar(select(CoopMember.role).where(CoopMember.user_id == admin.id)) == "admin"
