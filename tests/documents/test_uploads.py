"""Uploading specification files with a job, through the site's forms: checked from their
content, kept through a form error and the "check your answers" step, served as downloads,
removed from drafts and with what owns them."""
import io
import re
from html import unescape

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from marketplace.documents.models import Document
from marketplace.extensions import db
from marketplace.jobs.models import Job

from ..conftest import login
from ..factories import make_coop, make_document, make_job, make_user
from . import files
from .conftest import document_count, stored_files


def _with_files(form, *uploads):
    data = MultiDict(form)
    for name, content in uploads:
        data.add("documents", (io.BytesIO(content), name))
    return data


def _post(client, form, *uploads, url="/jobs/new"):
    return client.post(url, data=_with_files(form, *uploads), content_type="multipart/form-data")


def test_a_job_is_posted_with_files_that_members_download(app, client, poster_client, job_form, networks):
    response = _post(poster_client, job_form, ("Spec v2.pdf", files.PDF), ("site plan.png", files.png()))
    assert response.status_code == 302, response.get_data(as_text=True)
    job = db.session.scalars(select(Job)).one()
    documents = db.session.scalars(select(Document).order_by(Document.name)).all()
    assert [(d.owner_kind, d.owner_id, d.name, d.media_type) for d in documents] == [
        ("job", job.id, "Spec v2.pdf", "application/pdf"), ("job", job.id, "site plan.png", "image/png")]
    assert all(d.storage_key not in d.name and re.fullmatch(r"[0-9a-f]{32}", d.storage_key) for d in documents)
    assert len(stored_files(app)) == 2

    other = make_user(coops=[make_coop("Reader Co-op", {networks["cotech"]: "active"})])
    reader = login(app.test_client(), other)
    page = reader.get(f"/jobs/{job.id}").get_data(as_text=True)
    link = re.search(r'href="(/documents/\d+/Spec%20v2.pdf)"', page).group(1)
    download = reader.get(link)
    assert download.status_code == 200 and download.data == files.PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in download.headers["Cache-Control"]
    assert reader.get(link.replace("Spec%20v2.pdf", "other.pdf")).status_code == 404


def test_a_file_that_is_not_what_it_says_is_refused_with_nothing_written(app, poster_client, job_form):
    for name, content, message in [
        ("spec.pdf", files.HTML, "is not a kind of file we accept"),
        ("empty.pdf", b"", "is empty"),
        ("plan.pdf", files.png(), "is named as another kind of file, but it is a PNG image"),
    ]:
        response = _post(poster_client, job_form, (name, content))
        page = unescape(response.get_data(as_text=True))
        assert response.status_code == 422, name
        assert f"“{name}” {message}" in page and 'class="error-summary"' in page
        assert document_count() == 0 and stored_files(app) == [] and db.session.scalar(select(Job.id)) is None


def test_a_file_over_the_limit_is_refused_and_a_request_over_the_limit_is_a_413_page(
        app, poster_client, job_form, monkeypatch):
    monkeypatch.setitem(app.config, "DOCUMENTS_MAX_MB", 0.001)  # 1,048 bytes
    response = _post(poster_client, job_form, ("big.txt", b"a" * 2000))
    assert response.status_code == 422 and "“big.txt” is larger than 0.001 MB." in unescape(response.get_data(as_text=True))
    assert document_count() == 0 and stored_files(app) == []
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    response = _post(poster_client, job_form, ("big.txt", b"a" * 2000))
    assert response.status_code == 413 and "Too large" in response.get_data(as_text=True)


def test_files_survive_a_form_error_and_the_check_step(app, poster_client, job_form):
    job_form.pop("confirmed")
    bad = dict(job_form, title="")
    response = _post(poster_client, bad, ("spec.pdf", files.PDF))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and document_count() == 1
    pending = db.session.scalars(select(Document)).one()
    assert pending.owner_kind == "pending"
    assert f'name="document" value="{pending.id}"' in page and "spec.pdf" in page
    # Nobody downloads a file that is part of nothing yet, not even its uploader.
    assert poster_client.get(f"/documents/{pending.id}/spec.pdf").status_code == 404

    # The form sent again (the file ticked), with another file: the check page lists both.
    check = _post(poster_client, dict(job_form, document=str(pending.id)), ("notes.txt", files.TEXT))
    html = check.get_data(as_text=True)
    assert "Check your job before publishing" in html and "notes.txt, spec.pdf" not in html
    assert "spec.pdf, notes.txt" in html
    carried = [(unescape(n), unescape(v)) for n, v in
               re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)]
    assert len([v for n, v in carried if n == "document"]) == 2
    published = poster_client.post("/jobs/new", data=MultiDict(carried + [("confirmed", "yes"), ("publish", "Publish")]))
    assert published.status_code == 302
    job = db.session.scalars(select(Job)).one()
    assert {(d.owner_kind, d.owner_id) for d in db.session.scalars(select(Document))} == {("job", job.id)}


def test_another_users_pending_file_cannot_be_claimed(app, poster_client, poster_coop, job_form):
    stranger = make_user()
    theirs = make_document("pending", stranger, user=stranger)
    assert poster_client.post("/jobs/new", data=dict(job_form, document=str(theirs.id))).status_code == 302
    db.session.refresh(theirs)
    assert theirs.owner_kind == "pending"


def test_a_drafts_file_is_removed_and_a_deleted_draft_takes_its_files(app, poster_client, poster, poster_coop):
    draft = make_job(poster_coop, "cotech", "draft", user=poster)
    kept, dropped = (make_document("job", draft, name=name) for name in ("a.pdf", "b.pdf"))
    assert poster_client.post(f"/documents/{dropped.id}/remove").status_code == 302
    assert [d.id for d in db.session.scalars(select(Document))] == [kept.id]
    assert stored_files(app) == [kept.storage_key]
    published = make_job(poster_coop, "cotech", "open", user=poster)
    spec = make_document("job", published)
    assert poster_client.post(f"/documents/{spec.id}/remove").status_code == 403  # bidders may have read it

    assert poster_client.post(f"/jobs/{draft.id}/delete").status_code == 302
    assert [d.id for d in db.session.scalars(select(Document))] == [spec.id]
    assert stored_files(app) == [spec.storage_key]


def test_a_rolled_back_upload_leaves_no_file_and_prune_cleans_what_a_crash_left(app, runner, poster, poster_coop):
    job = make_job(poster_coop, "cotech", "open", user=poster)
    from marketplace.documents import services

    services.store(services.check_upload("x.pdf", io.BytesIO(files.PDF)), "job", job.id)
    assert len(stored_files(app)) == 1
    db.session.rollback()
    assert stored_files(app) == [] and document_count() == 0

    kept = make_document("job", job)
    gone = make_document("job", job, name="gone.pdf")
    services.storage().delete(gone.storage_key)  # a file lost
    services.storage().put("ab" * 16, io.BytesIO(b"left by a crash"))  # a file no row names
    from datetime import timedelta

    from marketplace.core.time import frozen_now, utcnow
    with frozen_now(utcnow() + timedelta(hours=2)):
        result = runner.invoke(args=["documents", "prune"])
    assert result.exit_code == 1
    assert "Removed 1 file(s) no document points to" in result.output
    assert f"Missing file: document {gone.id} “gone.pdf”" in result.output
    assert stored_files(app) == [kept.storage_key]


def test_a_form_sent_from_another_site_stores_no_file(app, poster_client, job_form, csrf):
    response = _post(poster_client, job_form, ("spec.pdf", files.PDF))
    assert response.status_code == 400 and document_count() == 0 and stored_files(app) == []
