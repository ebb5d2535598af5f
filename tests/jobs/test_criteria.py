"""Evaluation criteria and nice-to-have requirements on the job form and in the API's job body:
the same rules (jobs.services.job_errors), shown on the job page, fixed once a bid is in."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.bids.models import Bid
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.jobs.models import Job, JobCriterion

from ..factories import bearer, make_coop, make_job
from .test_lifecycle import edit_data


def criteria_of(job):
    return [(c.name, c.weight) for c in db.session.scalars(
        select(JobCriterion).where(JobCriterion.job_id == job.id).order_by(JobCriterion.position))]


def test_post_a_job_with_criteria_and_nice_to_have_requirements(poster_client, job_form, client):
    job_form.update(criteria="Technical approach: 60\nCultural fit 20 %\n  Price – 20%  ",
                    requirements="Python 3", nice_to_have="Worked with a charity")
    check = dict(job_form, confirmed="")
    page = poster_client.post("/jobs/new", data=check).get_data(as_text=True)
    assert "Technical approach: 60 %" in page and "Worked with a charity" in page  # check your answers
    assert poster_client.post("/jobs/new", data=job_form).status_code == 302
    job = db.session.scalars(select(Job)).one()
    assert criteria_of(job) == [("Technical approach", 60), ("Cultural fit", 20), ("Price", 20)]
    assert [(r.text, r.kind) for r in job.requirements] == [("Python 3", "essential"),
                                                            ("Worked with a charity", "nice_to_have")]
    shown = poster_client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "How bids are evaluated" in shown and "<td>Technical approach</td><td>60 %</td>" in shown
    assert "Nice-to-have requirements" in shown
    edit = poster_client.get(f"/jobs/{job.id}/edit").get_data(as_text=True)
    assert "Technical approach: 60\nCultural fit: 20\nPrice: 20</textarea>" in edit


@pytest.mark.parametrize("criteria, message", [
    ("Technical: 60\nPrice: 30", "must add up to 100 %: they add up to 90 %"),
    ("Technical approach\nPrice: 100", "a whole number from 1 to 100"),
    ("Price: 0\nTechnical: 100", "a whole number from 1 to 100"),
    ("Price: 50\nprice: 50", "a different name"),
    ("\n".join(f"C{n}: 9" for n in range(11)), "at most 10 evaluation criteria"),
    ("x" * 121 + ": 100", "at most 120 characters"),
])
def test_bad_criteria_re_render_the_form(poster_client, job_form, criteria, message):
    job_form["criteria"] = criteria
    response = poster_client.post("/jobs/new", data=job_form)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalars(select(Job)).all() == []


def test_criteria_are_fixed_once_a_bid_is_in(poster_client, poster_coop, skills, networks):
    job = make_job(poster_coop, "cotech", "open", skills=[skills["python"]])
    assert poster_client.post(f"/jobs/{job.id}/edit", data=edit_data(
        job, skills, criteria="Quality: 70\nPrice: 30")).status_code == 302
    assert criteria_of(job) == [("Quality", 70), ("Price", 30)]
    db.session.add(Bid(job=job, coop=make_coop(memberships={networks["cotech"]: "active"}), status="submitted",
                       amount=10))
    db.session.commit()
    response = poster_client.post(f"/jobs/{job.id}/edit", data=edit_data(job, skills, criteria="Quality: 100"))
    assert response.status_code == 422 and "criteria can no longer change" in response.get_data(as_text=True)
    assert criteria_of(job) == [("Quality", 70), ("Price", 30)]
    # Unchanged criteria do not stand in the way of other changes.
    assert poster_client.post(f"/jobs/{job.id}/edit", data=edit_data(
        job, skills, criteria="Quality: 70\nPrice: 30", title="New title")).status_code == 302


def _later(days):
    return (utcnow() + timedelta(days=days)).replace(microsecond=0).isoformat() + "Z"


def _body(skills, **fields):
    return {"title": "API job", "summary": "Build a site.", "skills": [skills["python"].slug], "budget_min": 1000,
            "questions_deadline": _later(5), "bids_deadline": _later(10), "visibility": "cotech", **fields}


def test_api_job_criteria(client, poster, skills):
    headers = bearer(poster)
    created = client.post("/api/v1/jobs", headers=headers, json=_body(
        skills, criteria=[{"name": "Quality", "weight": 80}, {"name": "Price", "weight": 20}],
        nice_to_have=["Charity experience"]))
    assert created.status_code == 201, created.get_json()
    job_id = created.get_json()["id"]
    shown = client.get(f"/api/v1/jobs/{job_id}", headers=headers).get_json()
    assert [(c["name"], c["weight"]) for c in shown["criteria"]] == [("Quality", 80), ("Price", 20)]
    assert [(r["text"], r["kind"]) for r in shown["requirements"]] == [("Charity experience", "nice_to_have")]
    # A change that leaves criteria out keeps them; one that names them replaces them.
    assert client.patch(f"/api/v1/jobs/{job_id}", headers=headers, json={"title": "Renamed"}).status_code == 200
    assert criteria_of(db.session.get(Job, job_id)) == [("Quality", 80), ("Price", 20)]
    assert client.patch(f"/api/v1/jobs/{job_id}", headers=headers, json={"criteria": []}).status_code == 200
    assert criteria_of(db.session.get(Job, job_id)) == []


@pytest.mark.parametrize("criteria, field_message", [
    ([{"name": "Quality", "weight": 80}], "add up to 100 %"),
    ([{"name": "Quality", "weight": 101}, {"name": "Price", "weight": -1}], "from 1 to 100"),
    ([{"name": "", "weight": 100}], "a name"),
    ([{"name": "Quality", "weight": "100"}], "integer"),
    ([{"name": "Quality"}], "required"),
    ([{"name": "Quality", "weight": 100, "extra": 1}], "unknown field"),
])
def test_api_bad_criteria_are_422(client, poster, skills, criteria, field_message):
    response = client.post("/api/v1/jobs", headers=bearer(poster), json=_body(skills, criteria=criteria))
    assert response.status_code == 422, response.get_json()
    assert field_message in response.get_json()["error"]["fields"]["criteria"]
    assert db.session.scalars(select(Job)).all() == []
