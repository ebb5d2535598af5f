"""JSON API v1 writes and personal reads: jobs, questions, bids, interests, notifications."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.api.services import create_token, revoke_token
from marketplace.bids.models import Bid, Interest
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.jobs.models import Job, JobRequirement
from marketplace.notifications.models import Notification
from marketplace.questions.models import Question

from ..conftest import login
from ..factories import bearer, make_coop, make_job, make_user


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def later(days):
    return (utcnow() + timedelta(days=days)).replace(microsecond=0).isoformat() + "Z"


def job_body(known_skills, **fields):
    body = {"title": "API posted job", "summary": "Build a site.", "skills": [known_skills["python"].slug],
            "budget_min": 1000, "budget_max": 2000, "questions_deadline": later(5),
            "bids_deadline": later(10), "visibility": "cotech"}
    body.update(fields)
    return body


@pytest.fixture
def poster(networks):
    coop = make_coop("Poster Co-op", {networks["cotech"]: "active"})
    return make_user("Poster", coops=[coop])


@pytest.fixture
def bidder(networks):
    coop = make_coop("Bidder Co-op", {networks["cotech"]: "active"})
    return make_user("Bidder", coops=[coop])


def error_of(response, status, code):
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code and set(error) == {"code", "message", "fields"}
    return error


# --- jobs ------------------------------------------------------------------------------------

def test_create_job_as_draft_then_publish(client, poster, skills):
    headers = bearer(poster)
    response = client.post("/api/v1/jobs", json=job_body(skills, requirements=["Python 3"]), headers=headers)
    assert response.status_code == 201
    job = response.get_json()
    assert job["state"] == "draft" and job["published_at"] is None
    assert job["coop"]["slug"] == poster.coops[0].slug
    assert [s["slug"] for s in job["skills"]] == [skills["python"].slug]
    assert response.headers["Location"].endswith(f"/api/v1/jobs/{job['id']}")
    stored = db.session.get(Job, job["id"])
    assert [r.text for r in stored.requirements] == ["Python 3"]
    published = client.post(f"/api/v1/jobs/{job['id']}/publish", headers=headers)
    assert published.status_code == 200 and published.get_json()["state"] == "open"
    again = client.post(f"/api/v1/jobs/{job['id']}/publish", headers=headers)
    assert error_of(again, 409, "conflict")["message"] == "Only a draft can be published."


def test_create_job_published_at_once_with_utc_deadlines(client, poster, skills):
    deadline = (utcnow() + timedelta(days=10)).replace(second=0, microsecond=0)
    body = job_body(skills, publish=True, bids_deadline=(deadline + timedelta(hours=1)).isoformat() + "+01:00")
    response = client.post("/api/v1/jobs", json=body, headers=bearer(poster))
    assert response.status_code == 201
    assert response.get_json()["state"] == "open"
    assert response.get_json()["bids_deadline"] == deadline.isoformat() + "Z"


def test_create_job_field_errors_write_nothing(client, poster, skills):
    headers = bearer(poster)
    cases = [
        ({"skills": ["no-such-skill"]}, "skills"),
        ({"bids_deadline": "next tuesday"}, "bids_deadline"),
        # An offset that takes it before the first day there is (was a 500).
        ({"bids_deadline": "0001-01-01T00:00:00+01:00"}, "bids_deadline"),
        ({"bids_deadline": "9999-12-31T23:59:00-01:00"}, "bids_deadline"),
        ({"bids_deadline": (utcnow() - timedelta(days=1)).isoformat()}, "bids_deadline"),
        ({"budget_min": -5}, "budget_min"),
        ({"budget_min": "lots"}, "budget_min"),
        ({"title": "x" * 201}, "title"),
        ({"title": "   "}, "title"),
        ({"visibility": "secret"}, "visibility"),
        ({"start_date": "2020-01-01"}, "start_date"),
        ({"colour": "red"}, "colour"),
        ({"requirements": ["x" * 301]}, "requirements"),
        ({"title": "nul\x00byte"}, "title"),
    ]
    for fields, name in cases:
        response = client.post("/api/v1/jobs", json=job_body(skills, **fields), headers=headers)
        error = error_of(response, 422, "invalid")
        assert name in error["fields"], (fields, error)
    together = client.post("/api/v1/jobs", json=job_body(skills, skills=["nope"], budget_min=-1), headers=headers)
    assert set(error_of(together, 422, "invalid")["fields"]) == {"skills", "budget_min"}
    missing = client.post("/api/v1/jobs", json={"title": "Only a title"}, headers=headers)
    assert set(error_of(missing, 422, "invalid")["fields"]) >= {"summary", "skills", "bids_deadline"}
    assert count(Job) == 0


def test_create_job_needs_a_coop_choice_when_the_caller_has_several(client, networks, skills):
    first = make_coop("First Co-op", {networks["cotech"]: "active"})
    second = make_coop("Second Co-op", {networks["cotech"]: "active"})
    headers = bearer(make_user(coops=[first, second]))
    error = error_of(client.post("/api/v1/jobs", json=job_body(skills), headers=headers), 422, "invalid")
    assert "coop" in error["fields"]
    other = make_coop("Not Mine", {networks["cotech"]: "active"})
    refused = client.post("/api/v1/jobs", json=job_body(skills, coop=other.slug), headers=headers)
    assert "coop" in error_of(refused, 422, "invalid")["fields"]
    response = client.post("/api/v1/jobs", json=job_body(skills, coop=second.slug), headers=headers)
    assert response.status_code == 201 and response.get_json()["coop"]["slug"] == second.slug


def test_create_job_without_a_posting_coop_is_403(client, networks, skills):
    pending = make_coop("Pending", {networks["cotech"]: "pending"})
    response = client.post("/api/v1/jobs", json=job_body(skills), headers=bearer(make_user(coops=[pending])))
    error_of(response, 403, "forbidden")
    assert count(Job) == 0


def test_bad_json_is_400(client, poster):
    headers = {**bearer(poster), "Content-Type": "application/json"}
    for body in ("{not json", "[1, 2]", ""):
        error_of(client.post("/api/v1/jobs", data=body, headers=headers), 400, "bad_json")


def test_update_job_changes_only_the_given_fields(client, poster, skills):
    job = make_job(poster.coops[0], "cotech", "open", skills=[skills["python"]], title="Before")
    headers = bearer(poster)
    response = client.patch(f"/api/v1/jobs/{job.id}", json={"title": "After", "budget_max": None,
                                                           "skills": [skills["devops"].slug]},
                            headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["title"] == "After" and body["budget"]["max"] is None
    assert body["summary"] == "Build a thing for a client."
    assert [s["slug"] for s in body["skills"]] == [skills["devops"].slug]
    bad = client.patch(f"/api/v1/jobs/{job.id}", json={"budget_min": 10, "budget_max": 5}, headers=headers)
    assert "budget_max" in error_of(bad, 422, "invalid")["fields"]
    assert db.session.get(Job, job.id).budget_min == 1000


def test_update_job_keeps_a_passed_questions_deadline(client, poster, skills):
    """An open job past its questions deadline can still be edited (the site's rule)."""
    now = utcnow()
    job = make_job(poster.coops[0], "cotech", "open", skills=[skills["python"]],
                   questions_deadline=now - timedelta(days=1), bids_deadline=now + timedelta(days=3))
    response = client.patch(f"/api/v1/jobs/{job.id}", json={"summary": "Changed"}, headers=bearer(poster))
    assert response.status_code == 200 and response.get_json()["summary"] == "Changed"


def test_job_management_is_for_the_poster(client, poster, bidder, skills, networks):
    job = make_job(poster.coops[0], "cotech", "open", skills=[skills["python"]])
    hidden = make_job(poster.coops[0], "cotech", "draft", skills=[skills["python"]])
    headers = bearer(bidder)
    for url, method in ((f"/api/v1/jobs/{job.id}", "patch"), (f"/api/v1/jobs/{job.id}/withdraw", "post"),
                        (f"/api/v1/jobs/{job.id}/publish", "post")):
        error_of(getattr(client, method)(url, json={}, headers=headers), 403, "forbidden")
    error_of(client.patch(f"/api/v1/jobs/{hidden.id}", json={}, headers=headers), 404, "not_found")
    error_of(client.patch("/api/v1/jobs/99999999999", json={}, headers=headers), 404, "not_found")


def test_withdraw_job_with_reason_and_closed_job_refused(client, poster, skills):
    headers = bearer(poster)
    job = make_job(poster.coops[0], "cotech", "open", skills=[skills["python"]])
    response = client.post(f"/api/v1/jobs/{job.id}/withdraw", json={"reason": "Funding fell through"},
                           headers=headers)
    assert response.status_code == 200 and response.get_json()["state"] == "withdrawn"
    assert db.session.get(Job, job.id).withdrawn_reason == "Funding fell through"
    closed = make_job(poster.coops[0], "cotech", "closed", skills=[skills["python"]])
    error_of(client.post(f"/api/v1/jobs/{closed.id}/withdraw", headers=headers), 409, "conflict")
    error_of(client.patch(f"/api/v1/jobs/{job.id}", json={"title": "Late"}, headers=headers), 409, "conflict")
    open_job = make_job(poster.coops[0], "cotech", "open", skills=[skills["python"]])
    too_long = client.post(f"/api/v1/jobs/{open_job.id}/withdraw", json={"reason": "x" * 2001}, headers=headers)
    assert "reason" in error_of(too_long, 422, "invalid")["fields"]
    assert db.session.get(Job, open_job.id).status == "published"


# --- questions -------------------------------------------------------------------------------

def test_ask_question_and_read_the_panel(client, poster, bidder, skills):
    job = make_job(poster.coops[0], "cotech", "open", skills=[skills["python"]])
    response = client.post(f"/api/v1/jobs/{job.id}/questions", json={"text": "Is hosting included?"},
                           headers=bearer(bidder))
    assert response.status_code == 201
    question = response.get_json()
    assert question["text"] == "Is hosting included?" and question["answer"] is None
    mine = client.get(f"/api/v1/jobs/{job.id}/questions", headers=bearer(bidder)).get_json()
    assert [q["id"] for q in mine["pending"]] == [question["id"]]
    assert mine["pending"][0]["coop"] is None  # the asker is shown to the poster alone
    posters = client.get(f"/api/v1/jobs/{job.id}/questions", headers=bearer(poster)).get_json()
    assert posters["pending"][0]["coop"]["slug"] == bidder.coops[0].slug
    other = make_user(coops=[make_coop("Other", {"cotech": "active"})])
    assert client.get(f"/api/v1/jobs/{job.id}/questions", headers=bearer(other)).get_json() == \
        {"answered": [], "pending": []}
    assert client.get(f"/api/v1/jobs/{job.id}/questions").status_code == 404  # anonymous: cotech job
    blank = client.post(f"/api/v1/jobs/{job.id}/questions", json={"text": "  "}, headers=bearer(bidder))
    assert "text" in error_of(blank, 422, "invalid")["fields"]
    own = client.post(f"/api/v1/jobs/{job.id}/questions", json={"text": "Hm?"}, headers=bearer(poster))
    error_of(own, 403, "forbidden")
    assert count(Question) == 1


def test_question_after_the_deadline_is_409(client, poster, bidder, skills):
    now = utcnow()
    job = make_job(poster.coops[0], "cotech", "open", skills=[skills["python"]],
                   questions_deadline=now - timedelta(hours=1), bids_deadline=now + timedelta(days=2))
    response = client.post(f"/api/v1/jobs/{job.id}/questions", json={"text": "Late?"}, headers=bearer(bidder))
    error_of(response, 409, "conflict")
    assert count(Question) == 0


# --- bids ------------------------------------------------------------------------------------

def _bid_job(poster, skills, requirement=None):
    job = make_job(poster.coops[0], "cotech", "open", skills=[skills["python"]])
    if requirement:
        job.requirements = [JobRequirement(text=requirement, position=0)]
        db.session.commit()
    return job


def test_bid_draft_edit_submit_and_withdraw(client, poster, bidder, skills):
    job = _bid_job(poster, skills, requirement="Accessibility audits")
    requirement_id = job.requirements[0].id
    headers = bearer(bidder)
    draft = client.post(f"/api/v1/jobs/{job.id}/bids", json={"amount": 4000}, headers=headers)
    assert draft.status_code == 201, draft.get_json()
    bid = draft.get_json()
    assert bid["status"] == "draft" and bid["amount"] == 4000
    assert draft.headers["Location"].endswith(f"/api/v1/bids/{bid['id']}")
    incomplete = client.patch(f"/api/v1/bids/{bid['id']}", json={"submit": True}, headers=headers)
    assert "available_from" in error_of(incomplete, 422, "invalid")["fields"]
    assert db.session.get(Bid, bid["id"]).status == "draft"
    start = (utcnow() + timedelta(days=30)).date().isoformat()
    submitted = client.patch(f"/api/v1/bids/{bid['id']}", json={
        "available_from": start, "proposal": "We will do it well.", "submit": True,
        "answers": [{"requirement_id": requirement_id, "answer": "Yes, monthly."}],
    }, headers=headers)
    assert submitted.status_code == 200, submitted.get_json()
    body = submitted.get_json()
    assert body["status"] == "submitted" and body["amount"] == 4000 and body["available_from"] == start
    assert body["answers"] == [{"requirement_id": requirement_id, "answer": "Yes, monthly."}]
    # The poster was told, the count only.
    assert db.session.scalar(select(Notification.kind).where(Notification.user_id == poster.id)) == "bid_received"
    # A second POST edits the co-op's one live bid.
    again = client.post(f"/api/v1/jobs/{job.id}/bids", json={"amount": 3900}, headers=headers)
    assert again.status_code == 200 and again.get_json()["id"] == bid["id"]
    listed = client.get("/api/v1/bids", headers=headers).get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == bid["id"]
    withdrawn = client.post(f"/api/v1/bids/{bid['id']}/withdraw", headers=headers)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
    error_of(client.post(f"/api/v1/bids/{bid['id']}/withdraw", headers=headers), 409, "conflict")


def test_bid_field_errors(client, poster, bidder, skills):
    job = _bid_job(poster, skills)
    headers = bearer(bidder)
    for fields, name in (({"amount": 0}, "amount"), ({"price_type": "barter"}, "price_type"),
                         ({"price_type": "day_rate", "amount": 500, "days": 0}, "days"),
                         ({"available_from": "2001-01-01"}, "available_from"),
                         ({"amount": "cheap"}, "amount"), ({"proposal": "x" * 20001}, "proposal")):
        response = client.post(f"/api/v1/jobs/{job.id}/bids", json=fields, headers=headers)
        assert name in error_of(response, 422, "invalid")["fields"], fields
    assert count(Bid) == 0


def test_bids_are_seen_by_their_coop_only(client, poster, bidder, skills, networks):
    job = _bid_job(poster, skills)
    bid = client.post(f"/api/v1/jobs/{job.id}/bids", json={"amount": 100}, headers=bearer(bidder)).get_json()
    rival = make_user(coops=[make_coop("Rival", {networks["cotech"]: "active"})])
    for user in (rival, poster):  # the poster sees no bid before bids close
        headers = bearer(user)
        error_of(client.get(f"/api/v1/bids/{bid['id']}", headers=headers), 404, "not_found")
        error_of(client.patch(f"/api/v1/bids/{bid['id']}", json={"amount": 1}, headers=headers), 404, "not_found")
        error_of(client.post(f"/api/v1/bids/{bid['id']}/withdraw", headers=headers), 404, "not_found")
        assert client.get("/api/v1/bids", headers=headers).get_json()["items"] == []
    assert client.get(f"/api/v1/bids/{bid['id']}", headers=bearer(bidder)).get_json()["id"] == bid["id"]
    # A co-op cannot bid on its own job.
    error_of(client.post(f"/api/v1/jobs/{job.id}/bids", json={}, headers=bearer(poster)), 403, "forbidden")


def test_bids_list_paginates(client, poster, bidder, skills):
    headers = bearer(bidder)
    for _ in range(3):
        job = _bid_job(poster, skills)
        assert client.post(f"/api/v1/jobs/{job.id}/bids", json={}, headers=headers).status_code == 201
    body = client.get("/api/v1/bids?per_page=2&page=2", headers=headers).get_json()
    assert body["total"] == 3 and body["page"] == 2 and body["per_page"] == 2 and len(body["items"]) == 1
    error_of(client.get("/api/v1/bids?per_page=0", headers=headers), 400, "bad_parameter")


# --- interests -------------------------------------------------------------------------------

def test_register_move_and_withdraw_interest(client, poster, bidder, skills):
    job = _bid_job(poster, skills)
    headers = bearer(bidder)
    by = (utcnow() + timedelta(days=3)).date().isoformat()
    response = client.put(f"/api/v1/jobs/{job.id}/interest", json={"bid_by": by}, headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"job_id": job.id, "coop": {"slug": bidder.coops[0].slug,
                                                             "name": bidder.coops[0].name},
                                   "bid_by": by, "state": "active"}
    moved = (utcnow() + timedelta(days=4)).date().isoformat()
    assert client.put(f"/api/v1/jobs/{job.id}/interest", json={"bid_by": moved},
                      headers=headers).get_json()["bid_by"] == moved
    assert count(Interest) == 1
    late = client.put(f"/api/v1/jobs/{job.id}/interest", json={"bid_by": "2999-01-01"}, headers=headers)
    assert "bid_by" in error_of(late, 422, "invalid")["fields"]
    assert client.delete(f"/api/v1/jobs/{job.id}/interest", headers=headers).status_code == 204
    assert count(Interest) == 0
    error_of(client.delete(f"/api/v1/jobs/{job.id}/interest", headers=headers), 409, "conflict")


# --- notifications ---------------------------------------------------------------------------

def test_notifications_list_and_read(client, poster, bidder, skills):
    job = _bid_job(poster, skills)
    client.post(f"/api/v1/jobs/{job.id}/questions", json={"text": "When?"}, headers=bearer(bidder))
    headers = bearer(poster)
    body = client.get("/api/v1/notifications", headers=headers).get_json()
    assert body["total"] == 1 and body["items"][0]["kind"] == "question_asked"
    notification = body["items"][0]
    assert notification["read_at"] is None and notification["job_id"] == job.id
    read = client.post(f"/api/v1/notifications/{notification['id']}/read", headers=headers)
    assert read.status_code == 200 and read.get_json()["read_at"] is not None
    # Another user's notification is as if it did not exist.
    error_of(client.post(f"/api/v1/notifications/{notification['id']}/read", headers=bearer(bidder)),
             404, "not_found")
    assert client.get("/api/v1/notifications", headers=bearer(bidder)).get_json()["items"] == []


def test_notifications_about_jobs_no_longer_visible_are_not_listed(client, networks, skills, poster):
    member = make_coop("Leaving Co-op", {networks["cotech"]: "active"})
    user = make_user(coops=[member])
    job = _bid_job(poster, skills)
    db.session.add(Notification(user_id=user.id, kind="job_changed", job_id=job.id, message="Changed", url="/"))
    db.session.commit()
    headers = bearer(user)
    assert client.get("/api/v1/notifications", headers=headers).get_json()["total"] == 1
    member.memberships[0].status = "pending"
    db.session.commit()
    body = client.get("/api/v1/notifications", headers=headers).get_json()
    assert body["total"] == 0 and body["items"] == []
    notification_id = db.session.scalar(select(Notification.id))
    error_of(client.post(f"/api/v1/notifications/{notification_id}/read", headers=headers), 404, "not_found")


# --- authentication --------------------------------------------------------------------------

WRITES = [
    ("post", "/api/v1/jobs"), ("patch", "/api/v1/jobs/{job}"), ("post", "/api/v1/jobs/{job}/publish"),
    ("post", "/api/v1/jobs/{job}/withdraw"), ("post", "/api/v1/jobs/{job}/questions"),
    ("post", "/api/v1/jobs/{job}/bids"), ("patch", "/api/v1/bids/{bid}"),
    ("post", "/api/v1/bids/{bid}/withdraw"), ("put", "/api/v1/jobs/{job}/interest"),
    ("delete", "/api/v1/jobs/{job}/interest"), ("post", "/api/v1/notifications/{notification}/read"),
    ("get", "/api/v1/bids"), ("get", "/api/v1/bids/{bid}"), ("get", "/api/v1/notifications"),
]


@pytest.fixture
def targets(poster, bidder, skills):
    job = _bid_job(poster, skills)
    bid = Bid(job=job, coop=bidder.coops[0], status="draft")
    notification = Notification(user_id=bidder.id, kind="job_changed", job_id=job.id, message="m", url="/")
    db.session.add_all([bid, notification])
    db.session.commit()
    return {"job": job.id, "bid": bid.id, "notification": notification.id}


@pytest.mark.parametrize("method,url", WRITES)
def test_a_cookie_session_cannot_write_or_read_personal_data(client, bidder, targets, method, url):
    login(client, bidder)
    before = (count(Job), count(Bid), count(Question), count(Interest))
    response = getattr(client, method)(url.format(**targets), json={"amount": 5, "text": "Q?"})
    error = error_of(response, 401, "token_required")
    assert error["message"] and response.headers["WWW-Authenticate"] == "Bearer"
    assert (count(Job), count(Bid), count(Question), count(Interest)) == before
    assert db.session.get(Notification, targets["notification"]).read_at is None


@pytest.mark.parametrize("method,url", WRITES)
def test_a_revoked_token_is_401(client, bidder, targets, method, url):
    token, plain = create_token(bidder, "test")
    revoke_token(token, bidder)
    db.session.commit()
    response = getattr(client, method)(url.format(**targets), json={},
                                       headers={"Authorization": f"Bearer {plain}"})
    error_of(response, 401, "unauthorized")


@pytest.mark.parametrize("module", ["writes", "bidding", "files"])
def test_every_write_route_is_described(app, module):
    """The module's routes and its OpenAPI path items name the same operations."""
    import importlib

    writes = importlib.import_module(f"marketplace.api.{module}")
    routed = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if view.__module__ == writes.__name__:
            path = rule.rule.removeprefix("/api/v1").replace("<int:", "{").replace(">", "}")
            routed |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    described = {(path, method) for path, item in writes.PATHS.items() for method in item}
    assert routed and routed == described
    for path, item in writes.PATHS.items():
        for method, operation in item.items():
            assert operation["security"], (path, method)
            assert "401" in operation["responses"], (path, method)
