"""The co-op picker of consortium invites in Chromium: without JavaScript a text field with the
invitable names as a datalist; with it a WAI-ARIA combobox (static/combobox.js) chosen from by
keyboard. Both invite, and axe finds no violation either way."""
import pytest
from sqlalchemy import select

from marketplace.consortia.models import ConsortiumMember
from marketplace.consortia.services import create_consortium
from marketplace.extensions import db

from ..axe import follow, sign_in, violations
from ..bids.conftest import make_open_job
from ..factories import make_coop, make_user

# What a browser adds to the routes (forms, links, scripts) does not depend on the database, and
# the routes behind each step run on both databases in their own tests: the SQLite run only.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

pytest.importorskip("axe_playwright_python.sync_playwright")


@pytest.fixture
def consortium(app, networks):
    cotech = networks["cotech"]
    poster, lead = (make_coop(name, {cotech: "active"}) for name in ("Poster Co-op", "Lead Co-op"))
    for name in ("Beta Builders", "Betony Design", "Gamma Data"):
        make_coop(name, {cotech: "active"})
    user = make_user("Lee Lead", coops={lead: "admin"})
    job = make_open_job(poster, make_user(coops={poster: "admin"}), looking_for_partners=True)
    with app.test_request_context():
        formed = create_consortium(user, lead, "Lead and partners", "", "Lead", job=job)
    db.session.commit()
    return {"user": user, "id": formed.id}


def _violations_of_the_unenhanced_page(page, app, live_server, consortium):
    """axe runs inside the page, so not where JavaScript is off (it waits for ever): the same
    page is checked with JavaScript on and only the picker's script held back."""
    context = page.context.browser.new_context(base_url=live_server)
    try:
        checked = context.new_page()
        checked.set_default_timeout(10_000)
        checked.route("**/combobox.js", lambda route: route.abort())
        sign_in(checked, app, live_server, consortium["user"])
        checked.goto(f"/consortia/{consortium['id']}")
        assert checked.locator("#coop").get_attribute("list") == "invitable-coops"  # not enhanced
        return violations(checked)
    finally:
        context.close()


def _invited():
    db.session.expire_all()
    return sorted(m.coop.name for m in db.session.scalars(select(ConsortiumMember)) if m.status == "invited")


@pytest.mark.parametrize("javascript", [False, True], ids=["without-js", "with-js"])
def test_inviting_a_coop_with_and_without_javascript(app, browser_page, live_server, consortium, javascript):
    context = browser_page.context.browser.new_context(base_url=live_server, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, app, live_server, consortium["user"])
        page.goto(f"/consortia/{consortium['id']}")
        field = page.locator("#coop")
        if javascript:
            assert field.get_attribute("role") == "combobox" and field.get_attribute("list") is None
            field.press_sequentially("bet")
            options = page.get_by_role("option")
            assert options.all_inner_texts() == ["Beta Builders", "Betony Design"]
            assert field.get_attribute("aria-expanded") == "true"
            assert violations(page) == []
            field.press("ArrowDown")
            field.press("ArrowDown")
            assert field.get_attribute("aria-activedescendant") == options.nth(1).get_attribute("id")
            field.press("Enter")  # chooses; does not submit
            assert field.input_value() == "Betony Design" and field.get_attribute("aria-expanded") == "false"
        else:
            assert field.get_attribute("list") == "invitable-coops" and field.get_attribute("role") is None
            names = page.locator("#invitable-coops option").evaluate_all("os => os.map(o => o.value)")
            assert {"Beta Builders", "Betony Design", "Gamma Data"} <= set(names)
            field.fill("Betony Design")
            assert _violations_of_the_unenhanced_page(page, app, live_server, consortium) == []
        if javascript:
            assert violations(page) == []
        follow(page.get_by_role("button", name="Invite", exact=True))
        assert "Betony Design is invited" in page.content()
        assert _invited() == ["Betony Design"]
    finally:
        context.close()
