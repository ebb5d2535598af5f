"""The visibility matrix on the API's writes: every viewer kind × visibility × state.

A job the viewer may not see answers 404 and nothing is written. On a job they may see, the
site's own pages are the oracle: the API answers what the site answers (a redirect after
success is a 2xx; a refused rule, 422 on the site, is 409 or 422; 403 and 404 are the same).
"""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.bids.models import Bid, Interest
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.questions.models import Question

from ..factories import bearer
from ..matrix import SEES, as_viewer, expected, world  # noqa: F401

SITE_TO_API = {302: {200, 201}, 403: {403}, 404: {404}, 422: {409, 422}}
# May see public jobs but not act on them: the poster (its own job), and co-ops that are not vetted.
NOT_ACTING = {"poster", "pending", "ended"}


def _rows():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Question, Interest, Bid))


def _actions(coop_id):
    bid_by = (utcnow() + timedelta(days=2)).date().isoformat()
    coop = {"coop": str(coop_id)} if coop_id else {}
    # (name, site request, API request)
    return [
        ("question", ("/jobs/{id}/questions", {**coop, "text": "Matrix question?"}),
         ("post", "/api/v1/jobs/{id}/questions", {"text": "Matrix question?"})),
        ("interest", ("/jobs/{id}/interest", {**coop, "bid_by": bid_by}),
         ("put", "/api/v1/jobs/{id}/interest", {"bid_by": bid_by})),
        ("bid", ("/jobs/{id}/bid", {**coop, "price_type": "fixed", "price": "100", "save_draft": "y"}),
         ("post", "/api/v1/jobs/{id}/bids", {"amount": 100})),
    ]


@pytest.mark.parametrize("kind", sorted(SEES))
def test_api_writes_follow_the_visibility_rule(app, client, world, kind):  # noqa: F811
    user = world["users"][kind]
    headers = bearer(user, "matrix")
    site = as_viewer(app.test_client(), world, kind)
    coop_id = user.coops[0].id if user is not None and user.coops else None
    for (visibility, state), job in world["jobs"].items():
        should_see = expected(kind, visibility, state)
        for name, (site_url, form), (method, api_url, body) in _actions(coop_id):
            where = (kind, visibility, state, name)
            before = _rows()
            response = getattr(client, method)(api_url.format(id=job.id), json=body, headers=headers)
            error = response.get_json().get("error") if response.status_code >= 400 else None
            if user is None:
                assert response.status_code == 401 and error["code"] == "token_required", where
                assert _rows() == before, where
                continue
            if not should_see:
                assert response.status_code == 404 and error["code"] == "not_found", where
                assert _rows() == before, where
                continue
            if response.status_code >= 400:
                assert _rows() == before, where  # refused: nothing half-saved
            oracle = site.post(site_url.format(id=job.id), data=form)
            assert oracle.status_code in SITE_TO_API, where
            assert response.status_code in SITE_TO_API[oracle.status_code], (where, response.get_json())
            if visibility == "public":  # a few answers spelled out, so that the oracle is not alone
                if coop_id is None or kind in NOT_ACTING:
                    assert response.status_code == 403, where
                elif state == "open":
                    assert response.status_code in (200, 201), where
                else:
                    assert response.status_code == 409, where


@pytest.mark.parametrize("kind", sorted(SEES))
def test_api_questions_read_follows_the_visibility_rule(client, world, kind):  # noqa: F811
    headers = bearer(world["users"][kind], "matrix")
    for (visibility, state), job in world["jobs"].items():
        response = client.get(f"/api/v1/jobs/{job.id}/questions", headers=headers)
        assert response.status_code == (200 if expected(kind, visibility, state) else 404), \
            (kind, visibility, state)
