""""Check your answers" before publishing a job, without JavaScript: the page lists what was
typed with "Change" buttons that go back to the form with nothing lost, and only its final
button publishes. Drafts are saved at once, as before."""
import re
from html import unescape

from werkzeug.datastructures import MultiDict

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.jobs.models import Job


def _jobs():
    return db.session.scalar(select(func.count()).select_from(Job))


def _carried(page):
    """The check page's hidden fields, as a browser would send them back."""
    return [(unescape(name), unescape(value))
            for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)]


def test_publishing_shows_the_answers_first_and_publishes_only_when_confirmed(poster_client, job_form):
    job_form.pop("confirmed")
    job_form.update(requirements="WCAG 2.2 AA\nPython 3", location="Leeds & Bradford", work_mode="hybrid")
    response = poster_client.post("/jobs/new", data=job_form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and _jobs() == 0
    assert "Check your job before publishing" in page
    for shown in ("Accessible booking system", "£8,000 to £12,000", "Leeds &amp; Bradford", "WCAG 2.2 AA\nPython 3",
                  "Change<span class=\"visually-hidden\"> title</span>"):
        assert shown in page, shown
    carried = _carried(page)
    assert ("location", "Leeds & Bradford") in carried and ("description", job_form["description"]) in carried

    # "Change": back to the form, filled in as it was, without error messages.
    form = poster_client.post("/jobs/new", data=MultiDict(carried + [("confirmed", "yes"), ("change", "title")]))
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and _jobs() == 0
    assert 'value="Accessible booking system"' in html and "WCAG 2.2 AA\nPython 3</textarea>" in html
    assert 'class="errors"' not in html

    # The final button publishes what was checked.
    published = poster_client.post("/jobs/new", data=MultiDict(carried + [("confirmed", "yes"), ("publish", "Publish")]))
    assert published.status_code == 302 and _jobs() == 1
    job = db.session.scalars(select(Job)).one()
    assert (job.status, job.location, [r.text for r in job.requirements]) == (
        "published", "Leeds & Bradford", ["WCAG 2.2 AA", "Python 3"])


def test_bad_answers_show_the_form_not_the_check_page(poster_client, job_form):
    job_form.pop("confirmed")
    job_form["title"] = ""
    response = poster_client.post("/jobs/new", data=job_form)
    assert response.status_code == 422 and "Check your job" not in response.get_data(as_text=True)


def test_a_draft_is_saved_at_once_and_checked_when_published(poster_client, job_form):
    job_form.pop("confirmed")
    job_form.pop("publish")
    job_form["save_draft"] = "Save as draft"
    assert poster_client.post("/jobs/new", data=job_form).status_code == 302
    job = db.session.scalars(select(Job)).one()
    assert job.status == "draft"
    job_form.pop("save_draft")
    job_form["publish"] = "Publish"
    page = poster_client.post(f"/jobs/{job.id}/edit", data=job_form).get_data(as_text=True)
    assert "Check your job before publishing" in page
    db.session.refresh(job)
    assert job.status == "draft"
    assert poster_client.post(f"/jobs/{job.id}/edit", data=MultiDict(_carried(page) + [("confirmed", "yes")])).status_code == 302
    db.session.refresh(job)
    assert job.status == "published"
