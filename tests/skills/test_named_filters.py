"""A skill filter may name its skill as search does: by slug, name or synonym, in any case.
``/jobs?skill=a11y`` lists the accessibility jobs (it used to ignore the filter silently and
list every job), and so do the directory, the API, the search page and the feeds."""
import re

import pytest

from marketplace.extensions import db
from marketplace.skills.services import find_skill

from ..factories import bearer, make_coop, make_job, make_user


@pytest.fixture
def world(networks, skills):
    skills["accessibility"].synonyms = "a11y;WCAG;inclusive design"
    db.session.commit()
    cotech = networks["cotech"]
    poster = make_coop("Poster", {cotech: "active"}, skills=[skills["accessibility"]])
    make_coop("Snake Co-op", {cotech: "active"}, skills=[skills["python"]])
    audit = make_job(poster, "public", skills=[skills["accessibility"]], title="Accessibility audit")
    make_job(poster, "public", skills=[skills["python"]], title="Python API")
    return {"skills": skills, "audit": audit, "user": make_user(coops=[poster])}


def _job_titles(response):
    assert response.status_code == 200
    return re.findall(r'<h3><a href="/jobs/\d+">([^<]+)</a></h3>', response.get_data(as_text=True))


@pytest.mark.parametrize("value", ["accessibility", "a11y", "A11Y", "wcag", "Accessibility", "inclusive  design"])
def test_the_job_list_and_its_feed_understand_names_and_synonyms(client, world, value):
    assert _job_titles(client.get("/jobs", query_string={"skill": value})) == ["Accessibility audit"]
    html = client.get("/jobs", query_string={"skill": value}).get_data(as_text=True)
    assert '<option selected value="accessibility">' in html  # the filter shows what it understood
    import feedparser

    feed = feedparser.parse(client.get("/feeds/jobs.atom", query_string={"skill": value}).data)
    assert [e.title for e in feed.entries] == ["Accessibility audit"]


def test_an_unknown_skill_is_still_reported_and_ignored(client, world):
    assert set(_job_titles(client.get("/jobs?skill=cobol"))) == {"Accessibility audit", "Python API"}
    assert client.get("/feeds/jobs.atom?skill=cobol").status_code == 400


def test_the_directory_understands_synonyms(client, world):
    html = client.get("/coops/?skill=a11y").get_data(as_text=True)
    assert "Poster" in html and "Snake Co-op" not in html


def test_the_api_understands_synonyms(client, world):
    answer = client.get("/api/v1/jobs?skill=WCAG", headers=bearer(world["user"]))
    assert answer.status_code == 200
    assert [j["title"] for j in answer.get_json()["items"]] == ["Accessibility audit"]
    assert client.get("/api/v1/jobs?skill=cobol").status_code == 400


def test_find_skill(world):
    skills = world["skills"]
    assert find_skill("a11y") is skills["accessibility"]
    assert find_skill("web design") is skills["web-design"]
    assert find_skill("Web-Design") is skills["web-design"]
    assert find_skill("") is None and find_skill(None) is None and find_skill("cobol") is None
