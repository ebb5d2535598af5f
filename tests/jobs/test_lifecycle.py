"""The job lifecycle with bidding: essential requirements on the job form, the awarded and
cancelled states (derived in one place, for Python and SQL), and followers told of changes."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from marketplace.bids.models import Bid, Interest
from marketplace.core.time import frozen_now, utcnow
from marketplace.extensions import db
from marketplace.jobs.models import Job, JobRequirement, JobState
from marketplace.notifications.models import Notification

from ..factories import make_coop, make_job, make_user
from .conftest import local


def requirement_texts(job):
    return [r.text for r in db.session.scalars(
        select(JobRequirement).where(JobRequirement.job_id == job.id).order_by(JobRequirement.position))]


def edit_data(job, skills, **changes):
    data = {
        "title": job.title, "summary": job.summary, "kind": "tender", "skills": [str(skills["python"].id)],
        "budget_type": "fixed", "budget_min": "1000", "currency": "GBP", "work_mode": "remote",
        "visibility": job.visibility, "publish": "Save",
        "questions_deadline": local(job.questions_deadline), "bids_deadline": local(job.bids_deadline),
    }
    data.update(changes)
    return data


def test_post_a_job_with_requirements(poster_client, job_form):
    job_form["requirements"] = "WCAG 2.2 AA\n\n  Python 3  \nWorked with a co-op before"
    assert poster_client.post("/jobs/new", data=job_form).status_code == 302
    job = db.session.scalars(select(Job)).one()
    assert requirement_texts(job) == ["WCAG 2.2 AA", "Python 3", "Worked with a co-op before"]
    page = poster_client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Essential requirements" in page and "Worked with a co-op before" in page


@pytest.mark.parametrize("requirements, message", [
    ("\n".join(f"Requirement {n}" for n in range(11)), "at most 10 essential requirements"),
    ("x" * 301, "at most 300 characters"),
])
def test_bad_requirements(poster_client, job_form, requirements, message):
    job_form["requirements"] = requirements
    response = poster_client.post("/jobs/new", data=job_form)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalars(select(Job)).all() == []


def test_editing_requirements_keeps_the_ones_kept(poster_client, poster_coop, skills):
    job = make_job(poster_coop, "cotech", "open", skills=[skills["python"]])
    db.session.add_all([JobRequirement(job=job, position=0, text="A"), JobRequirement(job=job, position=1, text="B")])
    db.session.commit()
    kept = db.session.scalar(select(JobRequirement.id).where(JobRequirement.text == "B"))
    form = poster_client.get(f"/jobs/{job.id}/edit").get_data(as_text=True)
    assert "A\nB</textarea>" in form
    response = poster_client.post(f"/jobs/{job.id}/edit", data=edit_data(job, skills, requirements="B\nC"))
    assert response.status_code == 302
    assert requirement_texts(job) == ["B", "C"]
    assert db.session.scalar(select(JobRequirement.id).where(JobRequirement.text == "B")) == kept


def test_requirements_are_fixed_once_a_bid_is_in(poster_client, poster_coop, skills, networks):
    job = make_job(poster_coop, "cotech", "open", skills=[skills["python"]])
    db.session.add(JobRequirement(job=job, position=0, text="A"))
    db.session.add(Bid(job=job, coop=make_coop(memberships={networks["cotech"]: "active"}), status="submitted",
                       amount=10))
    db.session.commit()
    response = poster_client.post(f"/jobs/{job.id}/edit", data=edit_data(job, skills, requirements="A\nB"))
    assert response.status_code == 422 and "can no longer change" in response.get_data(as_text=True)
    assert requirement_texts(job) == ["A"]
    # Other changes still go through.
    response = poster_client.post(f"/jobs/{job.id}/edit", data=edit_data(job, skills, requirements="A",
                                                                          title="New title"))
    assert response.status_code == 302


@pytest.mark.parametrize("status, state", [("awarded", JobState.AWARDED), ("cancelled", JobState.CANCELLED)])
def test_awarded_and_cancelled_states_in_python_and_sql(poster_coop, status, state):
    job = make_job(poster_coop, "public", "closed", status=status)
    assert job.state == state
    assert db.session.scalar(select(Job.state).where(Job.id == job.id)) == state.value
    assert not job.is_open and job.bids_closed


def test_state_filters(client, poster_coop):
    for status, title in (("awarded", "Won"), ("cancelled", "Called off")):
        make_job(poster_coop, "public", "closed", status=status, title=title)
    make_job(poster_coop, "public", "closed", title="Closed one")
    make_job(poster_coop, "public", "open", title="Open one")

    def titles(state):
        html = client.get(f"/jobs?state={state}").get_data(as_text=True)
        return {t for t in ("Won", "Called off", "Closed one", "Open one") if f">{t}</a>" in html}

    assert titles("awarded") == {"Won"}
    assert titles("cancelled") == {"Called off"}
    assert titles("closed") == {"Closed one"}
    assert titles("open") == {"Open one"}
    assert titles("any") == {"Won", "Called off", "Closed one", "Open one"}


def test_followers_are_told_of_changes(poster_client, poster, poster_coop, networks, skills):
    cotech = networks["cotech"]
    job = make_job(poster_coop, "cotech", "open", skills=[skills["python"]])
    interested, bidder, lapsed, bystander = (make_coop(memberships={cotech: "active"}) for _ in range(4))
    users = {name: make_user(coops=[coop]) for name, coop in
             (("interested", interested), ("bidder", bidder), ("lapsed", lapsed), ("bystander", bystander))}
    db.session.add_all([
        Interest(job=job, coop=interested, bid_by=job.bids_deadline.date()),
        Interest(job=job, coop=lapsed, bid_by=date(2020, 1, 1)),
        Bid(job=job, coop=bidder, status="draft"),
    ])
    db.session.commit()
    poster_client.post(f"/jobs/{job.id}/edit", data=edit_data(job, skills, budget_min="2000"))
    told = {name for name, user in users.items() if db.session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.kind == "job_changed")).all()}
    assert told == {"interested", "bidder"}
    note = db.session.scalars(select(Notification).where(Notification.kind == "job_changed")).first()
    assert "budget min" in note.message
    # The poster's own co-op is not told about its own change.
    assert db.session.scalars(select(Notification).where(Notification.user_id == poster.id)).all() == []


def test_editing_a_draft_tells_nobody(poster_client, poster_coop, networks, skills):
    job = make_job(poster_coop, "cotech", "draft", skills=[skills["python"]])
    poster_client.post(f"/jobs/{job.id}/edit", data=edit_data(job, skills, title="Renamed", publish=None,
                                                               save_draft="Save as draft"))
    assert db.session.scalars(select(Notification)).all() == []


def test_withdrawing_after_the_deadline_is_refused(poster_client, poster_coop):
    job = make_job(poster_coop, "public", "open")
    with frozen_now(job.bids_deadline + timedelta(seconds=1)):
        page = poster_client.post(f"/jobs/{job.id}/withdraw", data={"reason": "x", "confirmed": "yes"},
                                  follow_redirects=True)
        assert "cancel the job with a reason" in page.get_data(as_text=True)
    db.session.refresh(job)
    assert job.status == "published" and utcnow() < job.bids_deadline
