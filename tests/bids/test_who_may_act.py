"""Who may act on a job is narrower than who may see it: registering interest, asking and
bidding take an active or guest membership of some network, on every visibility. A co-op whose
memberships are pending or lapsed, or a user with no co-op, may look at public jobs only: the
web answers 403 with the reason, the API 403, and nothing is written."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.bids.models import Bid, Interest
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.questions.models import Question

from ..factories import bearer
from ..matrix import SEES, as_viewer, world  # noqa: F401

# Viewer kinds with a co-op of their own that is not the poster.
ACTS = {"cotech_only": True, "workers_only": True, "both": True, "guest": True, "pending": False, "ended": False}


def _rows():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Question, Interest, Bid))


@pytest.mark.parametrize("kind", ACTS)
def test_only_vetted_coops_act_on_a_public_job(app, client, world, kind):  # noqa: F811
    user = world["users"][kind]
    coop = user.coops[0]
    job = world["jobs"][("public", "open")]
    site = as_viewer(app.test_client(), world, kind)
    page = site.get(f"/jobs/{job.id}").get_data(as_text=True)
    waiting = f"{coop.name} cannot register interest, ask questions or bid until"
    assert (waiting in page) is (not ACTS[kind]), kind
    assert ("Say that your co-op intends to bid" in page) is ACTS[kind], kind

    bid_by = (utcnow() + timedelta(days=2)).date().isoformat()
    attempts = [
        (f"/jobs/{job.id}/interest", {"coop": coop.id, "bid_by": bid_by}),
        (f"/jobs/{job.id}/questions", {"coop": coop.id, "text": "May we ask?"}),
        (f"/jobs/{job.id}/bid", {"coop": coop.id, "price_type": "fixed", "price": "100", "save_draft": "y"}),
    ]
    for url, form in attempts:
        before = _rows()
        response = site.post(url, data=form)
        if ACTS[kind]:
            assert response.status_code == 302, (kind, url)
        else:
            assert response.status_code == 403, (kind, url)
            assert waiting in response.get_data(as_text=True), (kind, url)
            assert _rows() == before, (kind, url)

    headers = bearer(user, "acting")
    for method, url, body in [
        ("post", f"/api/v1/jobs/{job.id}/questions", {"text": "May we ask again?"}),
        ("put", f"/api/v1/jobs/{job.id}/interest", {"bid_by": bid_by}),
        ("post", f"/api/v1/jobs/{job.id}/bids", {"amount": 100}),
    ]:
        before = _rows()
        response = getattr(client, method)(url, json=body, headers=headers)
        if ACTS[kind]:
            assert response.status_code < 400 or response.status_code == 409, (kind, url, response.get_json())
        else:
            assert response.status_code == 403, (kind, url)
            assert "active or guest membership" in response.get_json()["error"]["message"]
            assert _rows() == before, (kind, url)


def test_a_user_without_a_coop_is_told_to_join_one(app, world):  # noqa: F811
    job = world["jobs"][("public", "open")]
    site = as_viewer(app.test_client(), world, "no_coop")
    assert site.post(f"/jobs/{job.id}/interest", data={"bid_by": "2030-01-01"}).status_code == 403
