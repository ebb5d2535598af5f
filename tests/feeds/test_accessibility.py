"""The feed pages in a real browser: axe-core finds no serious or critical problem, and the
private-feed form works without JavaScript."""
import pytest

from marketplace.extensions import db
from marketplace.feeds import services

from ..axe import follow, serious_violations, sign_in
from ..factories import make_coop, make_user

pytestmark = pytest.mark.browser

pytest.importorskip("axe_playwright_python.sync_playwright")


@pytest.fixture
def site(networks, coordinator, make_source):
    source = make_source("https://community.coops.tech/c/jobs/9.rss")
    source.last_error = "The server answered HTTP 503 Service Unavailable."
    source.last_error_at = source.created_at
    db.session.commit()
    member = make_user("Mo Member", coops=[make_coop("Members Co-op", {networks["cotech"]: "active"})])
    services.create_token(member, "Feed reader")
    db.session.commit()
    return {"source": source, "member": member}


@pytest.mark.sqlite_only  # axe reads the page, whatever database filled it
@pytest.mark.parametrize("who, path", [
    ("coordinator", "/feeds/sources"),
    ("coordinator", "/feeds/sources/new"),
    ("coordinator", "/feeds/sources/{source}"),
    ("coordinator", "/feeds/sources/{source}/edit"),
    ("member", "/feeds/tokens"),
    ("member", "/feeds/tokens?feed=/feeds/skills/python.atom"),
])
def test_feed_pages_have_no_serious_axe_violations(app, browser_page, live_server, site, coordinator, who, path):
    sign_in(browser_page, app, live_server, coordinator if who == "coordinator" else site["member"])
    browser_page.goto(path.format(source=site["source"].id))
    assert browser_page.locator("h1").count() == 1
    assert serious_violations(browser_page) == [], path


def test_failed_source_form_is_accessible(app, browser_page, live_server, site, coordinator):
    sign_in(browser_page, app, live_server, coordinator)
    browser_page.goto("/feeds/sources/new")
    browser_page.fill("#name", "Broken")
    browser_page.fill("#url", "ftp://example.coop/feed")
    follow(browser_page.get_by_role("button", name="Save source"))
    assert "There is a problem" in browser_page.content()
    assert serious_violations(browser_page) == []


def test_make_a_private_feed_without_javascript(app, browser_page, live_server, site):
    context = browser_page.context.browser.new_context(java_script_enabled=False, base_url=live_server)
    page = context.new_page()
    try:
        sign_in(page, app, live_server, site["member"])
        page.goto("/feeds/tokens?feed=/feeds/skills/python.atom")
        page.fill("#label", "Thunderbird")
        follow(page.get_by_role("button", name="Make a private feed address"))
        text = page.content()
        assert "Your new private feed address" in text
        assert "/skills/python.atom" in text and "/feeds/private/" in text
    finally:
        context.close()
