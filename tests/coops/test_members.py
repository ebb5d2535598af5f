"""Managing a co-op's members: adding by email, roles, removing, leaving, the last admin."""
import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditEvent
from marketplace.coops.models import CoopMember, JoinRequest
from marketplace.extensions import db

from ..conftest import login
from ..factories import make_coop, make_job, make_user
from .conftest import audit_actions, audit_count, flashes, text


def role_of(coop, user):
    return db.session.scalar(
        select(CoopMember.role).where(CoopMember.coop_id == coop.id, CoopMember.user_id == user.id))


def link(coop, user):
    return db.session.scalar(
        select(CoopMember).where(CoopMember.coop_id == coop.id, CoopMember.user_id == user.id))


def test_admin_sees_the_members_page(client, coop, admin, member):
    login(client, admin)
    html = text(client.get(f"/coops/{coop.slug}/members"))
    assert "Ada Admin" in html and "mo@example.coop" in html
    assert 'id="role-' in html and "Add a member" in html


def test_add_a_member_by_email(client, coop, admin, stranger):
    secret = make_job(make_coop("Other", {"cotech": "active"}), "cotech", title="CoTech secret")
    login(client, stranger)
    assert client.get(f"/jobs/{secret.id}").status_code == 404
    login(client, admin)
    response = client.post(f"/coops/{coop.slug}/members", data={"email": "SAM@Example.coop", "role": "member"})
    assert response.status_code == 302
    assert role_of(coop, stranger) == "member"
    event = db.session.scalars(select(AuditEvent)).one()
    assert (event.action, event.target_type, event.target_id) == ("coop.member_added", "coop", coop.id)
    assert event.data == {"user_id": stranger.id, "role": "member"} and event.actor_id == admin.id
    login(client, stranger)
    assert client.get(f"/jobs/{secret.id}").status_code == 200  # they now see what the co-op sees


def test_adding_someone_who_asked_to_join_answers_their_request(client, coop, admin, stranger):
    db.session.add(JoinRequest(coop=coop, user=stranger, message="Hi"))
    db.session.commit()
    login(client, admin)
    client.post(f"/coops/{coop.slug}/members", data={"email": stranger.email, "role": "admin"})
    assert role_of(coop, stranger) == "admin"
    assert db.session.scalars(select(JoinRequest)).one().status == "approved"
    assert audit_actions() == ["coop.member_added", "join_request.approved"]


@pytest.mark.parametrize("data, message", [
    ({"email": "nobody@example.coop", "role": "member"}, "There is no user with that email address"),
    ({"email": "not an email", "role": "member"}, "Give a valid email address"),
    ({"email": "", "role": "member"}, "This field is required"),
    ({"email": "mo@example.coop", "role": "member"}, "already a member"),
    ({"email": "sam@example.coop", "role": "owner"}, "Not a valid choice"),
])
def test_adding_a_member_refused(client, coop, admin, member, stranger, data, message):
    login(client, admin)
    response = client.post(f"/coops/{coop.slug}/members", data=data)
    assert response.status_code == 422
    assert message in text(response) and "There is a problem" in text(response)
    assert role_of(coop, stranger) is None and audit_count() == 0


def test_change_role(client, coop, admin, member):
    login(client, admin)
    mo = link(coop, member)
    client.post(f"/coops/{coop.slug}/members/{mo.id}/role", data={"role": "admin"})
    assert role_of(coop, member) == "admin"
    # With two admins, one may step down.
    client.post(f"/coops/{coop.slug}/members/{link(coop, admin).id}/role", data={"role": "member"})
    assert role_of(coop, admin) == "member"
    assert audit_actions() == ["coop.member_role_changed", "coop.member_role_changed"]
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).first()
    assert event.data == {"user_id": member.id, "role_from": "member", "role": "admin"}


def test_the_last_admin_cannot_be_demoted_nor_removed(client, coop, admin, member):
    login(client, admin)
    ada = link(coop, admin)
    response = client.post(f"/coops/{coop.slug}/members/{ada.id}/role", data={"role": "member"},
                           follow_redirects=True)
    assert "You are the last admin of Outlandish Bytes and cannot step down" in text(response)
    response = client.post(f"/coops/{coop.slug}/members/{ada.id}/remove", follow_redirects=True)
    assert "You are the last admin of Outlandish Bytes and cannot leave" in " ".join(flashes(response))
    response = client.post(f"/coops/{coop.slug}/leave", follow_redirects=True)
    assert "cannot leave. Make another member an admin first." in " ".join(flashes(response))
    assert role_of(coop, admin) == "admin" and audit_count() == 0


def test_remove_a_member(client, coop, admin, member):
    login(client, admin)
    response = client.post(f"/coops/{coop.slug}/members/{link(coop, member).id}/remove")
    assert response.status_code == 302
    assert role_of(coop, member) is None
    assert audit_actions() == ["coop.member_removed"]


def test_a_member_leaves(client, coop, admin, member):
    secret = make_job(make_coop("Other", {"cotech": "active"}), "cotech", title="CoTech secret")
    login(client, member)
    assert client.get(f"/jobs/{secret.id}").status_code == 200
    response = client.post(f"/coops/{coop.slug}/leave", follow_redirects=True)
    assert "You left Outlandish Bytes." in flashes(response)
    assert role_of(coop, member) is None and audit_actions() == ["coop.member_left"]
    assert client.get(f"/jobs/{secret.id}").status_code == 404
    response = client.post(f"/coops/{coop.slug}/leave", follow_redirects=True)
    assert "You are not a member of Outlandish Bytes." in flashes(response)


def test_an_admin_may_leave_when_another_admin_remains(client, coop, admin):
    other = make_user("Second Admin", coops={coop: "admin"})
    login(client, admin)
    client.post(f"/coops/{coop.slug}/leave")
    assert role_of(coop, admin) is None and role_of(coop, other) == "admin"


def test_only_admins_manage_members(client, coop, admin, member, stranger):
    ada = link(coop, admin)
    assert "/login" in client.get(f"/coops/{coop.slug}/members").headers["Location"]
    for user in (member, stranger):
        login(client, user)
        assert client.get(f"/coops/{coop.slug}/members").status_code == 403
        assert client.post(f"/coops/{coop.slug}/members", data={"email": user.email}).status_code == 403
        assert client.post(f"/coops/{coop.slug}/members/{ada.id}/role", data={"role": "member"}).status_code == 403
        assert client.post(f"/coops/{coop.slug}/members/{ada.id}/remove").status_code == 403
    assert role_of(coop, admin) == "admin" and role_of(coop, stranger) is None and audit_count() == 0


def test_members_of_another_coop_are_not_found(client, coop, admin):
    other = make_coop("Elsewhere")
    someone = make_user(coops={other: "admin"})
    login(client, admin)
    theirs = link(other, someone)
    assert client.post(f"/coops/{coop.slug}/members/{theirs.id}/remove").status_code == 404
    assert client.post(f"/coops/{coop.slug}/members/{theirs.id}/role", data={"role": "member"}).status_code == 404
    assert role_of(other, someone) == "admin"


def test_services_refuse_to_remove_or_demote_the_last_admin(coop, admin, member):
    """Through the services too, a co-op always keeps an admin."""
    from marketplace.coops import services

    mo, ada = link(coop, member), link(coop, admin)
    services.change_role(coop, admin, mo, "admin")
    services.change_role(coop, member, ada, "member")  # Mo demotes Ada: Mo is now the only admin
    db.session.commit()
    with pytest.raises(services.CoopRuleError, match="You are the last admin of Outlandish Bytes and cannot step down"):
        services.change_role(coop, member, mo, "member")
    db.session.rollback()
    with pytest.raises(services.CoopRuleError, match="Only admins"):
        services.remove_member(coop, admin, mo)
    db.session.rollback()
    assert role_of(coop, member) == "admin" and role_of(coop, admin) == "member"
