"""Bidding together in headless Chromium, through the real pages (CSRF on): Alpha forms a
consortium for a job, invites Beta and Gamma, the three agree the split (one re-accepts a
changed share), comment on it, and Alpha submits the consortium's bid, which all three see."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.bids.models import Bid
from marketplace.consortia.models import Consortium, ConsortiumMember
from marketplace.core.time import utcnow
from marketplace.extensions import db

from ..axe import follow
from ..bids.conftest import make_open_job
from ..factories import make_coop, make_user
from .test_bidding_flow import flash

# What a browser adds to the routes (forms, links, scripts) does not depend on the database, and
# the routes behind each step run on both databases in their own tests: the SQLite run only.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


@pytest.fixture
def people(networks):
    cotech = networks["cotech"]
    return {
        key: make_user(f"{key.capitalize()} Person", coops=[make_coop(f"{key.capitalize()} Co-op", {cotech: "active"})],
                       email=f"{key}@{key}.coop")
        for key in ("poster", "alpha", "beta", "gamma")
    }


def member_id(coop_name):
    db.session.expire_all()
    return db.session.scalars(select(ConsortiumMember).join(ConsortiumMember.coop)
                              .where(ConsortiumMember.coop.has(name=coop_name))).one().id


def test_three_co_ops_form_a_consortium_agree_shares_and_bid(sign_in, people):
    poster_coop = people["poster"].coops[0]
    job = make_open_job(poster_coop, people["poster"], looking_for_partners=True)

    # Alpha forms the consortium from the job page.
    alpha = sign_in(people["alpha"])
    alpha.goto(f"/jobs/{job.id}")
    assert "Looking for partners" in alpha.content()
    alpha.get_by_role("link", name="Form a consortium for this job").click()
    alpha.fill("#name", "Three Co-ops Together")
    alpha.fill("#role", "Project management")
    alpha.get_by_role("button", name="Form the consortium").click()
    assert "Consortium formed" in flash(alpha)
    consortium = db.session.scalars(select(Consortium)).one()

    # It invites Beta and Gamma; inviting Beta twice is refused with a reason.
    for name, role in (("Beta Co-op", "Development"), ("Gamma Co-op", "Design")):
        alpha.fill("#coop", name)
        alpha.fill("#role", role)
        alpha.get_by_role("button", name="Invite", exact=True).click()
        assert f"{name} is invited" in flash(alpha)
    alpha.fill("#coop", "Beta Co-op")
    alpha.get_by_role("button", name="Invite", exact=True).click()
    assert "Beta Co-op is already invited" in alpha.locator(".error-summary").inner_text()

    # The split: first one that does not add up, then 50/30/20 of the work, 40/30/30 of the money.
    ids = {k: member_id(f"{k.capitalize()} Co-op") for k in ("alpha", "beta", "gamma")}
    alpha.goto(f"/consortia/{consortium.id}")
    for key, work, money in (("alpha", 50, 40), ("beta", 30, 30), ("gamma", 10, 30)):
        alpha.fill(f"#work_{ids[key]}", str(work))
        alpha.fill(f"#money_{ids[key]}", str(money))
    alpha.get_by_role("button", name="Save the split").click()
    assert "add up to 90 %, not 100 %" in alpha.locator(".error-summary").inner_text()
    alpha.fill(f"#work_{ids['gamma']}", "20")
    alpha.get_by_role("button", name="Save the split").click()
    assert "Split saved" in flash(alpha)

    # Beta and Gamma accept; Beta comments on the split.
    pages = {}
    for key in ("beta", "gamma"):
        page = pages[key] = sign_in(people[key])
        page.goto("/consortia")
        follow(page.get_by_role("link", name="Three Co-ops Together"))
        assert "30 % of the money" in page.content()
        page.get_by_role("button", name=f"Accept for {key.capitalize()} Co-op").click()
        assert "takes part in" in flash(page)
    pages["beta"].fill("#text", "Could Beta take **35 %** of the work?")
    pages["beta"].get_by_role("button", name="Post the comment").click()
    assert "Comment posted" in flash(pages["beta"])

    # Alpha changes the split: Beta must accept again before the consortium can bid.
    alpha.goto(f"/consortia/{consortium.id}")
    assert "35 %" in alpha.locator("#comments").inner_text()
    alpha.fill(f"#work_{ids['alpha']}", "45")
    alpha.fill(f"#work_{ids['beta']}", "35")
    alpha.get_by_role("button", name="Save the split").click()
    assert "Waiting for Beta Co-op" in flash(alpha)
    pages["beta"].goto(f"/consortia/{consortium.id}")
    assert "The split changed" in pages["beta"].content()
    pages["beta"].get_by_role("button", name="Accept for Beta Co-op").click()
    assert "takes part in" in flash(pages["beta"])

    # Alpha submits the consortium's bid.
    alpha.goto(f"/consortia/{consortium.id}")
    follow(alpha.get_by_role("link", name="Prepare the consortium's bid"))
    assert "the consortium Three Co-ops Together" in alpha.content()
    alpha.fill("#price", "24000")
    alpha.fill("#available_from", (job.bids_deadline + timedelta(days=7)).date().isoformat())
    alpha.fill("#proposal", "Three co-ops, one team.")
    for requirement in job.requirements:
        alpha.fill(f"#answer_{requirement.id}", "Yes, together.")
    follow(alpha.get_by_role("button", name="Submit bid"))
    assert "this bid is for the consortium Three Co-ops Together" in alpha.content()
    alpha.get_by_role("button", name="Submit bid").click()
    assert "Bid submitted for the consortium" in flash(alpha)
    bid = db.session.scalars(select(Bid)).one()
    assert (bid.consortium_id, bid.coop_id, bid.status, bid.amount) == (consortium.id, alpha_coop_id(people), "submitted", 24000)

    # Every member sees the bid and the shares; the poster sees only the count, sealed.
    for page in (alpha, pages["beta"], pages["gamma"]):
        page.goto(f"/bids/{bid.id}")
        text = page.locator("#consortium").inner_text()
        assert "Beta Co-op" in text and "35 %" in text and "Three co-ops, one team." in page.content()
    poster = sign_in(people["poster"])
    poster.goto(f"/jobs/{job.id}/bids")
    assert "1 bid received" in poster.content() and "one team" not in poster.content()
    assert poster.goto(f"/consortia/{consortium.id}").status == 404
    assert utcnow() < job.bids_deadline


def alpha_coop_id(people):
    return people["alpha"].coops[0].id


def test_consortium_pages_have_no_serious_axe_violations(sign_in, people):
    """axe-core on the pages this feature adds, filled with data, forms and errors included."""
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    job = make_open_job(people["poster"].coops[0], people["poster"], looking_for_partners=True)
    alpha = sign_in(people["alpha"])

    def serious(page, path=None):
        if path:
            page.goto(path)
        results = axe.run(page).response["violations"]
        return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in results
                if v.get("impact") in ("serious", "critical")]

    assert serious(alpha, f"/consortia/new?job={job.id}") == []
    alpha.fill("#name", "Axe team")
    alpha.get_by_role("button", name="Form the consortium").click()
    consortium = db.session.scalars(select(Consortium)).one()
    alpha.fill("#coop", "Beta Co-op")
    alpha.get_by_role("button", name="Invite", exact=True).click()
    beta = sign_in(people["beta"])
    beta.goto(f"/jobs/{job.id}")
    beta.fill("#message", "We build.")
    beta.get_by_role("button", name="Offer to partner").click()
    assert serious(beta) == []
    assert serious(beta, f"/consortia/{consortium.id}") == []
    assert serious(alpha, f"/consortia/{consortium.id}") == []
    alpha.fill("#coop", "Nobody at all")
    follow(alpha.get_by_role("button", name="Invite", exact=True))
    assert "There is a problem" in alpha.content()
    assert serious(alpha) == []
    assert serious(alpha, f"/jobs/{job.id}") == []
    assert serious(alpha, "/consortia") == []
    assert serious(alpha, f"/consortia/{consortium.id}/jobs/{job.id}/bid") == []
