"""Posting a job with a specification file in headless Chromium (CSRF on): the file goes
through the "check your answers" step, is listed on the job page and downloads for a member
of another co-op."""
from datetime import timedelta

import pytest

from marketplace.core.time import to_local, utcnow

from ..axe import follow, serious_violations
from ..documents.files import PDF
from ..factories import PASSWORD, make_coop, make_user

# What a browser adds to the routes (forms, links, scripts) does not depend on the database, and
# the routes behind each step run on both databases in their own tests: the SQLite run only.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


def _signed_in(page, user):
    page.set_default_timeout(10_000)
    page.goto("/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    follow(page.get_by_role("button", name="Sign in"))
    return page


def test_post_a_job_with_a_pdf_and_download_it_as_another_member(browser_page, chromium, live_server, networks,
                                                                   skills, tmp_path):
    cotech = networks["cotech"]
    poster = make_user("Pat Poster", coops=[make_coop("Poster Co-op", {cotech: "active"})], email="pat@poster.coop")
    reader = make_user("Ada Alpha", coops=[make_coop("Alpha Co-op", {cotech: "active"})], email="ada@alpha.coop")
    spec = tmp_path / "Specification.pdf"
    spec.write_bytes(PDF)
    now = utcnow()

    page = _signed_in(browser_page, poster)
    page.goto("/jobs/new")
    assert serious_violations(page) == []
    page.fill("#title", "Booking system")
    page.fill("#summary", "A booking system for a community energy co-op.")
    page.check(f"#skill-{skills['python'].id}")
    page.fill("#budget_min", "8000")
    page.fill("#questions_deadline", to_local(now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#bids_deadline", to_local(now + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M"))
    page.set_input_files("#documents", str(spec))
    follow(page.get_by_role("button", name="Publish"))
    assert "Specification.pdf" in page.locator(".summary-list").inner_text()
    assert serious_violations(page) == []
    follow(page.get_by_role("button", name="Publish"))
    assert page.locator("h1").inner_text() == "Booking system"
    job_url = page.url

    context = chromium.new_context(base_url=live_server, accept_downloads=True)
    try:
        other = _signed_in(context.new_page(), reader)
        other.goto(job_url)
        assert serious_violations(other) == []
        link = other.locator("#documents").get_by_role("link", name="Specification.pdf")
        with other.expect_download() as download:
            link.click()
        assert download.value.suggested_filename == "Specification.pdf"
        assert open(download.value.path(), "rb").read() == PDF
    finally:
        context.close()
