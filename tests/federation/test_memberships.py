"""Managing co-ops' network memberships: who may, what is recorded, what is refused."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from marketplace.coops.models import CoopMember
from marketplace.extensions import db
from marketplace.federation.models import NetworkMembership

from ..conftest import login
from ..factories import make_coop
from .conftest import audit_count, last_event, memberships

MANAGERS = {"coordinator_cotech", "site_admin"}
ACTORS = ["coordinator_cotech", "coordinator_workers", "site_admin", "coop_admin", "coop_member", "anonymous"]


def sign_in(client, people, actor):
    if people[actor] is not None:
        login(client, people[actor])
    return client


def expect_refused(response, actor):
    if actor == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert response.status_code == 403


def cotech_membership(coop):
    return db.session.scalar(select(NetworkMembership).where(
        NetworkMembership.coop_id == coop.id, NetworkMembership.network.has(slug="cotech")))


@pytest.mark.parametrize("actor", ACTORS)
def test_add_a_membership(client, people, actor):
    sign_in(client, people, actor)
    response = client.post("/networks/cotech/memberships", data={
        "coop": "candidate-co-op", "status": "guest", "since": "2024-02-01", "until": "",
    })
    if actor in MANAGERS:
        assert response.status_code == 302 and response.headers["Location"].endswith("/networks/cotech")
        assert memberships(people["candidate"]) == {("cotech", "guest", date(2024, 2, 1), None)}
        event = last_event()
        assert (event.action, event.target_type) == ("network_membership.added", "network_membership")
        assert event.coop_id == people["candidate"].id and event.actor_id == people[actor].id
        assert event.data["network"] == "cotech" and event.data["status"] == "guest"
        assert event.data["since"] == "2024-02-01"
    else:
        expect_refused(response, actor)
        assert memberships(people["candidate"]) == set() and audit_count() == 0


@pytest.mark.parametrize("actor", ACTORS)
def test_change_a_membership(client, people, actor):
    membership = cotech_membership(people["member_coop"])
    sign_in(client, people, actor)
    url = f"/networks/cotech/memberships/{membership.id}/edit"
    data = {"status": "pending", "since": "2020-01-01", "until": "2030-12-31"}
    if actor in MANAGERS:
        page = client.get(url)
        assert page.status_code == 200 and 'value="2020-01-01"' in page.get_data(as_text=True)
        assert client.post(url, data=data).status_code == 302
        assert memberships(people["member_coop"]) == {("cotech", "pending", date(2020, 1, 1), date(2030, 12, 31))}
        event = last_event()
        assert event.action == "network_membership.updated"
        assert event.data["fields"] == ["status", "until"] and event.data["status_from"] == "active"
        assert event.data["coop_slug"] == "member-co-op"
    else:
        expect_refused(client.get(url), actor)
        expect_refused(client.post(url, data=data), actor)
        assert memberships(people["member_coop"]) == {("cotech", "active", date(2020, 1, 1), None)}
        assert audit_count() == 0


@pytest.mark.parametrize("actor", ACTORS)
def test_remove_a_membership(client, people, actor):
    membership_id = cotech_membership(people["member_coop"]).id
    sign_in(client, people, actor)
    response = client.post(f"/networks/cotech/memberships/{membership_id}/remove")
    if actor in MANAGERS:
        assert response.status_code == 302
        assert memberships(people["member_coop"]) == set()
        event = last_event()
        assert (event.action, event.target_id, event.data["network"]) == (
            "network_membership.removed", membership_id, "cotech")
    else:
        expect_refused(response, actor)
        assert len(memberships(people["member_coop"])) == 1 and audit_count() == 0


def test_a_coordinator_of_workers_coop_manages_its_own_memberships(client, people):
    login(client, people["coordinator_workers"])
    # The co-op may be given by its name as well as by its short name.
    response = client.post("/networks/workers-coop/memberships", data={"coop": "MEMBER co-op", "status": "active"})
    assert response.status_code == 302
    assert ("workers-coop", "active", None, None) in memberships(people["member_coop"])
    # …but a membership of another network cannot be reached through its own network's address.
    membership = cotech_membership(people["member_coop"])
    assert client.post(f"/networks/workers-coop/memberships/{membership.id}/remove").status_code == 404
    assert client.post(f"/networks/cotech/memberships/{membership.id}/remove").status_code == 403
    assert cotech_membership(people["member_coop"]) is not None


@pytest.mark.parametrize("data, message", [
    ({"coop": "no-such-coop", "status": "active"}, "There is no co-op with that short name or name"),
    ({"coop": "", "status": "active"}, "This field is required"),
    ({"coop": "member-co-op", "status": "active"}, "Member Co-op already has a membership of CoTech"),
    ({"coop": "candidate-co-op", "status": "superstar"}, "Not a valid choice"),
    ({"coop": "candidate-co-op", "status": "active", "since": "2024-05-01", "until": "2024-04-01"},
     "The end date must not be before the start date"),
    ({"coop": "candidate-co-op", "status": "active", "since": "yesterday"}, "Not a valid date value"),
])
def test_bad_membership_input_rerenders_and_saves_nothing(client, people, data, message):
    login(client, people["coordinator_cotech"])
    response = client.post("/networks/cotech/memberships", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and message in html
    assert memberships(people["candidate"]) == set() and audit_count() == 0


def test_bad_change_rerenders_and_saves_nothing(client, people):
    membership = cotech_membership(people["member_coop"])
    login(client, people["site_admin"])
    response = client.post(f"/networks/cotech/memberships/{membership.id}/edit",
                           data={"status": "active", "since": "2024-05-01", "until": "2020-01-01"})
    assert response.status_code == 422 and "must not be before" in response.get_data(as_text=True)
    assert memberships(people["member_coop"]) == {("cotech", "active", date(2020, 1, 1), None)}


def test_unknown_network_or_membership_is_404(client, people):
    login(client, people["site_admin"])
    assert client.get("/networks/nowhere").status_code == 404
    assert client.post("/networks/nowhere/memberships", data={"coop": "candidate-co-op"}).status_code == 404
    assert client.get("/networks/cotech/memberships/99999/edit").status_code == 404


# --- applying ------------------------------------------------------------------------------

def test_a_coop_admin_applies_from_the_network_page(client, people, networks):
    login(client, people["coop_admin"])
    page = client.get("/networks/workers-coop").get_data(as_text=True)
    assert "Apply to join workers.coop" in page and "Candidate Co-op" in page
    response = client.post("/networks/workers-coop/apply", data={"coop": str(people["candidate"].id)})
    assert response.status_code == 302
    assert memberships(people["candidate"]) == {("workers-coop", "pending", None, None)}
    event = last_event()
    assert event.action == "network_membership.applied" and event.actor_id == people["coop_admin"].id
    # Applying twice is refused; the co-op no longer appears in the form.
    page = client.get("/networks/workers-coop").get_data(as_text=True)
    assert "Apply to join workers.coop" not in page
    response = client.post("/networks/workers-coop/apply", data={"coop": str(people["candidate"].id)},
                           follow_redirects=True)
    assert "None of the co-ops you administer can apply" in response.get_data(as_text=True)


def test_a_coop_admin_applies_from_the_coop_page(client, people, networks):
    cotech = {"network": str(networks["cotech"].id)}
    login(client, people["coop_admin"])
    page = client.get("/coops/candidate-co-op").get_data(as_text=True)
    assert "Apply to join a network" in page
    response = client.post("/coops/candidate-co-op/networks", data=cotech, follow_redirects=True)
    assert "Candidate Co-op applied to join CoTech" in response.get_data(as_text=True)
    assert memberships(people["candidate"]) == {("cotech", "pending", None, None)}
    # A network it already belongs to is not offered, and is refused if sent.
    response = client.post("/coops/candidate-co-op/networks", data=cotech, follow_redirects=True)
    assert "Choose a network that your co-op does not belong to yet" in response.get_data(as_text=True)
    assert len(memberships(people["candidate"])) == 1


def test_only_coop_admins_apply(client, people, networks):
    cotech_id = str(networks["cotech"].id)
    for actor in ("coop_member", "coordinator_cotech"):
        login(client, people[actor])
        assert client.post("/coops/candidate-co-op/networks", data={"network": cotech_id}).status_code == 403
        client.post("/networks/cotech/apply", data={"coop": str(people["candidate"].id)})
    assert memberships(people["candidate"]) == set() and audit_count() == 0


def test_an_ended_membership_can_be_applied_for_again(client, people, networks):
    membership = cotech_membership(people["member_coop"])
    membership.until = date(2021, 1, 1)
    admin = people["coop_admin"]
    db.session.add(CoopMember(coop=people["member_coop"], user=admin, role="admin"))
    db.session.commit()
    login(client, admin)
    client.post("/networks/cotech/apply", data={"coop": str(people["member_coop"].id)})
    assert memberships(people["member_coop"]) == {("cotech", "pending", None, None)}


# --- what the pages show -------------------------------------------------------------------

def test_network_page_lists_members_with_status_and_dates(client, people, networks):
    cotech = networks["cotech"]
    db.session.add(NetworkMembership(coop=people["candidate"], network=cotech, status="pending"))
    make_coop("Guest Co-op", {cotech: "guest"})
    ended = make_coop("Gone Co-op")
    db.session.add(NetworkMembership(coop=ended, network=cotech, status="active",
                                     since=date(2015, 1, 1), until=date(2019, 12, 31)))
    db.session.commit()
    html = client.get("/networks/cotech").get_data(as_text=True)
    rows = {row.split("</a>")[0].rsplit(">", 1)[-1]: row for row in html.split('<th scope="row">')[1:]}
    assert "Active" in rows["Member Co-op"] and "1 Jan 2020" in rows["Member Co-op"]
    assert "Guest" in rows["Guest Co-op"]
    assert "Pending" in rows["Candidate Co-op"]
    assert "Ended" in rows["Gone Co-op"] and "31 Dec 2019" in rows["Gone Co-op"]
    assert list(rows) == ["Member Co-op", "Guest Co-op", "Candidate Co-op", "Gone Co-op"]
    assert "Manage" not in html and "Add a co-op" not in html  # public, read only
    index = client.get("/networks/").get_data(as_text=True)
    cotech_row = index[index.index('href="/networks/cotech"'):].split("</tr>")[0]
    counts = re.findall(r'<td data-label="(?:Active|Guest|Pending|Ended)">([^<]*)</td>', cotech_row)
    assert counts == ["1", "1", "1", "1"]  # active, guest, pending, ended


def test_managers_see_the_management_forms(client, people):
    login(client, people["coordinator_cotech"])
    html = client.get("/networks/cotech").get_data(as_text=True)
    assert "Add a co-op" in html and "/memberships/" in html and "Add coordinator" not in html
    html = client.get("/networks/workers-coop").get_data(as_text=True)
    assert "Add a co-op" not in html
