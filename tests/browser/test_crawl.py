"""The main pages at a phone's width and a desktop's, as an anonymous visitor and as a member:
no sideways scroll, every button at least 40 px high, no repeated id, and no axe violation (axe
runs at the desktop width only: its rules read the document, not the layout)."""
from datetime import timedelta

import pytest

from marketplace.core.time import utcnow

from ..axe import follow, layout_problems, sign_in
from ..factories import batched, make_coop, make_job, make_user

# What it checks does not depend on the database: it runs in the SQLite run only.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

pytest.importorskip("axe_playwright_python.sync_playwright")

ANONYMOUS_PAGES = ["/", "/jobs", "/jobs?sort=closing&location=Leeds", "/coops/", "/coops/crawl-co-op",
                   "/skills/", "/skills/python", "/networks/", "/login", "/register", "/feeds/subscribe"]
MEMBER_PAGES = ["/", "/jobs", "/jobs/new", "/bids", "/consortia", "/dashboard", "/account", "/coops/"]


@pytest.fixture
@batched
def site(networks, skills):
    coop = make_coop("Crawl Co-op", {networks["cotech"]: "active"}, skills=[skills["python"]],
                     description="## What we do\n\nAccessible things.", location="Leeds", size=4)
    member = make_user("Mo Member", coops={coop: "admin"})
    other = make_coop("Other Crawl Co-op", {networks["cotech"]: "active"})
    make_job(other, "public", skills=[skills["python"]], title="Crawled tender", location="Leeds",
             work_mode="hybrid", description="# Scope\n\nA long line of text " * 20)
    job = make_job(other, "cotech", skills=[skills["python"]], title="Members tender")
    return {"member": member, "job": job}


def _check_pages(page, job):
    """The "check your answers" pages, reached as a member does: a job filled in and
    "Publish" pressed, then a bid filled in and "Submit bid" pressed."""
    now = utcnow()
    page.goto("/jobs/new")
    page.fill("#title", "A checked tender with a rather long title that has to wrap on a phone")
    page.fill("#summary", "What the check page shows before publishing.")
    page.locator("input[id^=skill-]").first.check()
    page.fill("#budget_min", "8000")
    page.fill("#questions_deadline", (now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#bids_deadline", (now + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M"))
    follow(page.get_by_role("button", name="Publish"))
    assert page.locator("h1").inner_text() == "Check your job before publishing"
    yield "check job"
    page.goto(f"/jobs/{job.id}/bid")
    page.fill("#price", "9000")
    page.fill("#available_from", (now + timedelta(days=30)).date().isoformat())
    page.fill("#proposal", "A proposal long enough to read: " + "we build accessible things. " * 10)
    follow(page.get_by_role("button", name="Submit bid"))
    assert "Check your bid" in page.locator("h1").inner_text()
    yield "check bid"


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("member", [False, True], ids=["anonymous", "member"])
def test_the_main_pages(app, browser_page, live_server, site, width, member):
    browser_page.set_viewport_size({"width": width, "height": 800})
    paths = ANONYMOUS_PAGES
    if member:
        sign_in(browser_page, app, live_server, site["member"])
        paths = MEMBER_PAGES + [f"/jobs/{site['job'].id}"]
    problems = {}
    for path in paths:
        response = browser_page.goto(path)
        assert response.status == 200, path
        problems[path] = layout_problems(browser_page, width, axe=width == 1280)
    if member:
        for name in _check_pages(browser_page, site["job"]):
            problems[name] = layout_problems(browser_page, width, axe=width == 1280)
    assert {path: found for path, found in problems.items() if found} == {}
