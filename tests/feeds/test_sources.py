"""Feed sources, managed by coordinators and site admins on pages under /feeds/sources."""
import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditEvent
from marketplace.coops.models import CoopMember
from marketplace.extensions import db
from marketplace.feeds.ingest import fetch_source
from marketplace.feeds.models import FeedSource
from marketplace.jobs.models import Job

from ..conftest import login
from ..factories import make_coop, make_user
from .conftest import data_file


@pytest.fixture
def form(network_coop, skills):
    return {
        "name": "CoTech forum jobs", "url": "https://community.coops.tech/c/jobs/9.rss", "kind": "rss",
        "coop": str(network_coop.id), "visibility": "cotech", "job_kind": "lead",
        "skills": [str(skills["python"].id)], "fetch_interval_minutes": "30", "active": "y",
    }


def sources():
    return db.session.scalars(select(FeedSource)).all()


def events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


@pytest.mark.parametrize("method, path", [
    ("get", "/feeds/sources"), ("get", "/feeds/sources/new"), ("post", "/feeds/sources/new"),
    ("get", "/feeds/sources/{id}"), ("get", "/feeds/sources/{id}/edit"), ("post", "/feeds/sources/{id}/pause"),
    ("post", "/feeds/sources/{id}/fetch"),
])
def test_only_coordinators_and_admins_manage_sources(client, networks, make_source, method, path):
    source = make_source("https://example.coop/jobs.rss")
    path = path.format(id=source.id)
    anonymous = getattr(client, method)(path)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    member = make_user(coops=[make_coop("Plain Co-op", {networks["cotech"]: "active"})])
    login(client, member)
    assert getattr(client, method)(path).status_code == 403
    assert db.session.get(FeedSource, source.id).active and db.session.get(FeedSource, source.id).last_fetched_at is None
    login(client, make_user(admin=True))
    assert getattr(client, method)(path).status_code in (200, 302, 422)


def test_coordinator_adds_a_source(client, coordinator, form, skills, network_coop):
    login(client, coordinator)
    page = client.get("/feeds/sources/new").get_data(as_text=True)
    assert "<legend>Who can see the imported jobs</legend>" in page
    response = client.post("/feeds/sources/new", data=form)
    assert response.status_code == 302
    source = sources()[0]
    assert (source.name, source.url, source.kind, source.visibility, source.job_kind) == (
        "CoTech forum jobs", "https://community.coops.tech/c/jobs/9.rss", "rss", "cotech", "lead")
    assert source.coop_id == network_coop.id and source.fetch_interval_minutes == 30 and source.active
    assert [s.slug for s in source.default_skills] == ["python"]
    assert source.created_by_id == coordinator.id
    assert events("feed_source.created")[0].actor_id == coordinator.id
    listing = client.get("/feeds/sources").get_data(as_text=True)
    assert "CoTech forum jobs" in listing and "CoTech Network, CoTech only" in listing and "Never" in listing


@pytest.mark.parametrize("change, field, message", [
    ({"url": "ftp://example.coop/feed.rss"}, "url", "starting with https://"),
    ({"url": "file:///etc/passwd"}, "url", "starting with https://"),
    ({"url": "not a url"}, "url", "starting with https://"),
    ({"name": "   "}, "name", "This field is required."),
    ({"coop": "999999"}, "coop", "Choose a co-op from the list."),
    ({"visibility": "secret"}, "visibility", "Not a valid choice"),
    ({"kind": "csv"}, "kind", "Not a valid choice"),
    ({"fetch_interval_minutes": "1"}, "fetch_interval_minutes", "Between 5 and 10,080 minutes."),
    ({"fetch_interval_minutes": "often"}, "fetch_interval_minutes", "Not a valid integer value."),
])
def test_bad_sources_are_refused_with_nothing_saved(client, coordinator, form, change, field, message):
    login(client, coordinator)
    response = client.post("/feeds/sources/new", data={**form, **change})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and message in html
    assert sources() == [] and events("feed_source.created") == []


def test_the_coop_must_be_able_to_post_to_the_audience(client, coordinator, form, networks):
    workers_coop = make_coop("Workers Only Co-op", {networks["workers-coop"]: "active"})
    db.session.add(CoopMember(coop=workers_coop, user=coordinator, role="member"))
    db.session.commit()
    login(client, coordinator)
    response = client.post("/feeds/sources/new", data={**form, "coop": str(workers_coop.id), "visibility": "cotech"})
    assert response.status_code == 422
    assert "cannot post jobs with this visibility" in response.get_data(as_text=True)
    assert sources() == []


def test_a_coordinator_cannot_import_for_an_audience_they_cannot_see(client, networks, form):
    workers_coordinator = make_user(coordinates=[networks["workers-coop"]])
    login(client, workers_coordinator)
    page = client.get("/feeds/sources/new").get_data(as_text=True)
    assert 'value="cotech"' not in page and 'value="federation"' in page
    response = client.post("/feeds/sources/new", data=form)  # visibility=cotech, not offered
    assert response.status_code == 422 and sources() == []


def test_the_same_feed_cannot_be_added_twice(client, coordinator, form, make_source):
    make_source(form["url"], name="Existing")
    login(client, coordinator)
    response = client.post("/feeds/sources/new", data=form)
    assert response.status_code == 422
    assert "already a source: Existing" in response.get_data(as_text=True)


def test_edit_a_source(client, coordinator, form, make_source):
    source = make_source("https://example.coop/old.rss")
    source.etag, source.body_hash = '"abc"', "f" * 64
    db.session.commit()
    login(client, coordinator)
    assert "https://example.coop/old.rss" in client.get(f"/feeds/sources/{source.id}/edit").get_data(as_text=True)
    response = client.post(f"/feeds/sources/{source.id}/edit", data=form)
    assert response.status_code == 302
    source = db.session.get(FeedSource, source.id)
    assert source.url == form["url"] and source.visibility == "cotech"
    assert source.etag is None and source.body_hash is None  # another address: fetched afresh
    fields = events("feed_source.updated")[0].data["fields"]
    assert set(fields) == {"url", "visibility", "skills", "fetch_interval_minutes"}


def test_pause_and_resume(client, coordinator, make_source):
    source = make_source("https://example.coop/jobs.rss")
    login(client, coordinator)
    client.post(f"/feeds/sources/{source.id}/pause")
    assert not db.session.get(FeedSource, source.id).active
    assert "Paused" in client.get(f"/feeds/sources/{source.id}").get_data(as_text=True)
    client.post(f"/feeds/sources/{source.id}/pause")
    assert "already paused" in client.get(f"/feeds/sources/{source.id}").get_data(as_text=True)
    client.post(f"/feeds/sources/{source.id}/resume")
    assert db.session.get(FeedSource, source.id).active
    assert [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))][-2:] == [
        "feed_source.paused", "feed_source.resumed"]


def test_fetch_now_and_the_source_page(client, runner, coordinator, make_source, feed_server, march_2025, taxonomy):
    source = make_source(feed_server.put("/c/jobs.rss", data_file("discourse-jobs.rss")))
    login(client, coordinator)
    response = client.post(f"/feeds/sources/{source.id}/fetch")
    assert response.status_code == 302
    assert "Fetch requested" in client.get(f"/feeds/sources/{source.id}").get_data(as_text=True)
    assert "CoTech forum jobs: 4 new, 0 updated, 0 unchanged, 1 already closed." in runner.invoke(
        args=["feeds", "fetch"]).output
    page = client.get(f"/feeds/sources/{source.id}").get_data(as_text=True)
    assert "Showing 4 jobs" in page
    assert "Django developer wanted for a housing co-op tenant portal" in page
    assert "Entries seen</dt><dd>4</dd>" in page
    assert len(db.session.scalars(select(Job)).all()) == 4
    fetched = events("feed_source.fetched")[0]
    assert fetched.actor_id is None and fetched.data["created"] == 4  # done by the fetch command …
    assert events("feed_source.fetch_requested")[0].actor_id == coordinator.id  # … asked for by her


def test_a_failing_source_shows_its_error(client, coordinator, make_source, feed_server):
    source = make_source(feed_server.url("/status/503"))
    login(client, coordinator)
    fetch_source(source)
    page = client.get(f"/feeds/sources/{source.id}").get_data(as_text=True)
    assert "The last fetch failed" in page and "HTTP 503" in page
    assert "Failing" in client.get("/feeds/sources").get_data(as_text=True)


def test_source_page_lists_imported_jobs_through_the_visibility_rule(client, networks, make_source, feed_server,
                                                                   march_2025, taxonomy):
    """A coordinator of workers.coop only sees the jobs of a CoTech-only source's as 'hidden'."""
    source = make_source(feed_server.put("/c/jobs.rss", data_file("discourse-jobs.rss")), visibility="cotech")
    fetch_source(source)
    login(client, make_user(coordinates=[networks["workers-coop"]]))
    page = client.get(f"/feeds/sources/{source.id}").get_data(as_text=True)
    assert "Nothing imported yet." in page and "Django developer" not in page


def test_unknown_source_is_404(client, coordinator):
    login(client, coordinator)
    assert client.get("/feeds/sources/12345").status_code == 404
    assert client.post("/feeds/sources/12345/fetch").status_code == 404


def test_account_area_helper_tells_who_manages_sources(app, networks, coordinator):
    from flask import render_template_string

    member = make_user(coops=[make_coop("Plain Co-op", {networks["cotech"]: "active"})])
    template = "{{ can_manage_feed_sources(user) }}"
    with app.test_request_context("/"):
        assert render_template_string(template, user=coordinator) == "True"
        assert render_template_string(template, user=make_user(admin=True)) == "True"
        assert render_template_string(template, user=member) == "False"
