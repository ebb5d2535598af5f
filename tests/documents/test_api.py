"""The API: a job's files in its representation, and adding files (multipart) for its poster."""
import io

from sqlalchemy import select

from marketplace.documents.models import Document
from marketplace.extensions import db

from ..factories import bearer, make_coop, make_job, make_user
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
