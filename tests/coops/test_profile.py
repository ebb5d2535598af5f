"""A co-op's profile page: its facts, networks, members, and the jobs the viewer may see."""
import re
from datetime import date

import pytest

from marketplace.extensions import db
from marketplace.federation.models import NetworkMembership

from ..conftest import login
from ..factories import make_coop, make_job, make_user
from .conftest import text


def job_titles(html):
    return re.findall(r'<h3><a href="/jobs/\d+">([^<]+)</a></h3>', html)


def shown_count(html):
    match = re.search(r"Showing (?:[\d,]+–[\d,]+ of )?([\d,]+) jobs?\b", html)
    return int(match.group(1)) if match else 0


def test_profile_shows_the_coops_facts(client, coop, networks):
    coop.website = "https://outlandish.example"
    coop.email = "hello@outlandish.example"
    coop.description_html = "<p>We build <strong>things</strong>.</p>"
    db.session.add(NetworkMembership(coop=coop, network=networks["workers-coop"], status="active",
                                     since=date(2017, 3, 1), until=date(2021, 6, 30)))
    db.session.commit()
    response = client.get(f"/coops/{coop.slug}")
    assert response.status_code == 200
    html = text(response)
    assert "<h1>Outlandish Bytes</h1>" in html
    assert '<a href="https://outlandish.example" rel="nofollow noopener">' in html
    assert "mailto:hello@outlandish.example" in html
    assert "We build <strong>things</strong>." in html
    assert "12 workers" in html and "Leeds" in html
    assert 'href="/skills/python"' in html
    cotech_row = html[html.index('href="/networks/cotech"'):].split("</tr>")[0]
    assert "Active" in cotech_row and "1 Jan 2020" in cotech_row
    workers_row = html[html.index('href="/networks/workers-coop"'):].split("</tr>")[0]
    assert "Ended" in workers_row and "1 Mar 2017" in workers_row and "30 Jun 2021" in workers_row


def test_unknown_coop_is_404(client):
    assert client.get("/coops/no-such-coop").status_code == 404


def test_members_are_shown_to_signed_in_users_only(client, coop, admin, member, stranger):
    html = text(client.get(f"/coops/{coop.slug}"))
    assert "Ada Admin" not in html and "Mo Member" not in html
    login(client, stranger)
    html = text(client.get(f"/coops/{coop.slug}"))
    assert "Ada Admin (admin)" in html and "Mo Member" in html and "Mo Member (admin)" not in html


def test_buttons_depend_on_the_viewer(client, coop, admin, member, stranger):
    def buttons(user):
        if user:
            login(client, user)
        html = text(client.get(f"/coops/{coop.slug}"))
        return {label for label in ("Ask to join", "Edit profile", "Members</a>", "Join requests", "Leave this co-op")
                if label in html}

    assert buttons(None) == set()
    assert buttons(stranger) == {"Ask to join"}
    assert buttons(member) == {"Leave this co-op"}
    assert buttons(admin) == {"Edit profile", "Members</a>", "Join requests", "Leave this co-op"}


@pytest.fixture
def posted(networks):
    """A co-op in both networks with a job of each visibility, and a draft."""
    poster = make_coop("Poster Co-op", {networks["cotech"]: "active", networks["workers-coop"]: "active"})
    make_job(poster, "cotech", title="Only for CoTech")
    make_job(poster, "federation", title="For the federation")
    make_job(poster, "public", "closed", title="Public and closed")
    make_job(poster, "public", "draft", title="Our draft")
    return poster


@pytest.mark.parametrize("viewer, expected", [
    ("anonymous", {"Public and closed"}),
    ("workers_only", {"For the federation", "Public and closed"}),
    ("cotech_member", {"Only for CoTech", "For the federation", "Public and closed"}),
    ("poster_member", {"Only for CoTech", "For the federation", "Public and closed", "Our draft"}),
])
def test_profile_lists_only_the_jobs_the_viewer_may_see(client, networks, posted, viewer, expected):
    users = {
        "anonymous": None,
        "workers_only": make_user(coops=[make_coop("Workers Only", {networks["workers-coop"]: "active"})]),
        "cotech_member": make_user(coops=[make_coop("CoTech Member", {networks["cotech"]: "active"})]),
        "poster_member": make_user(coops=[posted]),
    }
    if users[viewer]:
        login(client, users[viewer])
    html = text(client.get(f"/coops/{posted.slug}"))
    assert set(job_titles(html)) == expected
    assert shown_count(html) == len(expected)


def test_profile_jobs_are_paginated(client, app, coop):
    for n in range(23):
        make_job(coop, "public", title=f"Public {n:02d}")
    first = job_titles(text(client.get(f"/coops/{coop.slug}")))
    second = job_titles(text(client.get(f"/coops/{coop.slug}?page=2")))
    assert len(first) == 20 and len(second) == 3 and not set(first) & set(second)
    assert client.get(f"/coops/{coop.slug}?page=-1").status_code == 200
    assert client.get(f"/coops/{coop.slug}?page=999999999999999999999").status_code == 200
