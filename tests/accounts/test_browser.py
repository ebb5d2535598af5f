"""The account pages in a real browser, CSRF on: they work from the keyboard without
JavaScript, and axe-core finds no serious or critical problem on them."""
import re

import pytest

from ..axe import follow
from .conftest import NEW_PASSWORD

# What a browser adds to the routes (forms, links, scripts) does not depend on the database, and
# the routes behind each step run on both databases in their own tests: the SQLite run only.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


def serious_violations(page):
    axe = pytest.importorskip("axe_playwright_python.sync_playwright")
    results = axe.Axe().run(page)
    return [(v["id"], v["help"]) for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")]


def test_register_settings_sign_out_and_reset(browser_page, live_server, outbox):
    page = browser_page.context.browser.new_context(java_script_enabled=False, base_url=live_server).new_page()
    page.goto("/register")
    page.get_by_label("Your name").fill("Robin Worker")
    page.get_by_label("Email address").fill("robin@example.coop")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the password").fill(NEW_PASSWORD)
    follow(page.get_by_role("button", name="Create account"))
    assert page.url.endswith("/register/check-email")
    assert page.locator("h1").inner_text() == "Check your email"
    link = re.search(r"http://\S+(/account/confirm/\S+)", outbox[-1].get_body(("plain",)).get_content()).group(1)
    page.goto(link)
    follow(page.get_by_role("button", name="Confirm my address"))
    assert page.get_by_text("Your email address is confirmed").is_visible()
    page.get_by_label("Email address").fill("robin@example.coop")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    follow(page.get_by_role("button", name="Sign in"))
    assert page.url.endswith("/dashboard")
    assert page.locator("h1").inner_text() == "Your dashboard"

    follow(page.get_by_role("link", name="Account settings"))
    page.get_by_label("Your name").fill("Robin Q. Worker")
    follow(page.get_by_role("button", name="Save name"))
    assert page.get_by_text("Your name is saved.").is_visible()

    follow(page.get_by_role("button", name="Sign out"))
    page.goto("/login")
    follow(page.get_by_role("link", name="Forgot your password?"))
    page.get_by_label("Email address").fill("robin@example.coop")
    follow(page.get_by_role("button", name="Send me a link"))
    assert page.get_by_text("If an account exists for robin@example.coop").is_visible()

    link = re.search(r"http://\S+(/password/reset/\S+)", outbox[-1].get_body(("plain",)).get_content()).group(1)
    page.goto(link)
    page.get_by_label("New password").fill("yet another passphrase")
    page.get_by_label("Repeat the password").fill("yet another passphrase")
    follow(page.get_by_role("button", name="Set password and sign in"))
    assert page.url.endswith("/dashboard")
    assert page.get_by_role("link", name="Robin Q. Worker").is_visible()
    page.context.close()


@pytest.mark.parametrize("path", ["/login", "/register", "/register/check-email", "/password/forgot",
                                  "/password/reset/bad-token", "/account/confirm/bad-token"])
def test_anonymous_pages_pass_axe(browser_page, path):
    browser_page.goto(path)
    assert browser_page.locator("h1").count() == 1
    assert serious_violations(browser_page) == [], path


def test_unconfirmed_pages_pass_axe(browser_page, networks):
    from ..factories import PASSWORD, make_user

    robin = make_user("Robin Worker", email="robin@example.coop", verified=False)
    browser_page.goto("/login")
    browser_page.get_by_label("Email address").fill(robin.email)
    browser_page.get_by_label("Password").fill(PASSWORD)
    follow(browser_page.get_by_role("button", name="Sign in"))
    assert browser_page.get_by_role("button", name="Send the link again").is_visible()
    for path, status in (("/dashboard", 200), ("/coops/new", 403)):
        response = browser_page.goto(path)
        assert response.status == status, path
        assert browser_page.locator("h1").count() == 1
        assert serious_violations(browser_page) == [], path
    follow(browser_page.get_by_role("button", name="Send the link again"))
    assert browser_page.get_by_text("We sent a new link to robin@example.coop").is_visible()


def test_signed_in_pages_pass_axe(browser_page, ann, networks):
    from ..factories import PASSWORD

    browser_page.goto("/login")
    browser_page.get_by_label("Email address").fill(ann.email)
    browser_page.get_by_label("Password").fill(PASSWORD)
    follow(browser_page.get_by_role("button", name="Sign in"))
    for path in ("/dashboard", "/account"):
        browser_page.goto(path)
        assert browser_page.locator("h1").count() == 1
        assert serious_violations(browser_page) == [], path
