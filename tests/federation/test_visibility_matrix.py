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

from ..matrix import SEES, STATES, VISIBILITIES, as_viewer, expected, world  # noqa: F401

def _titles(html):
    return set(re.findall(r"MATRIX (\w+) (\w+)", html))


def _shown_count(html):
    match = re.search(r"of ([\d,]+) jobs", html)
    return int(match.group(1).replace(",", "")) if match else 0


@pytest.mark.parametrize("kind", SEES)
def test_job_page(client, world, kind):
    as_viewer(client, world, kind)
    for (visibility, state), job in world["jobs"].items():
        status = client.get(f"/jobs/{job.id}").status_code
        assert status == (200 if expected(kind, visibility, state) else 404), (kind, visibility, state)


@pytest.mark.parametrize("kind", SEES)
def test_job_list_and_counts(client, world, kind):
    as_viewer(client, world, kind)
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
    as_viewer(client, world, kind)
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
    as_viewer(client, world, kind)
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
    workers_client = as_viewer(client, world, "workers_only")
    assert client.get(f"/jobs/{job.id}").status_code == 200
    poster = world["users"]["poster"]
    from marketplace.jobs import services

    services.update_job(job, poster, {"visibility": "cotech"}, None)
    db.session.commit()
    assert workers_client.get(f"/jobs/{job.id}").status_code == 404
    assert ("federation", "open") not in _titles(workers_client.get("/jobs").get_data(as_text=True))
    assert ("federation", "open") not in _titles(workers_client.get("/").get_data(as_text=True))
