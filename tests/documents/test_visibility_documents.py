"""The visibility matrix, grown to documents: every kind of viewer × every visibility × every
owner kind (a job in each state, a question, an answer, an unanswered question, a bid), before
and after the bids deadline. A file one may not see answers 404, never 403."""
from datetime import timedelta

import pytest

from marketplace.core.time import frozen_now, utcnow
from marketplace.federation import viewer_for
from marketplace.federation.policy import can_see_document

from ..factories import bearer
from ..matrix import SEES, as_viewer, sees_document


def _deadline_passed(documents_world):
    job = documents_world["jobs"][("public", "open")]
    return frozen_now(job.bids_deadline + timedelta(minutes=1))


def _check(client, documents_world, kind, closed):
    viewer = viewer_for(documents_world["users"][kind])
    for (owner, visibility, state), document in documents_world["documents"].items():
        want = sees_document(kind, owner, visibility, state, closed)
        assert can_see_document(viewer, document) == want, (kind, owner, visibility, state, closed)
        response = client.get(f"/documents/{document.id}/{document.name}")
        assert response.status_code == (200 if want else 404), (kind, owner, visibility, state, closed)


def test_documents_before_bids_close(app, subtests, documents_world):
    for kind in SEES:
        with subtests.test(viewer=kind):
            _check(as_viewer(app.test_client(), documents_world, kind), documents_world, kind, closed=False)


def test_documents_after_bids_close(app, subtests, documents_world):
    with _deadline_passed(documents_world):
        for kind in SEES:
            with subtests.test(viewer=kind):
                _check(as_viewer(app.test_client(), documents_world, kind), documents_world, kind, closed=True)


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
@pytest.mark.parametrize("kind", SEES)
def test_a_bids_files_through_the_api(client, documents_world, kind, closed):
    """``GET /api/v1/bids/<id>/documents`` lists a bid's files to those who may download them,
    and is 404 to everyone else (401 without a token)."""
    headers = bearer(documents_world["users"][kind])
    bids = {key: d for key, d in documents_world["documents"].items() if key[0] == "bid"}
    with _deadline_passed(documents_world) if closed else frozen_now(utcnow()):
        for (owner, visibility, state), document in bids.items():
            response = client.get(f"/api/v1/bids/{document.owner_id}/documents", headers=headers)
            if not headers:
                assert response.status_code == 401
                continue
            want = sees_document(kind, owner, visibility, state, closed)
            assert response.status_code == (200 if want else 404), (kind, visibility, state, closed)
            if want:
                assert [d["name"] for d in response.get_json()["items"]] == [document.name]


@pytest.mark.parametrize("kind", SEES)
def test_question_files_in_the_apis_questions(client, documents_world, kind):
    """``GET /api/v1/jobs/<id>/questions`` names a question's and an answer's files exactly when
    the viewer may download them (a job it may not see is 404)."""
    headers = bearer(documents_world["users"][kind])
    owners = ("question", "answer", "pending_question")
    for (visibility, state), job in documents_world["jobs"].items():
        if state != "open":
            continue
        response = client.get(f"/api/v1/jobs/{job.id}/questions", headers=headers)
        if response.status_code == 404:
            assert not any(sees_document(kind, o, visibility, state) for o in owners), (kind, visibility)
            continue
        answer = response.get_json()
        listed = {d["name"] for q in answer["answered"] + answer["pending"]
                  for d in q["documents"] + q["answer_documents"]}
        want = {documents_world["documents"][(o, visibility, state)].name for o in owners
                if sees_document(kind, o, visibility, state)}
        assert listed == want, (kind, visibility)


def test_a_sealed_bids_file_is_404_to_the_poster_until_the_deadline(client, documents_world):
    as_viewer(client, documents_world, "poster")
    document = documents_world["documents"][("bid", "cotech", "open")]
    url = f"/documents/{document.id}/{document.name}"
    assert client.get(url).status_code == 404
    with _deadline_passed(documents_world):
        assert client.get(url).status_code == 200
    assert utcnow() < documents_world["jobs"][("cotech", "open")].bids_deadline
