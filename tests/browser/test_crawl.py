"""The main pages at a phone's width and a desktop's, as an anonymous visitor and as a member:
no sideways scroll, every button at least 40 px high, no repeated id, and no axe violation."""
import pytest

from ..axe import sign_in
from ..factories import batched, make_coop, make_job, make_user

pytestmark = pytest.mark.browser

pytest.importorskip("axe_playwright_python.sync_playwright")

ANONYMOUS_PAGES = ["/", "/jobs", "/jobs?sort=closing&location=Leeds", "/coops/", "/coops/crawl-co-op",
                   "/skills/", "/skills/python", "/networks/", "/login", "/register", "/feeds/subscribe"]
MEMBER_PAGES = ["/", "/jobs", "/jobs/new", "/bids", "/consortia", "/dashboard", "/account", "/coops/"]

CHECKS = """() => {
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
  return {
    width: document.documentElement.scrollWidth,
    repeated: [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))],
    short: [...document.querySelectorAll('button, input[type=submit], .button')]
      .filter(b => b.offsetParent !== null && b.getBoundingClientRect().height < 40)
      .map(b => b.value || b.textContent.trim()),
  };
}"""


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


def _violations(page):
    from axe_playwright_python.sync_playwright import Axe

    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in Axe().run(page).response["violations"]]


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
        found = browser_page.evaluate(CHECKS)
        found = {"overflow": found["width"] if found["width"] > width else None,
                 "repeated ids": found["repeated"], "short buttons": found["short"],
                 "axe": _violations(browser_page)}
        found = {k: v for k, v in found.items() if v}
        if found:
            problems[path] = found
    assert problems == {}
