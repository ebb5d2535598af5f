"""Every page a crawl of the demo world reaches, as each kind of user (a visitor, a member of two
co-ops, a network coordinator, the site administrator), shown in Chromium 390 and 1280 px wide: no
sideways scroll, no button under 40 px high, no repeated id, and no axe-core violation.

The crawl runs through the test client and keeps one page of each route shape (``/jobs/<n>``,
``/coops/<slug>`` …); the browser then shows each page at 1280 px and narrows it to 390 px (axe
runs at the first width: its rules read the document, not the layout). What it checks does not
depend on the database, and it is one of the slowest tests, so it runs in the SQLite run only.
"""
import pytest

from marketplace.accounts.models import User
from marketplace.demo import data

from ..axe import layout_problems, sign_in
from ..conftest import login
from ..crawl import crawl

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

pytest.importorskip("axe_playwright_python.sync_playwright")

USERS = {"visitor": None, "member": data.TWO_COOP_MEMBER["email"],
         "coordinator": data.COORDINATORS[0]["email"], "admin": data.SITE_ADMIN["email"]}


@pytest.fixture
def demo_world(runner, app, monkeypatch):
    monkeypatch.setitem(app.config, "SERVER_NAME", None)
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("who", USERS)
def test_every_page_a_crawl_reaches(app, demo_world, browser_page, live_server, who):
    client, user = app.test_client(), None
    if USERS[who]:
        user = User.query.filter_by(email=USERS[who]).one()
        login(client, user)
        sign_in(browser_page, app, live_server, user)
    paths = [path for path, _ in crawl(client, per_shape=1, limit=80)]
    assert len(paths) >= (8 if user is None else 25), paths
    problems = {}
    for path in paths:
        browser_page.set_viewport_size({"width": 1280, "height": 800})
        response = browser_page.goto(path)
        assert response.status == 200, (who, path)
        for width in (1280, 390):  # the same page narrowed, as a phone turned or a window resized
            browser_page.set_viewport_size({"width": width, "height": 800})
            found = layout_problems(browser_page, width, axe=width == 1280)
            if found:
                problems[f"{path} at {width}px"] = found
    assert problems == {}, who
