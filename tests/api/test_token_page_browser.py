"""The API tokens section of the settings page in a real browser: make a token, copy it once,
use it, revoke it; no serious axe-core problem."""
import re

import pytest

from ..axe import serious_violations, sign_in
from ..factories import make_coop, make_job, make_user

# What a browser adds to the routes (forms, links, scripts) does not depend on the database, and
# the routes behind each step run on both databases in their own tests: the SQLite run only.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]
pytest.importorskip("axe_playwright_python.sync_playwright")


def test_make_use_and_revoke_a_token(app, client, browser_page, live_server, networks):
    coop = make_coop("Browser Co-op", {networks["cotech"]: "active"})
    job = make_job(coop, "cotech", "open", title="Members-only tender")
    user = make_user(coops=[coop])
    page = browser_page
    sign_in(page, app, live_server, user)
    page.goto("/account")
    page.get_by_label("Name this token (optional)").fill("Our CRM")
    page.get_by_role("button", name="Make an API token").click()
    page.wait_for_selector("text=Your new API token")
    plain = re.search(r"<code>([A-Za-z0-9_-]{40,})</code>", page.content()).group(1)
    assert serious_violations(page) == []

    bearer = {"Authorization": f"Bearer {plain}"}
    answer = client.get(f"/api/v1/jobs/{job.id}", headers=bearer)
    assert answer.status_code == 200 and answer.get_json()["title"] == "Members-only tender"

    page.goto("/account")
    assert "Our CRM" in page.content() and plain not in page.content()
    page.get_by_role("button", name="Revoke").click()
    page.wait_for_selector("text=API token revoked")
    assert client.get(f"/api/v1/jobs/{job.id}", headers=bearer).status_code == 401
