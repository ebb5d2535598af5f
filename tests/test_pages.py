"""Details of the pages, through the test client: one id per element on a job page, Markdown
headings below the page's own, counts with their plural right, and a favicon."""
import re
from collections import Counter

import pytest

from marketplace.core.time import frozen_now

from .bids.conftest import client_for, make_open_job
from .factories import make_coop, make_job, make_user


def repeated_ids(html):
    return [i for i, n in Counter(re.findall(r'\sid="([^"]+)"', html)).items() if n > 1]


@pytest.fixture
def world(networks):
    cotech = networks["cotech"]
    poster_coop = make_coop("Poster Co-op", {cotech: "active"})
    poster = make_user("Pat Poster", coops={poster_coop: "admin"})
    bidder_coops = [make_coop("Alpha Co-op", {cotech: "active"}), make_coop("Beta Co-op", {cotech: "active"})]
    bidder = make_user("Ada Alpha", coops={c: "admin" for c in bidder_coops})
    job = make_open_job(poster_coop, poster, description="# Scope\n\nText.\n\n## Details\n\nMore.",
                        looking_for_partners=True)
    return {"poster": poster, "bidder": bidder, "job": job}


def test_a_job_page_repeats_no_id(app, world):
    job = world["job"]
    for user in (world["poster"], world["bidder"], None):
        client = client_for(app, user) if user else app.test_client()
        html = client.get(f"/jobs/{job.id}").get_data(as_text=True)
        assert repeated_ids(html) == [], user
    with frozen_now(job.bids_deadline.replace(microsecond=0) + (job.bids_deadline - job.questions_deadline)):
        html = client_for(app, world["poster"]).get(f"/jobs/{job.id}").get_data(as_text=True)
        assert repeated_ids(html) == []


def test_markdown_headings_sit_below_the_page_headings(app, world):
    html = client_for(app, world["bidder"]).get(f"/jobs/{world['job'].id}").get_data(as_text=True)
    assert "<h3>Scope</h3>" in html and "<h4>Details</h4>" in html
    assert "<h2>Scope" not in html and "<h2>Details" not in html


@pytest.mark.parametrize("jobs, shown", [(0, "No jobs match."), (1, "Showing 1 job"), (2, "Showing 2 jobs")])
def test_counts_have_their_plural_right(client, networks, jobs, shown):
    coop = make_coop("Counted", {networks["cotech"]: "active"})
    for _ in range(jobs):
        make_job(coop, "public")
    html = client.get("/jobs").get_data(as_text=True)
    assert shown in html and "1–1 of" not in html
    html = client.get("/coops/").get_data(as_text=True)
    assert "Showing 1 co-op<" in html


def test_the_favicon_is_served_and_linked(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype in ("image/svg+xml", "image/x-icon",
                                                                  "image/vnd.microsoft.icon")
    assert '<link rel="icon"' in client.get("/").get_data(as_text=True)


def test_only_members_of_a_vetted_co_op_are_offered_post_a_job(app, networks):
    pending = make_user("Penny Pending", coops=[make_coop("Pending Co-op", {networks["cotech"]: "pending"})])
    active = make_user("Ada Active", coops=[make_coop("Active Co-op", {networks["cotech"]: "active"})])
    for path in ("/", "/jobs"):
        html = client_for(app, pending).get(path).get_data(as_text=True)
        assert ">Post a job</a>" not in html and "Your co-op cannot post jobs or bid yet" in html
        html = client_for(app, active).get(path).get_data(as_text=True)
        assert ">Post a job</a>" in html and "cannot post jobs" not in html
    assert client_for(app, pending).get("/jobs/new").status_code == 302  # as before: told why


@pytest.mark.parametrize("source, levels", [
    ("## Background\n\n## What we need\n\n#### Detail", ["h3", "h3", "h4"]),
    ("### First\n\n# Top\n\n###### Deep", ["h3", "h3", "h4"]),
    ("# Scope\n\n## Details", ["h3", "h4"]),
])
def test_markdown_headings_never_skip_a_level(source, levels):
    """The text's headings start at h3, under the page's h2 section, and none is more than one
    level below the one before it, whatever levels the author typed (axe: heading-order)."""
    from marketplace.core.markdown import render_markdown

    assert re.findall(r"<(h[1-6])>", render_markdown(source)) == levels
