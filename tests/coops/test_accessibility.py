"""The co-op and network pages, as signed-in admins see them, have no serious axe-core problem."""
import pytest

from marketplace.coops.models import JoinRequest
from marketplace.extensions import db

from ..axe import serious_violations, sign_in
from ..factories import batched, make_coop, make_job, make_user

pytestmark = pytest.mark.browser

pytest.importorskip("axe_playwright_python.sync_playwright")


@pytest.fixture
@batched
def site(networks, skills):
    coop = make_coop("Accessible Co-op", {networks["cotech"]: "active"}, skills=[skills["python"]], location="Leeds")
    candidate = make_coop("Candidate Co-op")
    admin = make_user("Ada Admin", coops={coop: "admin", candidate: "admin"}, admin=True,
                      coordinates=[networks["cotech"]])
    make_user("Mo Member", coops={coop: "member"})
    asker = make_user("Sam Asker")
    db.session.add(JoinRequest(coop=coop, user=asker, message="Hello"))
    db.session.commit()
    make_job(coop, "cotech", title="CoTech tender")
    return {"admin": admin, "asker": asker, "membership": coop.memberships[0]}


@pytest.mark.sqlite_only  # axe reads the page, whatever database filled it
@pytest.mark.parametrize("path", [
    "/coops/", "/coops/?network=nowhere&skill=python", "/coops/accessible-co-op", "/coops/candidate-co-op",
    "/coops/new", "/coops/accessible-co-op/edit", "/coops/accessible-co-op/members",
    "/coops/accessible-co-op/requests", "/networks/", "/networks/cotech", "/networks/workers-coop",
    "/networks/new", "/networks/cotech/memberships/{membership}/edit",
])
def test_admin_pages(browser_page, app, live_server, site, path):
    sign_in(browser_page, app, live_server, site["admin"])
    browser_page.goto(path.format(membership=site["membership"].id))
    assert browser_page.locator("h1").count() == 1
    assert serious_violations(browser_page) == [], path


@pytest.mark.sqlite_only  # axe reads the page, whatever database filled it
@pytest.mark.parametrize("path", ["/coops/accessible-co-op/join", "/coops/join-requests", "/coops/accessible-co-op"])
def test_requester_pages(browser_page, app, live_server, site, path):
    sign_in(browser_page, app, live_server, site["asker"])
    browser_page.goto(path)
    assert serious_violations(browser_page) == [], path


def test_a_failed_form_shows_its_errors_accessibly(browser_page, app, live_server, site):
    sign_in(browser_page, app, live_server, site["admin"])
    browser_page.goto("/coops/accessible-co-op/edit")
    browser_page.fill("#website", "javascript:alert(1)")
    browser_page.fill("#size", "-4")
    browser_page.get_by_role("button", name="Save profile").click()
    assert browser_page.get_by_role("alert").is_visible()
    assert "starting with http:// or https://" in browser_page.locator(".error-summary").inner_text()
    assert browser_page.locator("#website").get_attribute("aria-invalid") == "true"
    assert serious_violations(browser_page) == []
