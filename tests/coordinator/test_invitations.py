"""Inviting co-ops to bid: over HTTP, with notifications, answers, and audit events."""
from sqlalchemy import select

from marketplace.audit.models import AuditEvent
from marketplace.coordinator.models import Invitation
from marketplace.extensions import db
from marketplace.mail import outbox
from marketplace.notifications.models import Notification

from ..factories import make_job, make_user
from .conftest import client_for, member_coop


def _events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def _world(networks, many_skills, poster_coop):
    s = many_skills
    invitee = member_coop("Invitee Co-op", networks, [s["python"]])
    other = member_coop("Other Co-op", networks, [s["python"]])
    members = [make_user("Ivy Invitee", coops={invitee: "admin"}), make_user("Ian Invitee", coops=[invitee])]
    outsider = make_user("Otto Other", coops=[other])
    job = make_job(poster_coop, "cotech", skills=[s["python"]], title="Accessible booking system")
    return invitee, other, members, outsider, job


def test_poster_invites_and_members_are_notified(app, networks, many_skills, poster_coop, poster):
    invitee, other, members, outsider, job = _world(networks, many_skills, poster_coop)
    outbox().clear()
    response = client_for(app, poster).post(f"/coordinator/jobs/{job.id}/invite", data={"coops": [invitee.id]})
    assert response.status_code == 302
    invitation = db.session.scalars(select(Invitation)).one()
    assert (invitation.job_id, invitation.coop_id, invitation.invited_by_id, invitation.status) == \
        (job.id, invitee.id, poster.id, "pending")
    notes = db.session.scalars(select(Notification).where(Notification.kind == "invited_to_bid")).all()
    assert sorted(n.user_id for n in notes) == sorted(u.id for u in members)
    assert all("Accessible booking system" in n.message for n in notes)
    assert sorted(m["to"] for m in outbox()) == sorted(u.email for u in members)
    [event] = _events("invitation.created")
    assert (event.target_id, event.actor_id, event.coop_id) == (invitation.id, poster.id, invitee.id)
    # It shows on the invitee's dashboards, not the other co-op's.
    member = client_for(app, members[1])
    assert "Accessible booking system" in member.get("/dashboard").get_data(as_text=True)
    html = member.get(f"/coops/{invitee.slug}/dashboard").get_data(as_text=True)
    assert f'id="invitation-{invitation.id}"' in html
    assert "Accessible booking system" not in client_for(app, outsider).get("/dashboard").get_data(as_text=True)
    # The matches page lists it as sent.
    page = client_for(app, poster).get(f"/coordinator/jobs/{job.id}/matches").get_data(as_text=True)
    assert "Invited: Waiting for an answer" in page


def test_coordinator_invites_several(app, networks, many_skills, poster_coop):
    invitee, other, members, outsider, job = _world(networks, many_skills, poster_coop)
    coordinator = make_user(coordinates=[networks["cotech"]])
    response = client_for(app, coordinator).post(f"/coordinator/jobs/{job.id}/invite",
                                                 data={"coops": [invitee.id, other.id]})
    assert response.status_code == 302
    assert {i.coop_id for i in db.session.scalars(select(Invitation))} == {invitee.id, other.id}
    assert len(_events("invitation.created")) == 2


def test_bad_invitations_are_refused(app, networks, many_skills, poster_coop, poster):
    invitee, other, members, outsider, job = _world(networks, many_skills, poster_coop)
    client = client_for(app, poster)
    url = f"/coordinator/jobs/{job.id}/invite"
    assert client.post(url, data={}).status_code == 422
    assert client.post(url, data={"coops": ["abc"]}).status_code == 422
    assert client.post(url, data={"coops": [poster_coop.id]}).status_code == 422  # its own co-op
    assert client.post(url, data={"coops": [999999]}).status_code == 422
    assert client.post(url, data={"coops": [invitee.id]}).status_code == 302
    again = client.post(url, data={"coops": [invitee.id, other.id]})
    assert again.status_code == 422 and "Already invited: Invitee Co-op" in again.get_data(as_text=True)
    assert db.session.scalars(select(Invitation.coop_id)).all() == [invitee.id]  # nothing half-written
    # A member of another co-op who can see the job may not invite.
    assert client_for(app, outsider).post(url, data={"coops": [invitee.id]}).status_code == 403
    closed = make_job(poster_coop, "cotech", "closed", skills=[many_skills["python"]])
    response = client.post(f"/coordinator/jobs/{closed.id}/invite", data={"coops": [invitee.id]})
    assert response.status_code == 422 and "not open for bids" in response.get_data(as_text=True)


def _invited(app, networks, many_skills, poster_coop, poster):
    world = _world(networks, many_skills, poster_coop)
    client_for(app, poster).post(f"/coordinator/jobs/{world[4].id}/invite", data={"coops": [world[0].id]})
    return world, db.session.scalars(select(Invitation)).one()


def test_decline_with_reason(app, networks, many_skills, poster_coop, poster):
    (invitee, other, members, outsider, job), invitation = _invited(app, networks, many_skills, poster_coop, poster)
    client = client_for(app, members[1])
    url = f"/invitations/{invitation.id}/decline"
    assert client.get(url).status_code == 200
    too_long = client.post(url, data={"reason": "x" * 2001})
    assert too_long.status_code == 422 and "Field cannot be longer" in too_long.get_data(as_text=True)
    db.session.refresh(invitation)
    assert invitation.status == "pending"
    assert client.post(url, data={"reason": "  No capacity until spring.  "}).status_code == 302
    db.session.refresh(invitation)
    assert (invitation.status, invitation.decline_reason, invitation.answered_by_id) == \
        ("declined", "No capacity until spring.", members[1].id)
    [event] = _events("invitation.declined")
    assert event.data["reason"] == "No capacity until spring." and event.actor_id == members[1].id
    # The poster sees the answer and its reason.
    page = client_for(app, poster).get(f"/coordinator/jobs/{job.id}/matches").get_data(as_text=True)
    assert "Declined: “No capacity until spring.”" in page
    # Answering twice is refused.
    assert client.post(f"/invitations/{invitation.id}/accept").status_code == 302
    db.session.refresh(invitation)
    assert invitation.status == "declined" and not _events("invitation.accepted")


def test_accept_and_who_may_answer(app, networks, many_skills, poster_coop, poster):
    (invitee, other, members, outsider, job), invitation = _invited(app, networks, many_skills, poster_coop, poster)
    assert client_for(app, outsider).post(f"/invitations/{invitation.id}/accept").status_code == 404
    assert client_for(app, outsider).get(f"/invitations/{invitation.id}/decline").status_code == 404
    assert client_for(app, poster).post(f"/invitations/{invitation.id}/accept").status_code == 404
    assert app.test_client().post(f"/invitations/{invitation.id}/accept").status_code == 302  # sign in
    assert client_for(app, members[0]).post(f"/invitations/{invitation.id}/accept").status_code == 302
    db.session.refresh(invitation)
    assert invitation.status == "accepted" and invitation.answered_at is not None
    assert len(_events("invitation.accepted")) == 1


def test_invitation_hidden_once_the_coop_may_not_see_the_job(app, networks, many_skills, poster_coop, poster):
    (invitee, other, members, outsider, job), invitation = _invited(app, networks, many_skills, poster_coop, poster)
    for m in invitee.memberships:
        m.status = "pending"
    db.session.commit()
    client = client_for(app, members[0])
    assert client.post(f"/invitations/{invitation.id}/accept").status_code == 404
    assert job.title not in client.get(f"/coops/{invitee.slug}/dashboard").get_data(as_text=True)
    assert job.title not in client.get("/dashboard").get_data(as_text=True)
