"""Accessibility, checked in a real browser: axe-core finds no serious or critical problem on
the main pages, and the pages work from the keyboard without JavaScript."""
import pytest

from ..axe import follow, serious_violations
from ..factories import batched, make_coop, make_job

pytestmark = pytest.mark.browser

pytest.importorskip("axe_playwright_python.sync_playwright")


@pytest.fixture
@batched
def site(networks, skills):
    coop = make_coop("Accessible Co-op", {networks["cotech"]: "active"}, skills=[skills["python"]],
                     description="We build **accessible** things.", location="Leeds")
    job = make_job(coop, "public", skills=[skills["python"], skills["accessibility"]], title="Public tender")
    return {"coop": coop, "job": job}


@pytest.mark.sqlite_only  # axe reads the page, whatever database filled it
@pytest.mark.parametrize("path", [
    "/", "/jobs", "/jobs?skill=python&kind=bogus", "/skills/", "/skills/python", "/coops/",
    "/coops/accessible-co-op", "/networks/", "/login", "/register",
])
def test_pages_have_no_serious_axe_violations(browser_page, site, path):
    browser_page.goto(path)
    assert serious_violations(browser_page) == [], path


@pytest.mark.sqlite_only  # axe reads the page, whatever database filled it
def test_job_page(browser_page, site):
    browser_page.goto(f"/jobs/{site['job'].id}")
    assert browser_page.locator("h1").inner_text() == "Public tender"
    assert serious_violations(browser_page) == []


def test_skip_link_and_keyboard(browser_page, site):
    browser_page.goto("/jobs")
    browser_page.keyboard.press("Tab")
    focused = browser_page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Skip to content"
    browser_page.keyboard.press("Enter")
    assert browser_page.evaluate("document.activeElement.id") == "main"


def test_filters_work_without_javascript(browser_page, live_server, site):
    context = browser_page.context.browser.new_context(java_script_enabled=False, base_url=live_server)
    page = context.new_page()
    try:
        page.goto("/jobs")
        page.select_option("#skill", "python")
        follow(page.get_by_role("button", name="Apply filters"))
        assert "skill=python" in page.url
        assert page.get_by_role("link", name="Public tender").is_visible()
    finally:
        context.close()
