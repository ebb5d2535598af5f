"""A co-op's stated capacity: the form, bad input, the audit event, and who sees it."""
import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditEvent
from marketplace.coordinator.models import CoopCapacity
from marketplace.extensions import db

from ..factories import make_coop, make_user
from .conftest import client_for, set_capacity

GOOD = {"people_1m": "1", "people_3m": "3", "people_6m": "5", "day_rate_min": "350", "day_rate_max": "450"}


@pytest.fixture
def coop(networks):
    return make_coop("Capable Co-op", {networks["cotech"]: "active"})


@pytest.fixture
def admin(coop):
    return make_user("Ada Admin", coops={coop: "admin"})


def test_admin_states_capacity(app, coop, admin):
    client = client_for(app, admin)
    assert client.get(f"/coops/{coop.slug}/capacity").status_code == 200
    response = client.post(f"/coops/{coop.slug}/capacity", data=GOOD)
    assert response.status_code == 302
    stored = db.session.get(CoopCapacity, coop.id)
    assert (stored.people_1m, stored.people_3m, stored.people_6m, stored.day_rate_min, stored.day_rate_max) == \
        (1, 3, 5, 350, 450)
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "coop.capacity_updated")).all()
    assert event.target_id == coop.id and event.actor_id == admin.id
    assert event.data["changed"]["people_6m"] == 5
    html = client.get(f"/coops/{coop.slug}").get_data(as_text=True)
    assert "Free within 6 months</dt><dd>5" in html and "£350–£450 a day" in html
    # Saving the same values again changes nothing and writes no event.
    client.post(f"/coops/{coop.slug}/capacity", data=GOOD)
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "coop.capacity_updated")
                             .offset(1)) is None
    # Emptied boxes mean "not said".
    client.post(f"/coops/{coop.slug}/capacity", data={**GOOD, "people_1m": "", "day_rate_max": ""})
    db.session.refresh(stored)
    assert stored.people_1m is None and stored.day_rate_max is None and stored.people_3m == 3


@pytest.mark.parametrize("changes, message", [
    ({"people_1m": "-1"}, "Must be a whole number from 0 to 10,000."),
    ({"people_3m": "lots"}, "Not a valid integer value."),
    ({"people_6m": "100001"}, "Must be a whole number from 0 to 10,000."),
    ({"day_rate_min": "500", "day_rate_max": "400"}, "The highest day rate must not be below the lowest."),
    ({"day_rate_max": "9999999"}, "Must be between £0 and £50,000."),
])
def test_bad_input_rerenders_with_422(app, coop, admin, changes, message):
    response = client_for(app, admin).post(f"/coops/{coop.slug}/capacity", data={**GOOD, **changes})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.get(CoopCapacity, coop.id) is None


def test_only_admins_edit(app, networks, coop, admin):
    member = make_user(coops=[coop])
    other_admin = make_user(coops={make_coop("Else", {networks["cotech"]: "active"}): "admin"})
    for user in (member, other_admin):
        assert client_for(app, user).get(f"/coops/{coop.slug}/capacity").status_code == 403
        assert client_for(app, user).post(f"/coops/{coop.slug}/capacity", data=GOOD).status_code == 403
    assert app.test_client().get(f"/coops/{coop.slug}/capacity").status_code == 302  # sign in
    assert client_for(app, admin).get("/coops/no-such-coop/capacity").status_code == 404
    assert db.session.get(CoopCapacity, coop.id) is None


def test_who_sees_capacity_on_the_profile(app, networks, coop, admin):
    cotech, workers = networks["cotech"], networks["workers-coop"]
    set_capacity(coop, people=(7, 8, 9))
    viewers = {
        "anonymous": (None, False),
        "no_coop": (make_user(), False),
        "own_member": (make_user(coops=[coop]), True),
        "cotech_member": (make_user(coops=[make_coop("C", {cotech: "active"})]), True),
        "workers_member": (make_user(coops=[make_coop("W", {workers: "active"})]), True),
        "guest": (make_user(coops=[make_coop("G", {cotech: "guest"})]), True),  # in the federation audience
        "pending": (make_user(coops=[make_coop("P", {cotech: "pending"})]), False),
        "coordinator": (make_user(coordinates=[workers]), True),
        "site_admin": (make_user(admin=True), True),
    }
    for kind, (user, sees) in viewers.items():
        html = client_for(app, user).get(f"/coops/{coop.slug}").get_data(as_text=True)
        assert ('id="capacity"' in html) == sees, kind
        assert ("Free within 6 months</dt><dd>9" in html) == sees, kind
