"""Helpers of the browser tests: axe-core's serious problems on a page, and a signed-in browser.

Test modules that use axe skip themselves first when it is not installed:
``pytest.importorskip("axe_playwright_python.sync_playwright")``.
"""


def serious_violations(page):
    """axe-core's serious and critical violations on ``page``: (rule, help, first targets)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def sign_in(page, app, base_url, user):
    """Give the browser the session cookie that signing in as ``user`` would leave."""
    cookie = app.session_interface.get_signing_serializer(app).dumps({"_user_id": user.get_id(), "_fresh": True})
    page.context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": base_url}])


def follow(locator):
    """Click a link or submit button and wait until the page it leads to has loaded.

    A bare ``click()`` returns once the navigation has started, so reading the page straight
    after it may read the old page, or an empty one between the two.
    """
    with locator.page.expect_navigation():
        locator.click()
    return locator.page
