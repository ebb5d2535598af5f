"""Dates across the British Summer Time change (Europe/London, the default zone): entered and
shown in local time, GMT in winter and BST in summer, stored in UTC; a time in the hour the
clocks skip is refused with its reason, never moved silently."""
from datetime import datetime

from sqlalchemy import select

from marketplace.core.time import frozen_now
from marketplace.extensions import db
from marketplace.jobs.models import Job

# The clocks go forward at 01:00 UTC on Sunday 28 March 2027 (01:00 GMT becomes 02:00 BST),
# and back at 01:00 UTC on Sunday 31 October 2027; New York's go back on 7 November.
BEFORE = datetime(2027, 3, 20, 12, 0)
BEFORE_OCTOBER = datetime(2027, 10, 20, 12, 0)


def test_deadlines_entered_either_side_of_the_change(poster_client, job_form):
    job_form.update(questions_deadline="2027-03-27T12:00", bids_deadline="2027-03-29T12:00",
                    start_date="2027-05-01")
    with frozen_now(BEFORE):
        response = poster_client.post("/jobs/new", data=job_form)
        assert response.status_code == 302, response.get_data(as_text=True)
        job = db.session.scalars(select(Job)).one()
        # noon GMT is 12:00 UTC; noon BST is 11:00 UTC
        assert (job.questions_deadline, job.bids_deadline) == (datetime(2027, 3, 27, 12), datetime(2027, 3, 29, 11))
        page = poster_client.get(f"/jobs/{job.id}").get_data(as_text=True)
        assert "27 Mar 2027, 12:00 GMT" in page and "29 Mar 2027, 12:00 BST" in page
        assert 'value="2027-03-29T12:00"' in poster_client.get(f"/jobs/{job.id}/edit").get_data(as_text=True)


def test_a_time_the_clocks_skip_is_refused(poster_client, job_form):
    job_form.update(questions_deadline="2027-03-27T12:00", bids_deadline="2027-03-28T01:30")
    with frozen_now(BEFORE):
        response = poster_client.post("/jobs/new", data=job_form)
    assert response.status_code == 422
    assert "That time does not exist here: the clocks go forward then." in response.get_data(as_text=True)
    assert db.session.scalars(select(Job)).all() == []


def _post(client, form):
    response = client.post("/jobs/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalars(select(Job).order_by(Job.id.desc())).first()


def test_deadlines_typed_are_read_in_the_users_zone(poster_client, poster, job_form):
    job_form.update(questions_deadline="2027-10-30T12:00", bids_deadline="2027-11-01T12:00", start_date="2027-12-01")
    with frozen_now(BEFORE_OCTOBER):
        job = _post(poster_client, job_form)
        assert (job.questions_deadline, job.bids_deadline) == (datetime(2027, 10, 30, 11), datetime(2027, 11, 1, 12))
        poster.time_zone = "America/New_York"
        db.session.commit()
        job_form.update(questions_deadline="2027-10-30T12:00", bids_deadline="2027-11-08T12:00")
        job = _post(poster_client, job_form)
        # EDT (UTC-4) before 7 November, EST (UTC-5) after
        assert (job.questions_deadline, job.bids_deadline) == (datetime(2027, 10, 30, 16), datetime(2027, 11, 8, 17))
        edit = poster_client.get(f"/jobs/{job.id}/edit").get_data(as_text=True)
        assert 'value="2027-10-30T12:00"' in edit and 'value="2027-11-08T12:00"' in edit


def test_dates_at_the_ends_of_the_calendar_are_refused_or_shown_never_a_500(poster_client, poster, job_form):
    """The first and last hours there are (years 1 and 9999) have no local time in zones ahead
    of or behind Greenwich: a deadline typed there is refused with its reason, and a job whose
    deadline is the last hour there is (the API takes it in UTC) is shown in UTC to a viewer in
    Tokyo rather than failing every page that lists it."""
    poster.time_zone = "Asia/Tokyo"
    db.session.commit()
    job_form.update(questions_deadline="0001-01-01T00:10", bids_deadline="2027-11-01T12:00", start_date="2027-12-01")
    with frozen_now(BEFORE_OCTOBER):
        response = poster_client.post("/jobs/new", data=job_form)
        assert response.status_code == 422
        assert "between the years 1 and 9999" in response.get_data(as_text=True)
        assert db.session.scalars(select(Job)).all() == []
        job_form.update(questions_deadline="2027-10-30T12:00", bids_deadline="2027-11-01T12:00")
        job = _post(poster_client, job_form)
        job.bids_deadline = datetime(9999, 12, 31, 23, 0)
        db.session.commit()
        for address in (f"/jobs/{job.id}", "/jobs", "/", f"/jobs/{job.id}/edit"):
            response = poster_client.get(address)
            assert response.status_code == 200, address
        assert "31 Dec 9999, 23:00 UTC" in poster_client.get(f"/jobs/{job.id}").get_data(as_text=True)
