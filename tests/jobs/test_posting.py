"""Posting, editing, publishing, withdrawing jobs through the real pages."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.core.time import frozen_now, utcnow
from marketplace.extensions import db
from marketplace.jobs.models import Job

from ..conftest import login
from ..factories import make_coop, make_job, make_user
from .conftest import local


def job_count():
    return db.session.scalar(select(func.count()).select_from(Job))


def audit_actions(job):
    return [e.action for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.target_type == "job", AuditEvent.target_id == job.id)
        .order_by(AuditEvent.id))]


def test_post_and_publish(poster_client, poster_coop, job_form, skills):
    response = poster_client.post("/jobs/new", data=job_form)
    assert response.status_code == 302
    job = db.session.scalars(select(Job)).one()
    assert response.headers["Location"].endswith(f"/jobs/{job.id}")
    assert job.state == "open" and job.coop_id == poster_coop.id
    assert {s.slug for s in job.skills} == {"python", "accessibility"}
    assert "<strong>WCAG 2.2 AA</strong>" in job.description_html
    assert "<script>" not in job.description_html
    assert audit_actions(job) == ["job.created", "job.published"]
    page = poster_client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Accessible booking system" in page and "&lt;script&gt;" in page or "<script>" not in page
    assert "£8,000–£12,000" in page


def test_save_draft_then_publish(poster_client, job_form):
    job_form.pop("publish")
    job_form["save_draft"] = "Save as draft"
    poster_client.post("/jobs/new", data=job_form)
    job = db.session.scalars(select(Job)).one()
    assert job.state == "draft" and job.published_at is None
    assert poster_client.post(f"/jobs/{job.id}/publish").status_code == 302
    db.session.refresh(job)
    assert job.state == "open" and job.published_at is not None


@pytest.mark.parametrize("change, field, message", [
    ({"title": "x" * 201}, "title", "Field cannot be longer than 200 characters"),
    ({"title": "   "}, "title", "This field is required"),
    ({"summary": ""}, "summary", "This field is required"),
    ({"budget_min": "-5"}, "budget_min", "Must be between 0 and 100,000,000"),
    ({"budget_min": "abc"}, "budget_min", "Not a valid integer value"),
    ({"budget_min": "5000", "budget_max": "100"}, "budget_max", "must not be below"),
    ({"skills": []}, "skills", "Choose at least one skill"),
    ({"skills": ["99999"]}, "skills", "not a valid choice"),
    ({"questions_deadline": "2001-01-01T10:00"}, "questions_deadline", "must be in the future"),
    ({"questions_deadline": "not a date"}, "questions_deadline", "Not a valid datetime value"),
    ({"visibility": "secret"}, "visibility", "Not a valid choice"),
    ({"kind": "gig"}, "kind", "Not a valid choice"),
    ({"work_mode": "on_site", "location": ""}, "location", "Say where the work is"),
    ({"description": "x" * 20001}, "description", "longer than 20000"),
])
def test_bad_input_rerenders_and_saves_nothing(poster_client, job_form, change, field, message):
    job_form.update(change)
    response = poster_client.post("/jobs/new", data=job_form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html
    assert message.lower() in html.lower()
    assert job_count() == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_bids_deadline_before_questions_deadline(poster_client, job_form):
    now = utcnow()
    job_form["questions_deadline"] = local(now + timedelta(days=10))
    job_form["bids_deadline"] = local(now + timedelta(days=5))
    response = poster_client.post("/jobs/new", data=job_form)
    assert response.status_code == 422
    assert "bids deadline must be after the questions deadline" in response.get_data(as_text=True)
    assert job_count() == 0


def test_start_before_bids_close(poster_client, job_form):
    job_form["start_date"] = utcnow().date().isoformat()
    response = poster_client.post("/jobs/new", data=job_form)
    assert response.status_code == 422 and "cannot start before bids close" in response.get_data(as_text=True)


def test_form_keeps_what_was_typed(poster_client, job_form):
    job_form["title"] = "Keep me"
    job_form["budget_min"] = "-1"
    html = poster_client.post("/jobs/new", data=job_form).get_data(as_text=True)
    assert 'value="Keep me"' in html
    assert "A booking system for a community energy co-op." in html


def test_visibility_limited_to_the_coops_audiences(client, networks, job_form):
    workers_coop = make_coop("Workers Only", {networks["workers-coop"]: "active"})
    login(client, make_user(coops=[workers_coop]))
    html = client.get("/jobs/new").get_data(as_text=True)
    assert 'value="federation"' in html and 'value="cotech"' not in html
    response = client.post("/jobs/new", data=job_form)  # asks for cotech
    assert response.status_code == 422
    assert job_count() == 0


def test_coop_without_active_membership_cannot_post(client, networks):
    pending = make_coop("Pending", {networks["cotech"]: "pending"})
    login(client, make_user(coops=[pending]))
    response = client.get("/jobs/new")
    assert response.status_code == 302 and "/coops" in response.headers["Location"]


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/jobs/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_edit_open_job_and_audit(poster_client, poster_coop, poster, skills):
    job = make_job(poster_coop, "cotech", "open", skills=[skills["python"]], user=poster)
    form = poster_client.get(f"/jobs/{job.id}/edit").get_data(as_text=True)
    assert job.title in form
    data = {
        "title": "New title", "summary": job.summary, "description": "", "kind": "lead",
        "skills": [str(skills["devops"].id)], "budget_type": "day_rate", "budget_min": "400",
        "budget_max": "", "currency": "EUR", "work_mode": "remote", "location": "",
        "questions_deadline": local(job.questions_deadline), "bids_deadline": local(job.bids_deadline),
        "start_date": "", "visibility": "public", "publish": "Save",
    }
    response = poster_client.post(f"/jobs/{job.id}/edit", data=data)
    assert response.status_code == 302
    db.session.refresh(job)
    assert (job.title, job.kind, job.visibility, job.budget_label) == ("New title", "lead", "public", "€400 a day")
    assert [s.slug for s in job.skills] == ["devops"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "job.updated")).one()
    assert {"title", "kind", "visibility", "skills"} <= set(event.data["fields"])
    assert event.data["visibility_from"] == "cotech" and event.data["visibility_to"] == "public"


def test_edit_after_questions_deadline_keeps_that_deadline(poster_client, poster_coop, skills):
    """An open job whose questions deadline passed can still be edited without moving it."""
    job = make_job(poster_coop, "cotech", "open", skills=[skills["python"]])
    with frozen_now(job.questions_deadline + timedelta(hours=1)):
        data = {
            "title": "Still editable", "summary": job.summary, "kind": "tender",
            "skills": [str(skills["python"].id)], "budget_type": "fixed", "budget_min": "1",
            "currency": "GBP", "work_mode": "remote", "visibility": "cotech", "publish": "Save",
            "questions_deadline": local(job.questions_deadline), "bids_deadline": local(job.bids_deadline),
        }
        assert poster_client.post(f"/jobs/{job.id}/edit", data=data).status_code == 302
    db.session.refresh(job)
    assert job.title == "Still editable"


def test_closed_job_cannot_be_edited(poster_client, poster_coop):
    job = make_job(poster_coop, "cotech", "closed")
    response = poster_client.get(f"/jobs/{job.id}/edit")
    assert response.status_code == 302
    assert "can no longer be edited" in poster_client.get(response.headers["Location"]).get_data(as_text=True)


def test_other_coops_cannot_manage(client, poster_coop, networks):
    job = make_job(poster_coop, "cotech", "open")
    other = make_user(coops=[make_coop("Other", {networks["cotech"]: "active"})])
    login(client, other)
    assert client.get(f"/jobs/{job.id}").status_code == 200
    assert client.get(f"/jobs/{job.id}/edit").status_code == 403
    assert client.post(f"/jobs/{job.id}/withdraw", data={"reason": "x", "confirmed": "yes"}).status_code == 403
    db.session.refresh(job)
    assert job.state == "open"


def test_withdraw(poster_client, poster_coop):
    job = make_job(poster_coop, "public", "open")
    # The form's first POST asks to confirm: what will happen, who is told; nothing changes yet.
    asked = poster_client.post(f"/jobs/{job.id}/withdraw", data={"reason": "Client cancelled"})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Yes, withdraw the job" in page and "Client cancelled" in page
    assert "Nobody follows the job yet" in page and f'href="/jobs/{job.id}">Cancel</a>' in page
    db.session.refresh(job)
    assert job.state == "open"
    response = poster_client.post(f"/jobs/{job.id}/withdraw", data={"reason": "Client cancelled", "confirmed": "yes"})
    assert response.status_code == 302
    db.session.refresh(job)
    assert job.state == "withdrawn" and job.withdrawn_reason == "Client cancelled"
    page = poster_client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "withdrawn" in page and "Client cancelled" in page
    # a second withdraw is refused with a message, nothing changes
    again = poster_client.post(f"/jobs/{job.id}/withdraw", data={"reason": "again", "confirmed": "yes"},
                               follow_redirects=True)
    assert "Only a published job can be withdrawn" in again.get_data(as_text=True)
    assert audit_actions(job).count("job.withdrawn") == 1


def test_delete_draft_only(poster_client, poster_coop):
    draft = make_job(poster_coop, "cotech", "draft")
    published = make_job(poster_coop, "cotech", "open")
    draft_id, published_id = draft.id, published.id
    assert poster_client.post(f"/jobs/{draft_id}/delete").status_code == 302
    assert db.session.scalars(select(Job.id)).all() == [published_id]
    poster_client.post(f"/jobs/{published_id}/delete")
    assert db.session.scalars(select(Job.id)).all() == [published_id]
    assert draft_id != published_id


def test_public_history_and_full_history(client, poster_client, poster_coop, job_form):
    poster_client.post("/jobs/new", data=job_form)
    job = db.session.scalars(select(Job)).one()
    poster_page = poster_client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "created" in poster_page and "published" in poster_page
    job.visibility = "public"
    db.session.commit()
    anonymous = client.application.test_client().get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "published" in anonymous and "created" not in anonymous


def test_forms_need_csrf(csrf, poster_client, job_form):
    response = poster_client.post("/jobs/new", data=job_form)
    assert response.status_code == 400
    assert job_count() == 0
