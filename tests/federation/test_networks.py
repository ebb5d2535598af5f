"""Networks as data: the list, creating one, and naming its coordinators."""
import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.federation.models import Network, NetworkCoordinator

from ..conftest import login
from ..factories import make_coop, make_job, make_user
from .conftest import audit_count, last_event


def coordinator_ids(network):
    return set(db.session.scalars(select(NetworkCoordinator.user_id).where(NetworkCoordinator.network_id == network.id)))


def test_index_and_network_pages_are_public(client, people):
    html = client.get("/networks/").get_data(as_text=True)
    assert 'href="/networks/cotech"' in html and 'href="/networks/workers-coop"' in html
    assert "Create a network" not in html
    html = client.get("/networks/cotech").get_data(as_text=True)
    assert "<h1>CoTech</h1>" in html and "Member Co-op" in html
    assert "Cora Cotech" not in html  # coordinators are named to signed-in users only
    login(client, people["coop_member"])
    assert "Cora Cotech" in client.get("/networks/cotech").get_data(as_text=True)


@pytest.mark.parametrize("actor", ["coordinator_cotech", "coop_admin", "anonymous"])
def test_only_site_admins_create_networks(client, people, actor):
    if people[actor]:
        login(client, people[actor])
    data = {"slug": "sister", "name": "Sister co-ops", "in_federation": "y"}
    for response in (client.get("/networks/new"), client.post("/networks/new", data=data)):
        if actor == "anonymous":
            assert "/login" in response.headers["Location"]
        else:
            assert response.status_code == 403
    assert db.session.scalar(select(Network).where(Network.slug == "sister")) is None


def test_site_admin_creates_a_network_that_works_as_data(client, people):
    login(client, people["site_admin"])
    assert "Create a network" in client.get("/networks/").get_data(as_text=True)
    response = client.post("/networks/new", data={
        "slug": "Northern-Circle", "name": "Northern circle", "description": "Co-ops of the north.",
        "website": "https://north.example", "in_federation": "y",
    })
    assert response.status_code == 302 and response.headers["Location"].endswith("/networks/northern-circle")
    network = db.session.scalar(select(Network).where(Network.slug == "northern-circle"))
    assert network.name == "Northern circle" and network.in_federation
    event = last_event()
    assert (event.action, event.target_type, event.data["network"]) == ("network.created", "network", "northern-circle")
    # An active member of the new federation network sees federation posts, with no code change.
    poster = make_coop("Poster", {"cotech": "active"})
    job = make_job(poster, "federation", title="Federation job")
    northerner = make_user(coops=[make_coop("Northern Co-op")])
    login(client, northerner)
    assert client.get(f"/jobs/{job.id}").status_code == 404
    login(client, people["site_admin"])
    client.post("/networks/northern-circle/memberships", data={"coop": "northern-co-op", "status": "active"})
    login(client, northerner)
    assert client.get(f"/jobs/{job.id}").status_code == 200


def test_a_network_outside_the_federation_opens_no_federation_posts(client, people):
    login(client, people["site_admin"])
    client.post("/networks/new", data={"slug": "local", "name": "Local friends"})
    assert not db.session.scalar(select(Network).where(Network.slug == "local")).in_federation
    client.post("/networks/local/memberships", data={"coop": "candidate-co-op", "status": "active"})
    job = make_job(people["member_coop"], "federation", title="Federation job")
    login(client, people["coop_member"])
    assert client.get(f"/jobs/{job.id}").status_code == 404


@pytest.mark.parametrize("data, message", [
    ({"slug": "cotech", "name": "Again"}, "That short name is taken"),
    ({"slug": "new", "name": "Shadow"}, "That short name is taken"),
    ({"slug": "two words", "name": "Bad"}, "lower-case letters, digits and single hyphens"),
    ({"slug": "-edge-", "name": "Bad"}, "lower-case letters, digits and single hyphens"),
    ({"slug": "x" * 41, "name": "Long"}, "longer than 40"),
    ({"slug": "fine", "name": ""}, "This field is required"),
    ({"slug": "fine", "name": "Fine", "website": "javascript:alert(1)"}, "starting with http:// or https://"),
])
def test_bad_network_rerenders_and_saves_nothing(client, people, data, message):
    login(client, people["site_admin"])
    before = db.session.scalar(select(Network.id).order_by(Network.id.desc()))
    response = client.post("/networks/new", data=data)
    assert response.status_code == 422
    assert message.lower() in response.get_data(as_text=True).lower()
    assert db.session.scalar(select(Network.id).order_by(Network.id.desc())) == before
    assert audit_count() == 0


def test_site_admin_adds_and_removes_coordinators(client, people, networks):
    workers = networks["workers-coop"]
    cleo = people["coop_admin"]
    login(client, people["site_admin"])
    assert "Add coordinator" in client.get("/networks/workers-coop").get_data(as_text=True)
    response = client.post("/networks/workers-coop/coordinators", data={"email": "CLEO@example.coop"})
    assert response.status_code == 302
    assert cleo.id in coordinator_ids(workers)
    event = last_event()
    assert (event.action, event.target_type, event.data) == (
        "network.coordinator_added", "network", {"network": "workers-coop", "user_id": cleo.id})
    # The new coordinator manages that network's memberships at once.
    login(client, cleo)
    response = client.post("/networks/workers-coop/memberships", data={"coop": "member-co-op", "status": "guest"})
    assert response.status_code == 302
    login(client, people["site_admin"])
    response = client.post(f"/networks/workers-coop/coordinators/{cleo.id}/remove")
    assert response.status_code == 302 and cleo.id not in coordinator_ids(workers)
    assert last_event().action == "network.coordinator_removed"
    login(client, cleo)
    assert client.post("/networks/workers-coop/memberships",
                       data={"coop": "candidate-co-op", "status": "active"}).status_code == 403


@pytest.mark.parametrize("email, message", [
    ("nobody@example.coop", "There is no user with that email address"),
    ("cora@example.coop", "Cora Cotech already coordinates CoTech"),
    ("not-an-email", "Give a valid email address"),
])
def test_adding_a_coordinator_refused(client, people, networks, email, message):
    login(client, people["site_admin"])
    response = client.post("/networks/cotech/coordinators", data={"email": email})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert coordinator_ids(networks["cotech"]) == {people["coordinator_cotech"].id}
    assert audit_count() == 0


@pytest.mark.parametrize("actor", ["coordinator_cotech", "coordinator_workers", "coop_admin", "anonymous"])
def test_only_site_admins_name_coordinators(client, people, networks, actor):
    if people[actor]:
        login(client, people[actor])
    cora = people["coordinator_cotech"]
    for response in (
        client.post("/networks/cotech/coordinators", data={"email": "cleo@example.coop"}),
        client.post(f"/networks/cotech/coordinators/{cora.id}/remove"),
    ):
        assert response.status_code == (302 if actor == "anonymous" else 403)
    assert coordinator_ids(networks["cotech"]) == {cora.id} and audit_count() == 0


def test_removing_someone_who_is_not_a_coordinator(client, people):
    login(client, people["site_admin"])
    response = client.post(f"/networks/cotech/coordinators/{people['coop_admin'].id}/remove", follow_redirects=True)
    assert "Cleo Coopadmin does not coordinate CoTech." in response.get_data(as_text=True)
    assert client.post("/networks/cotech/coordinators/99999/remove").status_code == 404
