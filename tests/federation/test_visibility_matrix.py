"""The visibility matrix: every kind of viewer × every visibility × every state, on every
read path that shows jobs (job page, job list and its count, home, skill pages and their
counts, co-op pages). A cell that leaks is the worst bug this product can have.
"""
import re

import pytest

from marketplace.federation import can_view_job, viewer_for, visible_jobs
from marketplace.jobs.models import Job
from marketplace.extensions import db
from sqlalchemy import select

from ..conftest import login
from ..factories import make_coop, make_job, make_user

VISIBILITIES = ("cotech", "federation", "public")
STATES = ("draft", "open", "closed", "withdrawn")
ALL = set(VISIBILITIES)

# Which visibilities each kind of viewer sees on jobs posted by another co-op (DESIGN.md).
SEES = {
    "anonymous": {"public"},
    "no_coop": {"public"},
    "cotech_only": ALL,
    "workers_only": {"federation", "public"},
    "both": ALL,
    "guest": {"cotech", "public"},
    "pending": {"public"},
    "ended": {"public"},
    "poster": ALL,
    "coordinator_cotech": ALL,
    "coordinator_workers": {"federation", "public"},
    "site_admin": ALL,
}


def expected(kind, visibility, state):
    if state == "draft":
        return kind == "poster"  # a draft is seen by its own co-op alone
    return visibility in SEES[kind]


@pytest.fixture
def world(networks, skills):
    """One poster co-op with a job in every visibility and state, and a user of each kind."""
    from datetime import date

    from marketplace.federation.models import NetworkMembership

    cotech, workers = networks["cotech"], networks["workers-coop"]
    skill = skills["python"]
    poster_coop = make_coop("Poster Co-op", {cotech: "active", workers: "active"})
    jobs = {
        (v, s): make_job(poster_coop, v, s, skills=[skill], title=f"MATRIX {v} {s}")
        for v in VISIBILITIES for s in STATES
    }
    ended_coop = make_coop("Ended Co-op")
    db.session.add(NetworkMembership(coop=ended_coop, network=cotech, status="active",
                                     since=date(2019, 1, 1), until=date(2020, 1, 1)))
    db.session.commit()
    users = {
        "anonymous": None,
        "no_coop": make_user("No Co-op"),
        "cotech_only": make_user(coops=[make_coop("CoTech Only", {cotech: "active"})]),
        "workers_only": make_user(coops=[make_coop("Workers Only", {workers: "active"})]),
        "both": make_user(coops=[make_coop("Both Networks", {cotech: "active", workers: "active"})]),
        "guest": make_user(coops=[make_coop("Sister Guest", {cotech: "guest"})]),
        "pending": make_user(coops=[make_coop("Pending Co-op", {cotech: "pending"})]),
        "ended": make_user(coops=[ended_coop]),
        "poster": make_user(coops=[poster_coop]),
        "coordinator_cotech": make_user(coordinates=[cotech]),
        "coordinator_workers": make_user(coordinates=[workers]),
        "site_admin": make_user(admin=True),
    }
    return {"jobs": jobs, "users": users, "skill": skill, "poster_coop": poster_coop}


def _client_for(client, world, kind):
    user = world["users"][kind]
    if user is not None:
        login(client, user)
    return client


def _titles(html):
    return set(re.findall(r"MATRIX (\w+) (\w+)", html))


def _shown_count(html):
    match = re.search(r"of ([\d,]+) jobs", html)
    return int(match.group(1).replace(",", "")) if match else 0


@pytest.mark.parametrize("kind", SEES)
def test_job_page(client, world, kind):
    _client_for(client, world, kind)
    for (visibility, state), job in world["jobs"].items():
        status = client.get(f"/jobs/{job.id}").status_code
        assert status == (200 if expected(kind, visibility, state) else 404), (kind, visibility, state)


@pytest.mark.parametrize("kind", SEES)
def test_job_list_and_counts(client, world, kind):
    _client_for(client, world, kind)
    for state in STATES + ("any",):
        html = client.get(f"/jobs?state={state}").get_data(as_text=True)
        want = {
            (v, s) for (v, s) in world["jobs"]
            if expected(kind, v, s) and (state == "any" or s == state)
        }
        assert _titles(html) == want, (kind, state)
        assert _shown_count(html) == len(want), (kind, state)
    for visibility in VISIBILITIES:
        html = client.get(f"/jobs?state=any&visibility={visibility}").get_data(as_text=True)
        want = {(v, s) for (v, s) in world["jobs"] if v == visibility and expected(kind, v, s)}
        assert _titles(html) == want


@pytest.mark.parametrize("kind", SEES)
def test_home_and_skill_pages(client, world, kind):
    _client_for(client, world, kind)
    open_seen = {(v, "open") for v in VISIBILITIES if expected(kind, v, "open")}
    assert _titles(client.get("/").get_data(as_text=True)) == open_seen
    html = client.get(f"/skills/{world['skill'].slug}").get_data(as_text=True)
    assert _titles(html) == open_seen
    assert _shown_count(html) == len(open_seen)
    index = client.get("/skills/").get_data(as_text=True)
    row = re.search(rf'{world["skill"].name}</a>.*?<td>(\d+)</td><td>(\d+)</td>', index, re.S)
    assert int(row.group(2)) == len(open_seen), kind


@pytest.mark.parametrize("kind", SEES)
def test_coop_page(client, world, kind):
    _client_for(client, world, kind)
    html = client.get(f"/coops/{world['poster_coop'].slug}").get_data(as_text=True)
    want = {(v, s) for (v, s) in world["jobs"] if expected(kind, v, s)}
    assert _titles(html) == want
    assert _shown_count(html) == len(want)


@pytest.mark.parametrize("kind", SEES)
def test_python_check_and_sql_filter_agree(world, kind):
    user = world["users"][kind]
    viewer = viewer_for(user)
    in_sql = set(db.session.scalars(visible_jobs(select(Job.id), viewer)))
    for (visibility, state), job in world["jobs"].items():
        assert can_view_job(viewer, job) == expected(kind, visibility, state), (kind, visibility, state)
        assert (job.id in in_sql) == expected(kind, visibility, state), (kind, visibility, state)


def test_visibility_change_takes_effect_at_once(client, world):
    """A federation job narrowed to CoTech-only vanishes for workers.coop-only members."""
    job = world["jobs"][("federation", "open")]
    workers_client = _client_for(client, world, "workers_only")
    assert client.get(f"/jobs/{job.id}").status_code == 200
    poster = world["users"]["poster"]
    from marketplace.jobs import services

    services.update_job(job, poster, {"visibility": "cotech"}, None)
    db.session.commit()
    assert workers_client.get(f"/jobs/{job.id}").status_code == 404
    assert ("federation", "open") not in _titles(workers_client.get("/jobs").get_data(as_text=True))
    assert ("federation", "open") not in _titles(workers_client.get("/").get_data(as_text=True))
