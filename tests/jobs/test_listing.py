"""The job list: filters, pagination, the derived open/closed state, and statement counts."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.core.time import frozen_now, utcnow
from marketplace.extensions import db
from marketplace.jobs.models import Job, JobState

from ..conftest import login
from ..factories import counted_statements, make_coop, make_job, make_user


def titles(response):
    return re.findall(r'<h3><a href="/jobs/\d+">([^<]+)</a></h3>', response.get_data(as_text=True))


@pytest.fixture
def coop(networks):
    return make_coop("Poster", {networks["cotech"]: "active"})


def test_filters(client, coop, networks, skills):
    other = make_coop("Other Co-op", {networks["cotech"]: "active"})
    make_job(coop, "public", skills=[skills["python"]], title="Python tender")
    make_job(coop, "public", skills=[skills["devops"]], kind="lead", title="DevOps lead")
    make_job(coop, "public", "closed", skills=[skills["python"]], title="Closed Python")
    make_job(other, "public", looking_for_partners=True, title="Partners wanted")
    assert set(titles(client.get("/jobs"))) == {"Python tender", "DevOps lead", "Partners wanted"}
    assert titles(client.get("/jobs?skill=python")) == ["Python tender"]
    assert titles(client.get("/jobs?skill=python&state=closed")) == ["Closed Python"]
    assert set(titles(client.get("/jobs?skill=python&state=any"))) == {"Python tender", "Closed Python"}
    assert titles(client.get("/jobs?kind=lead")) == ["DevOps lead"]
    assert titles(client.get("/jobs?coop=other-co-op")) == ["Partners wanted"]
    assert titles(client.get("/jobs?partners=y")) == ["Partners wanted"]


def test_sorting_and_the_location_and_budget_filters(client, coop):
    now = utcnow()
    make_job(coop, "public", title="Small Leeds job", location="Leeds", work_mode="on_site",
             budget_min=500, budget_max=None, bids_deadline=now + timedelta(days=20))
    make_job(coop, "public", title="Big remote job", budget_min=1000, budget_max=90000,
             bids_deadline=now + timedelta(days=30))
    make_job(coop, "public", title="Middle Leeds job", location="North Leeds", work_mode="hybrid",
             budget_min=8000, budget_max=None, bids_deadline=now + timedelta(days=10))
    make_job(coop, "cotech", title="Hidden Leeds job", location="Leeds", budget_min=99000,
             budget_max=None)
    assert titles(client.get("/jobs")) == ["Middle Leeds job", "Big remote job", "Small Leeds job"]
    assert titles(client.get("/jobs?sort=closing")) == ["Middle Leeds job", "Small Leeds job", "Big remote job"]
    assert titles(client.get("/jobs?sort=budget")) == ["Big remote job", "Middle Leeds job", "Small Leeds job"]
    # the visibility rule still applies: the CoTech-only job stays out of an anonymous list
    assert titles(client.get("/jobs?location=leeds&sort=budget")) == ["Middle Leeds job", "Small Leeds job"]
    assert titles(client.get("/jobs?budget_from=5000")) == ["Middle Leeds job", "Big remote job"]
    assert titles(client.get("/jobs?location=LEEDS&budget_from=5000")) == ["Middle Leeds job"]
    assert titles(client.get("/jobs?location=%25")) == []  # a wildcard is taken literally
    html = client.get("/jobs?sort=closing&location=Leeds").get_data(as_text=True)
    # the choices stay in the address (feeds and pages) and in the form
    assert '<option selected value="closing">' in html and 'value="Leeds"' in html


@pytest.mark.parametrize("query", [
    "sort=oldest", "budget_from=-5", "budget_from=lots", "location=" + "x" * 500,
    "skill=no-such-skill", "state=bogus", "kind=<script>", "page=-4", "page=abc",
    "page=99999999999999", "visibility=secret", "coop=" + "x" * 500, "skill=%00",
])
def test_bad_filter_values_never_fail(client, coop, query):
    make_job(coop, "public", title="Visible")
    response = client.get("/jobs?" + query)
    assert response.status_code == 200
    assert "<script>" not in response.get_data(as_text=True)


def test_unknown_coop_is_reported(client, coop):
    response = client.get("/jobs?coop=nobody")
    assert response.status_code == 200
    assert "There is no co-op with that name" in response.get_data(as_text=True)


def test_pagination(client, app, coop):
    for n in range(25):
        make_job(coop, "public", title=f"Numbered {n:02d}")
    first = titles(client.get("/jobs"))
    second = titles(client.get("/jobs?page=2"))
    assert len(first) == 20 and len(second) == 5
    assert first[0] == "Numbered 24" and second[-1] == "Numbered 00"  # newest first
    assert not set(first) & set(second)
    assert titles(client.get("/jobs?page=9")) == second  # past the end: the last page
    html = client.get("/jobs").get_data(as_text=True)
    assert "Showing 1–20 of 25 jobs" in html and 'rel="next"' in html


def test_state_is_derived_from_the_deadline_in_python_and_sql(coop):
    job = make_job(coop, "public", "open")
    deadline = job.bids_deadline

    def sql_state():
        return db.session.scalar(select(Job.state).where(Job.id == job.id))

    with frozen_now(deadline - timedelta(seconds=1)):
        assert job.state == JobState.OPEN == sql_state()
        assert db.session.scalar(select(Job.id).where(Job.state == "open")) == job.id
    with frozen_now(deadline):
        assert job.state == JobState.CLOSED == sql_state()
        assert db.session.scalar(select(Job.id).where(Job.state == "open")) is None
    with frozen_now(job.questions_deadline + timedelta(seconds=1)):
        assert job.questions_open is False
        assert db.session.scalar(select(Job.questions_open).where(Job.id == job.id)) in (False, 0)


def test_job_closes_without_any_job_running(client, coop):
    job = make_job(coop, "public", "open", title="Closing soon")
    assert "Closing soon" in titles(client.get("/jobs"))
    with frozen_now(job.bids_deadline + timedelta(minutes=1)):
        assert titles(client.get("/jobs")) == []
        assert "Closing soon" in titles(client.get("/jobs?state=closed"))
        assert "Closed" in client.get(f"/jobs/{job.id}").get_data(as_text=True)


@pytest.mark.parametrize("url", ["/jobs", "/jobs?skill=python", "/jobs?sort=budget&location=a&budget_from=1", "/", "/skills/python", "/skills/"])
def test_statement_count_does_not_grow_with_data_or_page_size(client, app, networks, coop, skills, url,
                                                             monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_CACHE_SECONDS", 0)  # what rendering the page costs
    member = make_user(coops=[coop])
    login(client, member)
    counts = []
    for jobs, per_page in ((3, 10), (30, 10), (30, 25)):
        while db.session.scalar(select(db.func.count()).select_from(Job)) < jobs:
            other = make_coop(memberships={networks["cotech"]: "active"}, skills=[skills["python"]])
            make_job(other, "cotech", skills=[skills["python"], skills["devops"]])
        monkeypatch.setitem(app.config, "JOBS_PER_PAGE", per_page)
        with counted_statements() as statements:
            assert client.get(url).status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1] == counts[2], counts


def test_job_page_statements(client, coop, skills):
    job = make_job(coop, "public", skills=list(skills.values()))
    url, counts = f"/jobs/{job.id}", []
    for _ in range(2):
        with counted_statements() as statements:
            assert client.get(url).status_code == 200
        counts.append(len(statements))
    # Rendered: the job (may the viewer see it?), the site revision, the job with its co-op,
    # requirements and counts, its skills, its specification files, whether it was imported from
    # a feed, its history, and when the page next changes by the clock (an interest lapsing).
    # Then shared: the revision alone (whether the viewer may see the job, and its title, are
    # kept with the part).
    assert counts == [8, 1], counts
