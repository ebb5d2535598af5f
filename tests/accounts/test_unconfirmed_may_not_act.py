"""A user whose email address is not confirmed may look around, but may not join a co-op or act:
no co-op registered or joined, no job posted, no interest, question, bid or consortium, no API
token or API write. The web answers 403 with the reason and a way to get the link again, the
API a 403 error, and nothing is written."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.api.models import ApiToken
from marketplace.audit.models import AuditEvent
from marketplace.bids.models import Bid, Interest
from marketplace.consortia.models import Consortium, PartnerOffer
from marketplace.coops.models import Coop, CoopMember, JoinRequest
from marketplace.core.time import to_local, utcnow
from marketplace.extensions import db
from marketplace.federation.models import NetworkCoordinator
from marketplace.jobs.models import Job
from marketplace.questions.models import Question

from ..conftest import login
from ..factories import bearer, make_coop, make_job, make_user

CONFIRM_FIRST = "Confirm your email address first: we sent a link to una@example.coop"
WRITTEN = (Coop, CoopMember, JoinRequest, Job, Interest, Question, Bid, Consortium, PartnerOffer, ApiToken,
           NetworkCoordinator, AuditEvent)


def written():
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in WRITTEN}


@pytest.fixture
def place(networks, skills):
    poster = make_coop("Poster Co-op", {networks["cotech"]: "active"})
    ours = make_coop("Our Co-op", {networks["cotech"]: "active"})
    other = make_coop("Other Co-op", {networks["cotech"]: "active"})
    job = make_job(poster, "public", "open")
    team_job = make_job(poster, "public", "open", looking_for_partners=True)
    # Una's co-op is vetted: only her own unconfirmed address holds her back.
    una = make_user("Una Unconfirmed", email="una@example.coop", coops={ours: "admin"}, verified=False)
    vera = make_user("Vera Confirmed", email="vera@example.coop", coops={ours: "admin"})
    return {"job": job, "team_job": team_job, "ours": ours, "other": other, "una": una, "vera": vera, "skills": skills}


def attempts(place):
    job, team_job, ours, other = place["job"], place["team_job"], place["ours"], place["other"]
    now = utcnow()
    local = lambda moment: to_local(moment).strftime("%Y-%m-%dT%H:%M")  # noqa: E731
    bid_by = (now + timedelta(days=2)).date().isoformat()
    return [
        ("post", "/coops/new", {"name": "Una's Own Co-op", "description": "We make things.",
                                "skills": [str(place["skills"]["python"].id)]}),
        ("get", "/coops/new", None),
        ("post", f"/coops/{other.slug}/join", {"message": "Let me in"}),
        ("post", "/jobs/new", {
            "coop": str(ours.id), "title": "A new job", "summary": "Work to do.", "description": "",
            "skills": [str(place["skills"]["python"].id)],
            "kind": "tender", "budget_type": "fixed", "budget_min": "1000", "currency": "GBP",
            "work_mode": "remote", "questions_deadline": local(now + timedelta(days=7)),
            "bids_deadline": local(now + timedelta(days=14)), "visibility": "public", "publish": "Publish"}),
        ("post", f"/jobs/{job.id}/interest", {"coop": ours.id, "bid_by": bid_by}),
        ("post", f"/jobs/{job.id}/questions", {"coop": ours.id, "text": "May we ask?"}),
        ("post", f"/jobs/{job.id}/bid", {"coop": ours.id, "price_type": "fixed", "price": "100",
                                         "save_draft": "y"}),
        ("post", f"/consortia/new?job={team_job.id}", {"coop": ours.id, "name": "Una and friends"}),
        ("post", f"/jobs/{team_job.id}/partner-offer", {"coop": ours.id, "message": "We design."}),
        ("post", "/account/api-tokens", {"token-label": "scripts"}),
        ("post", "/feeds/tokens", {"label": "reader"}),
    ]


def test_the_web_refuses_each_action_with_the_reason(app, place):
    una = login(app.test_client(), place["una"])
    for method, url, data in attempts(place):
        before = written()
        response = getattr(una, method)(url, data=data)
        assert response.status_code == 403, (url, response.status_code)
        html = response.get_data(as_text=True)
        assert CONFIRM_FIRST in html, url
        assert "Send the link again" in html, url
        assert written() == before, url


def test_the_same_actions_are_open_to_a_confirmed_member(app, place):
    vera = login(app.test_client(), place["vera"])
    for method, url, data in attempts(place):
        response = getattr(vera, method)(url, data=data)
        assert response.status_code in (200, 302), (url, response.status_code)


def test_an_unconfirmed_user_may_still_look_and_see_to_their_account(app, place):
    una = login(app.test_client(), place["una"])
    job = place["job"]
    for url in ("/dashboard", "/account", "/jobs", f"/jobs/{job.id}", f"/coops/{place['other'].slug}",
                "/notifications/settings"):
        assert una.get(url).status_code == 200, url
    response = una.post("/account/name", data={"name-name": "Una U."})
    assert response.status_code == 302
    assert una.post("/logout").status_code == 302


def test_the_api_refuses_writes_with_403_and_still_reads(client, place):
    job = place["job"]
    headers = bearer(place["una"], "made before")  # e.g. a token made before the address changed
    bid_by = (utcnow() + timedelta(days=2)).date().isoformat()
    for method, url, body in [
        ("post", f"/api/v1/jobs/{job.id}/questions", {"text": "May we ask?"}),
        ("put", f"/api/v1/jobs/{job.id}/interest", {"bid_by": bid_by}),
        ("post", f"/api/v1/jobs/{job.id}/bids", {"amount": 100}),
        ("post", "/api/v1/jobs", {"title": "A job", "summary": "Work."}),
        ("post", f"/api/v1/jobs/{job.id}/publish", None),
    ]:
        before = written()
        response = getattr(client, method)(url, json=body, headers=headers)
        assert response.status_code == 403, (url, response.status_code)
        error = response.get_json()["error"]
        assert error["code"] == "email_unconfirmed"
        assert error["message"].startswith(CONFIRM_FIRST), url
        assert written() == before, url
    assert client.get("/api/v1/bids", headers=headers).status_code == 200
    assert client.get(f"/api/v1/jobs/{job.id}", headers=headers).status_code == 200


def test_a_coop_admin_cannot_add_an_unconfirmed_user(app, place):
    sam = make_user("Sam Stranger", email="sam@example.coop", verified=False)
    vera = login(app.test_client(), place["vera"])
    before = written()
    response = vera.post(f"/coops/{place['ours'].slug}/members", data={"email": sam.email, "role": "member"})
    assert response.status_code == 422
    assert "Sam Stranger has not confirmed their email address yet" in response.get_data(as_text=True)
    assert written() == before


def test_a_join_request_of_an_unconfirmed_user_cannot_be_approved(app, place):
    sam = make_user("Sam Stranger", email="sam@example.coop", verified=False)
    join_request = JoinRequest(coop=place["ours"], user=sam, message="")
    db.session.add(join_request)
    db.session.commit()
    vera = login(app.test_client(), place["vera"])
    response = vera.post(f"/coops/{place['ours'].slug}/requests/{join_request.id}/approve")
    assert response.status_code == 302
    assert "has not confirmed their email address yet" in vera.get(response.headers["Location"]).get_data(
        as_text=True)
    assert not db.session.get(type(sam), sam.id).is_member_of(place["ours"])
    # Declining is still possible.
    response = vera.post(f"/coops/{place['ours'].slug}/requests/{join_request.id}/decline")
    db.session.refresh(join_request)
    assert join_request.status == "declined"


def test_a_site_admin_cannot_make_an_unconfirmed_user_a_coordinator(app, place, networks):
    admin = make_user("Ada Admin", admin=True)
    site = login(app.test_client(), admin)
    response = site.post("/networks/cotech/coordinators", data={"email": "una@example.coop"})
    assert response.status_code == 422
    assert "has not confirmed their email address yet" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(NetworkCoordinator)) == 0
