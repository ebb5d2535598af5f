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


LAYOUT = """() => {
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
  return {
    width: document.documentElement.scrollWidth,
    repeated: [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))],
    short: [...document.querySelectorAll('button, input[type=submit], .button')]
      .filter(b => b.offsetParent !== null && b.getBoundingClientRect().height < 40)
      .map(b => b.value || b.textContent.trim()),
  };
}"""


def violations(page):
    """Every axe-core violation on ``page``, whatever its impact: (rule, first targets)."""
    from axe_playwright_python.sync_playwright import Axe

    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in Axe().run(page).response["violations"]]


def layout_problems(page, width, axe=True):
    """What is wrong with the page as shown ``width`` pixels wide: sideways scroll, repeated ids,
    buttons under 40 px high, and (``axe``) every axe-core violation, whatever its impact."""
    found = page.evaluate(LAYOUT)
    found = {"overflow": found["width"] if found["width"] > width else None,
             "repeated ids": found["repeated"], "short buttons": found["short"],
             "axe": violations(page) if axe else []}
    return {k: v for k, v in found.items() if v}


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
