"""Asking to join a co-op, and its admins approving or declining."""
import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditEvent
from marketplace.coops import services
from marketplace.coops.models import CoopMember, JoinRequest
from marketplace.extensions import db

from ..conftest import login
from ..factories import make_coop, make_user
from .conftest import audit_actions, audit_count, count, flashes, text


def requests_of(user):
    return db.session.scalars(select(JoinRequest).where(JoinRequest.user_id == user.id)).all()


def role_of(coop, user):
    return db.session.scalar(
        select(CoopMember.role).where(CoopMember.coop_id == coop.id, CoopMember.user_id == user.id))


@pytest.fixture
def asked(client, coop, stranger):
    """Sam has asked to join; the client is signed in as Sam."""
    login(client, stranger)
    response = client.post(f"/coops/{coop.slug}/join", data={"message": "We worked together on a project."})
    assert response.status_code == 302 and response.headers["Location"].endswith("/coops/join-requests")
    return requests_of(stranger)[0]


def test_ask_to_join(client, coop, stranger, asked):
    assert asked.status == "pending" and asked.message == "We worked together on a project."
    assert audit_actions() == ["join_request.created"]
    event = db.session.scalars(select(AuditEvent)).one()
    assert event.coop_id == coop.id and event.actor_id == stranger.id
    html = text(client.get("/coops/join-requests"))
    assert "Outlandish Bytes" in html and "Waiting for an answer" in html
    profile = text(client.get(f"/coops/{coop.slug}"))
    assert "have not answered yet" in profile and "Ask to join" not in profile


def test_the_message_is_optional(client, coop, stranger):
    login(client, stranger)
    assert "Ask to join Outlandish Bytes" in text(client.get(f"/coops/{coop.slug}/join"))
    assert client.post(f"/coops/{coop.slug}/join", data={}).status_code == 302
    assert requests_of(stranger)[0].message == ""


def test_a_second_request_is_refused(client, coop, stranger, asked):
    page = client.get(f"/coops/{coop.slug}/join")
    assert "have not answered yet" in text(page) and "<textarea" not in text(page)
    response = client.post(f"/coops/{coop.slug}/join", data={"message": "Again"})
    assert response.status_code == 422
    assert "You have already asked to join Outlandish Bytes" in text(response)
    assert len(requests_of(stranger)) == 1 and audit_count() == 1


def test_the_database_refuses_a_simultaneous_second_request(coop, stranger, monkeypatch):
    """Two requests sent at the same moment both pass the check; the partial unique index
    stops the second, and the user is told the same as for any second request."""
    services.request_to_join(coop, stranger, "first")
    db.session.commit()
    monkeypatch.setattr(services, "_pending_request", lambda coop, user: None)
    with pytest.raises(services.CoopRuleError, match="already asked to join"):
        services.request_to_join(coop, stranger, "second")
    db.session.commit()  # the session is still usable: the savepoint was rolled back
    assert [r.message for r in requests_of(stranger)] == ["first"]
    assert audit_actions() == ["join_request.created"]


def test_a_message_that_is_too_long_is_refused(client, coop, stranger):
    login(client, stranger)
    response = client.post(f"/coops/{coop.slug}/join", data={"message": "x" * 2001})
    assert response.status_code == 422 and "longer than 2000" in text(response)
    assert count(JoinRequest) == 0


def test_members_cannot_ask(client, coop, member):
    login(client, member)
    response = client.get(f"/coops/{coop.slug}/join", follow_redirects=True)
    assert "You are already a member of Outlandish Bytes." in flashes(response)
    client.post(f"/coops/{coop.slug}/join", data={"message": "me"})
    assert count(JoinRequest) == 0
    with pytest.raises(services.CoopRuleError, match="already a member"):
        services.request_to_join(coop, member)


def test_signing_in_is_needed(client, coop):
    response = client.post(f"/coops/{coop.slug}/join", data={"message": "hello"})
    assert "/login" in response.headers["Location"] and count(JoinRequest) == 0
    assert client.get("/coops/join-requests").status_code == 302
    assert client.get("/coops/no-such-coop/join").status_code in (302, 404)


def test_admin_approves(client, coop, admin, stranger, asked):
    login(client, admin)
    html = text(client.get(f"/coops/{coop.slug}/requests"))
    assert "Sam Stranger" in html and "We worked together on a project." in html
    response = client.post(f"/coops/{coop.slug}/requests/{asked.id}/approve", follow_redirects=True)
    assert "Sam Stranger is now a member." in flashes(response)
    assert "No requests are waiting" in text(response)
    db.session.refresh(asked)
    assert asked.status == "approved" and asked.decided_by_id == admin.id and asked.decided_at
    assert role_of(coop, stranger) == "member"
    assert audit_actions() == ["join_request.created", "coop.member_added", "join_request.approved"]
    login(client, stranger)
    assert "Approved" in text(client.get("/coops/join-requests"))
    assert "Ask to join" not in text(client.get(f"/coops/{coop.slug}"))


def test_admin_declines_and_the_user_may_ask_again(client, coop, admin, stranger, asked):
    login(client, admin)
    response = client.post(f"/coops/{coop.slug}/requests/{asked.id}/decline", follow_redirects=True)
    assert "The request from Sam Stranger was declined." in flashes(response)
    db.session.refresh(asked)
    assert asked.status == "declined" and role_of(coop, stranger) is None
    assert audit_actions()[-1] == "join_request.declined"
    # Answered once only.
    response = client.post(f"/coops/{coop.slug}/requests/{asked.id}/approve", follow_redirects=True)
    assert "This request has already been answered." in flashes(response)
    assert role_of(coop, stranger) is None
    login(client, stranger)
    assert "Declined" in text(client.get("/coops/join-requests"))
    assert client.post(f"/coops/{coop.slug}/join", data={"message": "Please?"}).status_code == 302
    assert sorted(r.status for r in requests_of(stranger)) == ["declined", "pending"]


def test_only_admins_answer_requests(client, coop, admin, member, stranger, asked):
    for user in (member, stranger):
        login(client, user)
        assert client.get(f"/coops/{coop.slug}/requests").status_code == 403
        assert client.post(f"/coops/{coop.slug}/requests/{asked.id}/approve").status_code == 403
        assert client.post(f"/coops/{coop.slug}/requests/{asked.id}/decline").status_code == 403
    db.session.refresh(asked)
    assert asked.status == "pending" and role_of(coop, stranger) is None
    other = make_coop("Elsewhere")
    login(client, make_user(coops={other: "admin"}))
    assert client.post(f"/coops/{other.slug}/requests/{asked.id}/approve").status_code == 404
