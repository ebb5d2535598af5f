"""Scoring in headless Chromium, through the real pages (CSRF on): a poster's member posts a
job with evaluation criteria, a co-op bids, the clock passes the deadline, two members score,
and the ranking shows the weighted order; axe-core finds no serious problem on the new pages."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from marketplace.bids.models import Bid
from marketplace.core.time import frozen_now, utcnow
from marketplace.extensions import db
from marketplace.jobs.models import Job

from ..axe import follow, serious_violations
from ..factories import make_coop, make_user
from .job_form import fill_job

# What a browser adds to the routes (forms, links, scripts) does not depend on the database, and
# the routes behind each step run on both databases in their own tests: the SQLite run only.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]
pytest.importorskip("axe_playwright_python.sync_playwright")


@pytest.fixture
def people(networks, skills):
    cotech = networks["cotech"]
    poster_coop = make_coop("Poster Co-op", {cotech: "active"})
    return {
        "poster": make_user("Pat Poster", coops=[poster_coop], email="pat@poster.coop"),
        "second": make_user("Sam Second", coops=[poster_coop], email="sam@poster.coop"),
        "alpha": make_user("Ada Alpha", coops=[make_coop("Alpha Co-op", {cotech: "active"})], email="ada@alpha.coop"),
        "beta_coop": make_coop("Beta Co-op", {cotech: "active"}),
    }


def _score(page, job, bid, scores):
    page.goto(f"/jobs/{job.id}/scores")
    follow(page.locator(f"#ranked-{bid.id}").get_by_role("link"))
    for criterion, score in zip(job.criteria, scores):
        page.fill(f"#score_{criterion.id}", str(score))
    follow(page.get_by_role("button", name="Save our scores"))
    assert "Your scores are saved." in page.locator(".flashes").inner_text()


def test_criteria_bid_close_score_rank(sign_in, people, skills):
    now = utcnow()
    bids_deadline = now + timedelta(days=14)
    poster = sign_in(people["poster"])
    fill_job(poster, "Scored booking system", "A booking system, scored on three criteria.", skills["python"], now,
             bids_deadline, "WCAG 2.2 AA experience")
    poster.fill("#nice_to_have", "Worked with a charity")
    poster.fill("#criteria", "Technical approach: 60\nCultural fit: 20\nPrice: 30")
    follow(poster.get_by_role("button", name="Publish"))
    assert "add up to 100 %: they add up to 110 %" in poster.locator("#criteria").locator("..").inner_text()
    assert serious_violations(poster) == []
    poster.fill("#criteria", "Technical approach: 60\nCultural fit: 20\nPrice: 20")
    follow(poster.get_by_role("button", name="Publish"))
    assert "Technical approach: 60 %" in poster.locator(".summary-list").inner_text()
    follow(poster.get_by_role("button", name="Publish"))
    job = db.session.scalars(select(Job)).one()
    assert "How bids are evaluated" in poster.content()

    # Alpha bids through the form; Beta's bid is already in, without answers.
    essential, nice = job.requirements
    db.session.add(Bid(job=job, coop=people["beta_coop"], status="submitted", amount=7000, proposal="Beta plan",
                       proposal_html="<p>Beta plan</p>", available_from=date.today(), submitted_at=utcnow()))
    db.session.commit()
    alpha = sign_in(people["alpha"])
    alpha.goto(f"/jobs/{job.id}")
    follow(alpha.get_by_role("link", name="Bid for Alpha Co-op"))
    alpha.fill("#price", "9000")
    alpha.fill("#available_from", (bids_deadline + timedelta(days=7)).date().isoformat())
    alpha.fill("#proposal", "Alpha will do it well.")
    alpha.fill(f"#answer_{essential.id}", "Yes, on three public services.")
    alpha.fill(f"#answer_{nice.id}", "No, not yet.")
    follow(alpha.get_by_role("button", name="Submit bid"))
    follow(alpha.get_by_role("button", name="Submit bid"))
    assert "Bid submitted" in alpha.locator(".flashes").inner_text()
    beta_bid, alpha_bid = db.session.scalars(select(Bid).order_by(Bid.id)).all()

    with frozen_now(bids_deadline + timedelta(minutes=5)):
        poster.goto(f"/jobs/{job.id}")
        follow(poster.get_by_role("link", name="Score the bids and see the ranking"))
        assert serious_violations(poster) == []
        _score(poster, job, alpha_bid, (9, 6, 4))  # (9×60 + 6×20 + 4×20) / 10 = 74
        assert serious_violations(poster) == []
        _score(poster, job, beta_bid, (5, 8, 9))  # 64
        second = sign_in(people["second"])
        second.goto(f"/jobs/{job.id}/bids/{beta_bid.id}/score")
        assert "Pat Poster" not in second.content()  # not before giving one's own
        _score(second, job, beta_bid, (10, 8, 9))  # 94 → Beta's mean 79
        _score(second, job, alpha_bid, (8, 6, 4))  # 68 → Alpha's mean 71
        assert "Pat Poster" in second.locator("table").inner_text()
        second.goto(f"/jobs/{job.id}/scores")
        rows = second.locator("tbody tr").all_inner_texts()
        assert rows[0].startswith("1\tBeta Co-op\t79.0") and rows[1].startswith("2\tAlpha Co-op\t71.0"), rows
        # Beta's bid never answered the essential requirement; Alpha's "no" to a nice-to-have is not flagged.
        assert "Flagged" in rows[0] and "All answered" in rows[1]
        assert serious_violations(second) == []
