"""The visibility matrix of scores: every viewer kind × visibility × state (draft, open — bids
sealed —, closed, withdrawn), on the ranking page, a bid's scoring page and the API's scores.
Only the poster's members see or give scores, and only once bids close: everyone else, and the
poster before the deadline, gets the 404 of a sealed thing (the API tells the poster's members
a 409 "sealed" instead, which says nothing they do not know)."""
from datetime import date

import pytest

from marketplace.bids.models import Bid
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.jobs.models import JobCriterion

from ..factories import batched, bearer
from ..matrix import BIDDER, SEES, as_viewer, world  # noqa: F401


@pytest.fixture
@batched
def scored_world(world):  # noqa: F811
    """``world`` with two criteria on every job and a submitted bid of the BIDDER's co-op on
    each open and closed job."""
    bidder = world["users"][BIDDER].coops[0]
    bids = {}
    for (visibility, state), job in world["jobs"].items():
        db.session.add_all([JobCriterion(job=job, position=0, name="Quality", weight=70),
                            JobCriterion(job=job, position=1, name="Price", weight=30)])
        if state in ("open", "closed"):
            bid = Bid(job=job, coop=bidder, status="submitted", amount=1000, available_from=date.today(),
                      proposal="MATRIX PROPOSAL", proposal_html="<p>MATRIX PROPOSAL</p>", submitted_at=utcnow())
            db.session.add(bid)
            db.session.flush()
            bids[(visibility, state)] = bid
    return {**world, "bids": bids}


def sees_scores(kind, state):
    return kind == "poster" and state == "closed"


def test_scoring_pages(app, scored_world, subtests):
    for kind in SEES:
        with subtests.test(viewer=kind):
            client = as_viewer(app.test_client(), scored_world, kind)
            for (visibility, state), job in scored_world["jobs"].items():
                cell = (kind, visibility, state)
                ranking = client.get(f"/jobs/{job.id}/scores")
                wanted = 200 if sees_scores(kind, state) else 404  # a visitor too: no sign-in page
                assert ranking.status_code == wanted, cell
                if wanted == 200:
                    assert "Bids ranked by total score" in ranking.get_data(as_text=True)
                bid = scored_world["bids"].get((visibility, state))
                if bid is None:
                    continue
                url = f"/jobs/{job.id}/bids/{bid.id}/score"
                page = client.get(url)
                assert page.status_code == wanted, cell
                if wanted == 200:
                    assert "MATRIX PROPOSAL" in page.get_data(as_text=True)
                posted = client.post(url, data={f"score_{c.id}": "5" for c in job.criteria})
                assert posted.status_code == (302 if sees_scores(kind, state) else wanted), cell


def test_api_scores(client, scored_world, subtests):
    for kind in SEES:
        with subtests.test(viewer=kind):
            headers = bearer(scored_world["users"][kind], "matrix")
            for (visibility, state), job in scored_world["jobs"].items():
                cell = (kind, visibility, state)
                if kind == "anonymous":
                    wanted = 401
                elif sees_scores(kind, state):
                    wanted = 200
                elif kind == "poster" and state == "open":
                    wanted = 409  # sealed: the poster's members know the job and its bid count
                else:
                    wanted = 404
                listed = client.get(f"/api/v1/jobs/{job.id}/scores", headers=headers)
                assert listed.status_code == wanted, cell
                if wanted != 200:
                    assert "MATRIX" not in listed.get_data(as_text=True) and "items" not in listed.get_json(), cell
                bid = scored_world["bids"].get((visibility, state))
                if bid is None:
                    continue
                body = {"scores": [{"criterion_id": c.id, "score": 5} for c in job.criteria]}
                put = client.put(f"/api/v1/jobs/{job.id}/bids/{bid.id}/scores", json=body, headers=headers)
                assert put.status_code == wanted, cell


def test_the_job_page_links_to_scores_for_the_poster_once_bids_close(app, scored_world, subtests):
    for kind in SEES:
        with subtests.test(viewer=kind):
            client = as_viewer(app.test_client(), scored_world, kind)
            for (visibility, state), job in scored_world["jobs"].items():
                page = client.get(f"/jobs/{job.id}")
                if page.status_code != 200:
                    continue
                html = page.get_data(as_text=True)
                assert "How bids are evaluated" in html, (kind, visibility, state)  # criteria: whoever sees the job
                assert ("Score the bids" in html) == sees_scores(kind, state), (kind, visibility, state)
