"""Layout in headless Chromium at a phone's width (390 px) and a desktop's (1280 px): every
button is at least 40 px high, the job form's Publish is in sight without scrolling, and no
page scrolls sideways."""
from datetime import timedelta

import pytest

from marketplace.bids import services as bid_services
from marketplace.core.time import frozen_now, utcnow
from marketplace.extensions import db
from marketplace.jobs.models import JobRequirement

from ..axe import sign_in
from ..factories import batched, make_coop, make_job, make_user

# Layout does not depend on the database: it runs in the SQLite run only.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

WIDTHS = (390, 1280)
LONG = "A requirement long enough to make its column wide: " + "accessibility " * 6


@pytest.fixture
@batched
def site(networks, skills):
    cotech = networks["cotech"]
    poster_coop = make_coop("Poster Co-op", {cotech: "active"}, location="Leeds", size=7,
                            skills=list(skills.values()))
    poster = make_user("Pat Poster", coops={poster_coop: "admin"})
    job = make_job(poster_coop, "cotech", skills=[skills["python"]], title="Wide review")
    for position in range(3):
        db.session.add(JobRequirement(job=job, position=position, text=f"{LONG} {position}"))
    bidders = [make_coop(f"Bidder Co-op Number {n}", {cotech: "active"}) for n in range(3)]
    for n, coop in enumerate(bidders):
        user = make_user(f"Bidder {n}", coops=[coop])
        answers = {r.id: "Yes: " + LONG for r in job.requirements}
        bid_services.save_bid(job, coop, user, bid_services.BidValues(
            amount=1000 + n, available_from=utcnow().date() + timedelta(days=30),
            proposal="We can.", answers=answers), submit=True)
    db.session.commit()
    return {"poster": poster, "job": job}


def _at(page, width):
    page.set_viewport_size({"width": width, "height": 800})


def _overflow(page):
    return page.evaluate("document.documentElement.scrollWidth")


def _short_buttons(page):
    """Visible buttons (any kind) less than 40 px high: (text, height)."""
    return page.evaluate("""() => [...document.querySelectorAll(
        'button, input[type=submit], input[type=button], .button')]
        .filter(b => b.offsetParent !== null)
        .map(b => [b.value || b.textContent.trim(), b.getBoundingClientRect().height])
        .filter(([, h]) => h < 40)""")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_job_form_buttons_are_tall_and_publish_is_in_sight(app, browser_page, live_server, site, width):
    _at(browser_page, width)
    sign_in(browser_page, app, live_server, site["poster"])
    browser_page.goto("/jobs/new")
    assert browser_page.evaluate("document.documentElement.scrollHeight") > 2000  # a long form
    assert _short_buttons(browser_page) == []
    publish = browser_page.locator("#publish")
    # styled as the primary button (the site's green), not the browser's grey
    assert publish.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(0, 112, 60)"
    # each radio button beside its label, on the same line
    for radio in ("kind-0", "budget_type-0", "work_mode-0"):
        radio_box = browser_page.locator(f"#{radio}").bounding_box()
        label_box = browser_page.locator(f"label[for={radio}]").bounding_box()
        assert label_box["x"] > radio_box["x"] + radio_box["width"] - 1, radio
        assert abs((label_box["y"] + label_box["height"] / 2) - (radio_box["y"] + radio_box["height"] / 2)) < 8, radio
    for y in (0, 1500):
        browser_page.evaluate(f"window.scrollTo(0, {y})")
        assert publish.evaluate("b => { const r = b.getBoundingClientRect();"
                                " return r.top >= 0 && r.bottom <= window.innerHeight; }"), y
    assert _overflow(browser_page) <= width


@pytest.mark.parametrize("width", WIDTHS)
def test_the_bids_review_and_the_directory_stay_within_the_width(app, browser_page, live_server, site, width):
    _at(browser_page, width)
    sign_in(browser_page, app, live_server, site["poster"])
    with frozen_now(site["job"].bids_deadline + timedelta(minutes=5)):
        browser_page.goto(f"/jobs/{site['job'].id}/bids")
        assert browser_page.get_by_role("table").count() == 1
        assert _overflow(browser_page) <= width
        assert _short_buttons(browser_page) == []
    browser_page.goto("/coops/")
    assert browser_page.get_by_role("link", name="Poster Co-op").is_visible()
    assert _overflow(browser_page) <= width
