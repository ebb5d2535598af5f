"""The whole bidding flow in headless Chromium, through the real pages (CSRF on): post a job,
ask, answer, bid from two co-ops, close (the clock moves; the server runs in this process),
award — each person signed in through the real sign-in page in a browser of their own."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.bids.models import Bid
from marketplace.core.time import frozen_now, utcnow
from marketplace.extensions import db
from marketplace.jobs.models import Job
from marketplace.questions.models import Question

from ..axe import follow
from ..factories import make_coop, make_user
from .job_form import fill_job

# What a browser adds to the routes (forms, links, scripts) does not depend on the database, and
# the routes behind each step run on both databases in their own tests: the SQLite run only.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


@pytest.fixture
def people(networks, skills):
    cotech = networks["cotech"]
    return {
        "poster": make_user("Pat Poster", coops=[make_coop("Poster Co-op", {cotech: "active"})],
                            email="pat@poster.coop"),
        "alpha": make_user("Ada Alpha", coops=[make_coop("Alpha Co-op", {cotech: "active"})],
                           email="ada@alpha.coop"),
        "beta": make_user("Bo Beta", coops=[make_coop("Beta Co-op", {cotech: "active"})],
                          email="bo@beta.coop"),
    }


def flash(page):
    return page.locator(".flashes").inner_text()


def test_post_ask_answer_bid_close_award(sign_in, people, skills):
    now = utcnow()
    bids_deadline = now + timedelta(days=14)

    # The poster posts a job with an essential requirement.
    poster = sign_in(people["poster"])
    fill_job(poster, "Accessible booking sistem", "A booking system for a community energy co-op.", skills["python"],
             now, bids_deadline, "WCAG 2.2 AA experience")
    # "Check your answers" first; changing one loses nothing else.
    follow(poster.get_by_role("button", name="Publish"))
    assert poster.locator("h1").inner_text() == "Check your job before publishing"
    assert "Accessible booking sistem" in poster.locator(".summary-list").inner_text()
    follow(poster.get_by_role("button", name="Change title"))
    assert poster.input_value("#summary") == "A booking system for a community energy co-op."
    assert poster.input_value("#requirements") == "WCAG 2.2 AA experience"
    assert poster.is_checked(f"#skill-{skills['python'].id}")
    poster.fill("#title", "Accessible booking system")
    follow(poster.get_by_role("button", name="Publish"))
    assert "Accessible booking system" in poster.locator(".summary-list").inner_text()
    poster.get_by_role("button", name="Publish").click()
    assert "Job published." in flash(poster)
    job = db.session.scalars(select(Job)).one()
    requirement = job.requirements[0]
    assert poster.locator("h1").inner_text() == "Accessible booking system"

    # Alpha asks a question.
    alpha = sign_in(people["alpha"])
    alpha.goto(f"/jobs/{job.id}")
    alpha.fill("#ask-text", "Is the budget firm?")
    alpha.get_by_role("button", name="Send the question").click()
    assert "Your question was sent to the poster" in flash(alpha)
    question = db.session.scalars(select(Question)).one()

    # The poster sees who asked, and answers.
    poster.goto(f"/jobs/{job.id}/questions")
    assert "Asked by Alpha Co-op" in poster.content()
    poster.fill(f"#q{question.id}-answer", "Yes, it is **firm**.")
    poster.get_by_role("button", name="Publish the answer").click()
    assert "Answer published." in flash(poster)

    # Both co-ops bid; the answer is on the job page without the asker's name.
    start = (bids_deadline + timedelta(days=7)).date().isoformat()
    for person, price in (("alpha", "9000"), ("beta", "7500")):
        page = alpha if person == "alpha" else sign_in(people["beta"])
        page.goto(f"/jobs/{job.id}")
        questions = page.locator("#questions").inner_text()
        assert "Is the budget firm?" in questions and "Alpha Co-op" not in questions
        page.get_by_role("link", name=f"Bid for {person.capitalize()} Co-op").click()
        page.fill("#price", price)
        page.fill("#available_from", start)
        page.fill("#proposal", f"{person} will do it well.")
        page.fill(f"#answer_{requirement.id}", "Yes, on three public services.")
        follow(page.get_by_role("button", name="Submit bid"))
        assert f"{person} will do it well." in page.locator(".summary-list").inner_text()
        page.get_by_role("button", name="Submit bid").click()
        assert "Bid submitted" in flash(page)
    alpha_bid, beta_bid = db.session.scalars(select(Bid).order_by(Bid.id)).all()
    assert (alpha_bid.amount, beta_bid.amount, beta_bid.status) == (9000, 7500, "submitted")

    # Sealed: the poster sees the count only.
    poster.goto(f"/jobs/{job.id}/bids")
    assert "2 bids received" in poster.content() and "will do it well" not in poster.content()

    # Bids close (the clock moves for the server thread too); the poster awards Alpha.
    with frozen_now(bids_deadline + timedelta(minutes=5)):
        poster.goto(f"/jobs/{job.id}")
        poster.get_by_role("link", name="Review the bids").click()
        assert poster.get_by_role("table").inner_text().count("Yes, on three public services.") == 2
        section = poster.locator(f"#bid-{alpha_bid.id}")
        assert section.locator(f"#award-{alpha_bid.id}-agreed_value").input_value() == "9000"
        section.locator(f"#award-{alpha_bid.id}-agreed_value").fill("8800")
        section.locator(f"#award-{alpha_bid.id}-others_feedback").fill("Thank you: it was close.")
        section.get_by_role("button", name="Award this bid").click()
        # A page says what the award will do and who is told; only its "Yes, award" awards.
        summary = poster.locator(".summary-list").inner_text()
        assert "£8,800" in summary and "Beta Co-op: unsuccessful" in summary
        poster.get_by_role("button", name="Yes, award").click()
        assert "Awarded to Alpha Co-op" in flash(poster)

        poster.goto(f"/jobs/{job.id}")
        assert poster.locator(".badge.state-awarded").inner_text() == "Awarded"
        assert "Awarded to Alpha Co-op for £8,800" in poster.locator("#bidding").inner_text()
        alpha.goto("/notifications/")
        assert "was awarded: £8,800" in alpha.content()
        alpha.goto(f"/jobs/{job.id}")
        assert "awarded" in alpha.locator("ol.history").inner_text()
        # The outcome is published to the job's audience: another co-op's member sees who won.
        beta = page  # the loop above signed Beta in last
        beta.goto(f"/jobs/{job.id}")
        assert "Awarded to Alpha Co-op for £8,800." in beta.locator("#outcome").inner_text()

    db.session.expire_all()
    assert (alpha_bid.status, alpha_bid.agreed_value, beta_bid.status) == ("awarded", 8800, "unsuccessful")
    assert beta_bid.feedback == "Thank you: it was close."


def test_bidding_pages_have_no_serious_axe_violations(sign_in, people, skills):
    """axe-core on every page this flow adds, filled with data, forms and errors included."""
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    from flask import current_app

    from marketplace.bids import services as bids
    from marketplace.questions.services import ask_question

    from ..bids.conftest import make_open_job

    job = make_open_job(people["poster"].coops[0], people["poster"], skills=[skills["python"]])
    alpha_user = people["alpha"]
    with current_app.test_request_context("/"):  # the server has CSRF on: use the rules directly
        for user, price in ((alpha_user, 9000), (people["beta"], 8000)):
            bids.save_bid(job, user.coops[0], user, bids.BidValues(
                amount=price, available_from=utcnow().date(), proposal="We will do it **well**.",
                answers={r.id: "Yes." for r in job.requirements}), submit=True)
        ask_question(job, alpha_user.coops[0], alpha_user, "Is the budget firm?")
        bids.register_interest(job, alpha_user.coops[0], alpha_user, job.bids_deadline.date())
        db.session.commit()
    bid = db.session.scalars(select(Bid).order_by(Bid.id)).first()

    def serious(page, path):
        page.goto(path)
        results = axe.run(page).response["violations"]
        return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in results
                if v.get("impact") in ("serious", "critical")]

    alpha, poster = sign_in(people["alpha"]), sign_in(people["poster"])
    for page, path in ((alpha, f"/jobs/{job.id}"), (alpha, f"/jobs/{job.id}/bid"), (alpha, f"/bids/{bid.id}"),
                       (alpha, "/bids"), (alpha, f"/jobs/{job.id}/interest"), (poster, f"/jobs/{job.id}"),
                       (poster, f"/jobs/{job.id}/questions"), (poster, "/notifications/"),
                       (poster, "/notifications/settings")):
        assert serious(page, path) == [], path
    # A failed form, with its error summary.
    alpha.goto(f"/jobs/{job.id}/bid")
    alpha.fill("#price", "-3")
    follow(alpha.get_by_role("button", name="Save the bid"))
    assert "There is a problem" in alpha.content()
    assert [v["id"] for v in axe.run(alpha).response["violations"]
            if v.get("impact") in ("serious", "critical")] == []
    with frozen_now(job.bids_deadline + timedelta(minutes=1)):
        assert serious(poster, f"/jobs/{job.id}/bids") == []
        # The award's confirmation page.
        poster.fill(f"#award-{bid.id}-agreed_start", (job.bids_deadline + timedelta(days=7)).date().isoformat())
        follow(poster.locator(f"#bid-{bid.id}").get_by_role("button", name="Award this bid"))
        assert "Yes, award" in poster.content()
        assert [v["id"] for v in axe.run(poster).response["violations"]
                if v.get("impact") in ("serious", "critical")] == []
