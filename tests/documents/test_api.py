"""The API's files: a job's (its poster adds them), a bid's (sealed with it), a question's, and
removing one where the site would let the caller."""
import io

import pytest
from sqlalchemy import select

from marketplace.documents.models import Document
from marketplace.extensions import db

from ..factories import bearer, make_coop, make_document, make_job, make_user
from . import files
from .conftest import document_count, stored_files

PREFIX = "/api/v1"


def _upload(client, job, headers, *uploads):
    data = {"documents": [(io.BytesIO(content), name) for name, content in uploads]}
    return client.post(f"{PREFIX}/jobs/{job.id}/documents", data=data, headers=headers,
                       content_type="multipart/form-data")


def test_the_poster_adds_files_and_those_who_see_the_job_list_them(app, client, networks):
    coop = make_coop("Poster", {networks["cotech"]: "active"})
    poster = make_user(coops={coop: "admin"})
    job = make_job(coop, "cotech", "open", user=poster)
    response = _upload(client, job, bearer(poster), ("brief.docx", files.docx()), ("plan.csv", files.CSV))
    assert response.status_code == 201, response.get_json()
    items = response.get_json()["items"]
    assert [(i["name"], i["media_type"], i["size"]) for i in items] == [
        ("brief.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", len(files.docx())),
        ("plan.csv", "text/csv", len(files.CSV))]
    assert response.headers["Location"].endswith(f"/api/v1/jobs/{job.id}")

    reader = make_user(coops=[make_coop("Reader", {networks["cotech"]: "active"})])
    listed = client.get(f"{PREFIX}/jobs/{job.id}", headers=bearer(reader)).get_json()["documents"]
    assert [d["name"] for d in listed] == ["brief.docx", "plan.csv"]
    assert client.get(f"{PREFIX}/jobs/{job.id}").status_code == 404  # a visitor sees neither job nor files
    assert client.get(listed[0]["url"]).status_code == 404


def test_refused_files_and_callers_write_nothing(app, client, networks):
    coop = make_coop("Poster", {networks["cotech"]: "active"})
    poster = make_user(coops={coop: "admin"})
    job = make_job(coop, "cotech", "open", user=poster)
    refused = _upload(client, job, bearer(poster), ("ok.pdf", files.PDF), ("spec.pdf", files.HTML))
    assert refused.status_code == 422 and "“spec.pdf” is not a kind of file" in refused.get_json()["error"]["fields"]["documents"]
    assert _upload(client, job, bearer(poster)).status_code == 422
    other = make_user(coops=[make_coop("Other", {networks["cotech"]: "active"})])
    assert _upload(client, job, bearer(other), ("ok.pdf", files.PDF)).status_code == 403
    assert _upload(client, job, {}, ("ok.pdf", files.PDF)).status_code == 401
    closed = make_job(coop, "cotech", "closed", user=poster)
    assert _upload(client, closed, bearer(poster), ("ok.pdf", files.PDF)).status_code == 409
    assert document_count() == 0 and stored_files(app) == []
    assert db.session.scalars(select(Document)).first() is None


def _upload_to_bid(client, bid_id, headers, *uploads):
    data = {"documents": [(io.BytesIO(content), name) for name, content in uploads]}
    return client.post(f"{PREFIX}/bids/{bid_id}/documents", data=data, headers=headers,
                       content_type="multipart/form-data")


def _bid(client, job, headers):
    body = {"amount": 9000, "available_from": str(job.bids_deadline.date()), "proposal": "Our plan.",
            "submit": True}
    response = client.post(f"{PREFIX}/jobs/{job.id}/bids", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


@pytest.fixture
def bidding(client, networks):
    """An open job, its poster, and a bidder's submitted bid through the API: (poster, job,
    the bidder's headers, the bid's id)."""
    poster_coop = make_coop("Poster", {networks["cotech"]: "active"})
    poster = make_user(coops={poster_coop: "admin"})
    job = make_job(poster_coop, "cotech", "open", user=poster)
    headers = bearer(make_user(coops=[make_coop("Bidder", {networks["cotech"]: "active"})]))
    return poster, job, headers, _bid(client, job, headers)


def test_a_bidder_attaches_lists_and_removes_its_bids_files(app, client, bidding):
    poster, job, headers, bid_id = bidding

    added = _upload_to_bid(client, bid_id, headers, ("method.pdf", files.PDF), ("rates.csv", files.CSV))
    assert added.status_code == 201, added.get_json()
    assert added.headers["Location"].endswith(f"/api/v1/bids/{bid_id}/documents")
    listed = client.get(f"{PREFIX}/bids/{bid_id}/documents", headers=headers).get_json()["items"]
    assert [d["name"] for d in listed] == ["method.pdf", "rates.csv"]
    # Sealed: the poster sees neither the bid's files nor that they exist until the deadline.
    assert client.get(f"{PREFIX}/bids/{bid_id}/documents", headers=bearer(poster)).status_code == 404
    assert client.delete(f"{PREFIX}/documents/{listed[0]['id']}", headers=bearer(poster)).status_code == 404
    # Refused files write nothing; another co-op's member may not add to the bid.
    refused = _upload_to_bid(client, bid_id, headers, ("ok.pdf", files.PDF), ("page.pdf", files.HTML))
    assert refused.status_code == 422 and "page.pdf" in refused.get_json()["error"]["fields"]["documents"]
    assert _upload_to_bid(client, bid_id, headers).status_code == 422
    assert document_count() == 2

    removed = client.delete(f"{PREFIX}/documents/{listed[0]['id']}", headers=headers)
    assert removed.status_code == 204
    assert [d["name"] for d in client.get(f"{PREFIX}/bids/{bid_id}/documents", headers=headers)
            .get_json()["items"]] == ["rates.csv"]
    assert client.delete(f"{PREFIX}/documents/{listed[0]['id']}", headers=headers).status_code == 404
    assert len(stored_files(app)) == 1


def test_files_stay_once_a_bid_or_job_can_no_longer_change(app, client, bidding):
    poster, job, headers, bid_id = bidding
    document_id = _upload_to_bid(client, bid_id, headers, ("method.pdf", files.PDF)).get_json()["items"][0]["id"]
    spec = _upload(client, job, bearer(poster), ("spec.pdf", files.PDF)).get_json()["items"][0]["id"]
    # A published job's files stay: bidders may have read them.
    kept = client.delete(f"{PREFIX}/documents/{spec}", headers=bearer(poster))
    assert kept.status_code == 409 and "can no longer be removed" in kept.get_json()["error"]["message"]
    # A bidder sees the job's file but may not remove it.
    assert client.delete(f"{PREFIX}/documents/{spec}", headers=headers).status_code == 409
    assert client.post(f"{PREFIX}/bids/{bid_id}/withdraw", headers=headers).status_code == 200
    assert _upload_to_bid(client, bid_id, headers, ("late.pdf", files.PDF)).status_code == 409
    assert client.delete(f"{PREFIX}/documents/{document_id}", headers=headers).status_code == 409
    assert client.delete(f"{PREFIX}/documents/{document_id}").status_code == 401
    assert document_count() == 2


def test_a_draft_jobs_file_is_removed_by_its_poster_only(app, client, networks):
    poster_coop = make_coop("Poster", {networks["cotech"]: "active"})
    poster = make_user(coops={poster_coop: "admin"})
    job = make_job(poster_coop, "cotech", "draft", user=poster)
    spec = _upload(client, job, bearer(poster), ("spec.pdf", files.PDF)).get_json()["items"][0]["id"]
    other = make_user(coops=[make_coop("Other", {networks["cotech"]: "active"})])
    assert client.delete(f"{PREFIX}/documents/{spec}", headers=bearer(other)).status_code == 404  # a draft is hidden
    assert client.delete(f"{PREFIX}/documents/{spec}", headers=bearer(poster)).status_code == 204
    assert document_count() == 0 and stored_files(app) == []


def test_a_question_takes_files_from_its_asker_and_lists_them_as_it_is_shown(app, client, networks):
    poster_coop = make_coop("Poster", {networks["cotech"]: "active"})
    poster = make_user(coops={poster_coop: "admin"})
    job = make_job(poster_coop, "cotech", "open", user=poster)
    asker = make_user(coops=[make_coop("Asker", {networks["cotech"]: "active"})])
    other = make_user(coops=[make_coop("Other", {networks["cotech"]: "active"})])
    asked = client.post(f"{PREFIX}/jobs/{job.id}/questions", json={"text": "Is hosting included?"},
                        headers=bearer(asker))
    question_id = asked.get_json()["id"]
    assert asked.get_json()["documents"] == []

    def upload(headers, *uploads):
        data = {"documents": [(io.BytesIO(content), name) for name, content in uploads]}
        return client.post(f"{PREFIX}/questions/{question_id}/documents", data=data, headers=headers,
                           content_type="multipart/form-data")

    added = upload(bearer(asker), ("diagram.png", files.png()))
    assert added.status_code == 201, added.get_json()
    assert upload(bearer(other), ("x.pdf", files.PDF)).status_code == 404  # another co-op's pending question
    assert upload(bearer(poster), ("x.pdf", files.PDF)).status_code == 403
    assert upload(bearer(asker), ("page.pdf", files.HTML)).status_code == 422

    def listed(user):
        answer = client.get(f"{PREFIX}/jobs/{job.id}/questions", headers=bearer(user)).get_json()
        return {q["id"]: [d["name"] for d in q["documents"]] for q in answer["answered"] + answer["pending"]}

    assert listed(asker) == listed(poster) == {question_id: ["diagram.png"]}
    assert listed(other) == {}
    # Answered (with a file of the answer, on the site), it is everyone's who sees the job.
    from marketplace.questions.models import Question
    from marketplace.questions.services import answer_question

    question = db.session.get(Question, question_id)
    answer_question(question, poster, "Yes.")
    make_document("answer", question, name="hosting.pdf")
    db.session.commit()
    answered = client.get(f"{PREFIX}/jobs/{job.id}/questions", headers=bearer(other)).get_json()["answered"]
    assert [(q["documents"][0]["name"], q["answer_documents"][0]["name"]) for q in answered] == [
        ("diagram.png", "hosting.pdf")]
    assert upload(bearer(asker), ("late.pdf", files.PDF)).status_code == 409
    assert document_count() == 2
