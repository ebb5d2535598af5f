"""Idempotency-Key on the API's writes: a retried write is not done twice, and answers what the
first answered; a key reused for another request, a retry while the first is being worked on,
a malformed key and an expired one each get their own answer."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.api.models import IdempotentRequest
from marketplace.api.services import create_token
from marketplace.audit.models import AuditEvent
from marketplace.core.time import frozen_now, utcnow
from marketplace.extensions import db
from marketplace.jobs.models import Job

from ..factories import bearer, make_coop, make_user
from ..servers import at_once, gunicorn
from .test_writes import error_of, job_body


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def poster(networks):
    return make_user("Poster", coops=[make_coop("Poster Co-op", {networks["cotech"]: "active"})])


def post_job(client, user, body, key):
    return client.post("/api/v1/jobs", json=body, headers={**bearer(user), "Idempotency-Key": key})


def test_a_retried_post_is_done_once_and_answered_as_the_first(client, poster, skills):
    body = job_body(skills)
    first = post_job(client, poster, body, "7f3c2a")
    again = post_job(client, poster, body, "7f3c2a")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert count(Job) == 1 and count(AuditEvent, AuditEvent.action == "job.created") == 1


def test_every_write_takes_a_key(client, poster, skills):
    """A PATCH and a POST action, each retried: one change, one audit event each."""
    job_id = post_job(client, poster, job_body(skills), "create").get_json()["id"]
    for _ in range(2):
        edit = client.patch(f"/api/v1/jobs/{job_id}", json={"title": "Edited once"},
                            headers={**bearer(poster), "Idempotency-Key": "edit-1"})
        publish = client.post(f"/api/v1/jobs/{job_id}/publish",
                              headers={**bearer(poster), "Idempotency-Key": "publish-1"})
        assert edit.status_code == 200 and publish.status_code == 200, (edit.get_json(), publish.get_json())
    assert count(AuditEvent, AuditEvent.action == "job.updated") == 1
    assert count(AuditEvent, AuditEvent.action == "job.published") == 1


def test_a_key_reused_for_another_request_is_refused(client, poster, skills):
    post_job(client, poster, job_body(skills), "k1")
    error_of(post_job(client, poster, job_body(skills, title="Another job"), "k1"), 422, "idempotency_key_reused")
    assert count(Job) == 1


def test_a_refused_write_is_not_kept_so_the_fixed_retry_runs(client, poster, skills):
    error_of(post_job(client, poster, job_body(skills, budget_min=-5), "k2"), 422, "invalid")
    assert count(IdempotentRequest) == 0
    assert post_job(client, poster, job_body(skills), "k2").status_code == 201


def test_keys_belong_to_their_caller(client, poster, skills, networks):
    other = make_user("Other", coops=[make_coop("Other Co-op", {networks["cotech"]: "active"})])
    body = job_body(skills)
    assert post_job(client, poster, body, "same").status_code == 201
    assert post_job(client, other, body, "same").status_code == 201
    assert count(Job) == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "clé"])
def test_a_malformed_key_is_a_400(client, poster, skills, key):
    error_of(post_job(client, poster, job_body(skills), key), 400, "bad_idempotency_key")
    assert count(Job) == 0


def test_a_key_is_kept_for_a_day(client, poster, skills):
    body = job_body(skills)
    post_job(client, poster, body, "daily")
    with frozen_now(utcnow() + timedelta(hours=25)):
        body = job_body(skills)  # deadlines still ahead of the clock
        assert post_job(client, poster, body, "daily").status_code == 201
    assert count(Job) == 2


def test_a_retry_while_the_first_is_worked_on_is_a_409_until_it_died(client, poster, skills):
    body = job_body(skills, title="Slow job")
    assert post_job(client, poster, body, "slow").status_code == 201
    # As if that first request were still running (claimed, no answer yet) …
    claim = db.session.scalar(select(IdempotentRequest).where(IdempotentRequest.key == "slow"))
    claim.status, claim.body, claim.claimed_at = None, None, utcnow()
    db.session.execute(Job.__table__.delete())
    db.session.commit()
    error_of(post_job(client, poster, body, "slow"), 409, "idempotency_key_in_use")
    assert count(Job) == 0
    # … and as if its worker had been killed before committing: after a while a retry takes over.
    with frozen_now(utcnow() + timedelta(minutes=2)):
        assert post_job(client, poster, body, "slow").status_code == 201
    assert count(Job) == 1


def test_the_same_key_sent_at_once_from_several_processes_makes_one_job(app, tmp_path, poster, skills):
    _, token = create_token(poster, "script")
    db.session.commit()
    body = job_body(skills)
    with gunicorn(app, tmp_path) as base:
        answers = at_once(base, [("POST", "/api/v1/jobs", body, token, {"Idempotency-Key": "burst"})] * 6)
        settled = at_once(base, [("POST", "/api/v1/jobs", body, token, {"Idempotency-Key": "burst"})])
    statuses = sorted(status for status, _ in answers)
    assert set(statuses) <= {201, 409} and statuses.count(201) >= 1, answers
    assert {b["id"] for s, b in answers if s == 201} == {settled[0][1]["id"]} and settled[0][0] == 201
    db.session.expire_all()
    assert count(Job) == 1
