"""A membership change changes at once what the co-op's users see on /jobs."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.federation.models import NetworkMembership

from ..conftest import login
from ..factories import make_coop, make_job, make_user


def titles(client, path="/jobs"):
    return set(re.findall(r'<h3><a href="/jobs/\d+">([^<]+)</a></h3>', client.get(path).get_data(as_text=True)))


@pytest.fixture
def scene(people):
    job = make_job(people["member_coop"], "cotech", title="CoTech only tender")
    make_job(people["member_coop"], "public", title="Public tender")
    return {"job": job, "reader": people["coop_member"], "coordinator": people["coordinator_cotech"]}


def as_user(app, user):
    client = app.test_client()
    return login(client, user)


def test_cotech_job_follows_the_membership(app, scene):
    reader = as_user(app, scene["reader"])
    coordinator = as_user(app, scene["coordinator"])
    job_url = f"/jobs/{scene['job'].id}"
    assert titles(reader) == {"Public tender"}

    # Applied: pending opens nothing.
    coordinator.post("/networks/cotech/memberships", data={"coop": "candidate-co-op", "status": "pending"})
    assert titles(reader) == {"Public tender"} and reader.get(job_url).status_code == 404
    membership_id = db.session.scalar(select(NetworkMembership.id).where(
        NetworkMembership.coop_id == scene["reader"].coop_links[0].coop_id))
    edit = f"/networks/cotech/memberships/{membership_id}/edit"

    # Active: the CoTech-only job appears on the list, its count and its page.
    coordinator.post(edit, data={"status": "active"})
    assert titles(reader) == {"Public tender", "CoTech only tender"}
    assert "Showing 2 jobs" in reader.get("/jobs").get_data(as_text=True)
    assert reader.get(job_url).status_code == 200

    # Back to pending: gone again.
    coordinator.post(edit, data={"status": "pending"})
    assert titles(reader) == {"Public tender"} and reader.get(job_url).status_code == 404

    # Guest: CoTech-only posts are open to guests.
    coordinator.post(edit, data={"status": "guest"})
    assert "CoTech only tender" in titles(reader)

    # An end date in the past: the membership no longer counts, and is shown as ended.
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    coordinator.post(edit, data={"status": "guest", "since": "2020-01-01", "until": yesterday})
    assert titles(reader) == {"Public tender"}
    assert "Ended" in reader.get("/coops/candidate-co-op").get_data(as_text=True)

    # Active again, then removed.
    coordinator.post(edit, data={"status": "active"})
    assert "CoTech only tender" in titles(reader)
    coordinator.post(f"/networks/cotech/memberships/{membership_id}/remove")
    assert titles(reader) == {"Public tender"} and reader.get(job_url).status_code == 404


def test_a_start_date_in_the_future_opens_nothing_yet(app, scene):
    reader = as_user(app, scene["reader"])
    coordinator = as_user(app, scene["coordinator"])
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    coordinator.post("/networks/cotech/memberships",
                     data={"coop": "candidate-co-op", "status": "active", "since": tomorrow})
    assert titles(reader) == {"Public tender"}
    assert "Not started" in coordinator.get("/networks/cotech").get_data(as_text=True)


def test_the_coops_own_page_follows_too(app, scene, people):
    """The poster's profile lists the CoTech-only job only while the reader's co-op counts."""
    reader = as_user(app, scene["reader"])
    coordinator = as_user(app, scene["coordinator"])
    assert titles(reader, "/coops/member-co-op") == {"Public tender"}
    coordinator.post("/networks/cotech/memberships", data={"coop": "candidate-co-op", "status": "active"})
    assert titles(reader, "/coops/member-co-op") == {"Public tender", "CoTech only tender"}


def test_workers_coop_membership_never_opens_cotech_posts(app, scene, people):
    reader = as_user(app, scene["reader"])
    workers = as_user(app, people["coordinator_workers"])
    workers.post("/networks/workers-coop/memberships", data={"coop": "candidate-co-op", "status": "active"})
    assert titles(reader) == {"Public tender"}
    federation_job = make_job(make_coop("Fed Poster", {"workers-coop": "active"}), "federation", title="Fed job")
    assert reader.get(f"/jobs/{federation_job.id}").status_code == 200


def test_a_new_member_of_an_active_coop_sees_at_once(app, scene, people):
    newcomer = make_user("New Person", email="new@example.coop")
    reader = as_user(app, newcomer)
    assert titles(reader) == {"Public tender"}
    admin = as_user(app, make_user(coops={people["member_coop"]: "admin"}))
    admin.post("/coops/member-co-op/members", data={"email": "new@example.coop", "role": "member"})
    assert "CoTech only tender" in titles(reader)
