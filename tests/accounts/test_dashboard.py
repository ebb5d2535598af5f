"""The dashboard and the account settings page."""
from datetime import timedelta

from marketplace.coops.models import JoinRequest
from marketplace.core.time import utcnow
from marketplace.extensions import db

from ..conftest import login
from ..factories import PASSWORD, make_coop, make_job, make_user
from .conftest import NEW_PASSWORD, audit_actions, sign_in


def test_dashboard_needs_sign_in(client):
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login?next=%2Fdashboard")
    assert client.get("/account").status_code == 302


def test_member_sees_coops_roles_drafts_and_posting(client, networks):
    alpha = make_coop("Alpha Works", {networks["cotech"]: "active"})
    beta = make_coop("Beta Collective", {networks["workers-coop"]: "active"})
    other = make_coop("Gamma Co-op", {networks["cotech"]: "active"})
    user = make_user("Sam Member", coops={alpha: "admin", beta: "member"})
    make_job(alpha, state="draft")
    make_job(beta, state="draft")
    make_job(other, state="draft")  # another co-op's draft is not counted
    make_job(alpha, state="open")
    login(client, user)
    html = client.get("/dashboard").get_data(as_text=True)
    assert '<a href="/coops/alpha-works">Alpha Works</a></th>\n      <td>Administrator</td>' in html
    assert '<a href="/coops/beta-collective">Beta Collective</a></th>\n      <td>Member</td>' in html
    assert "Gamma Co-op" not in html
    assert 'href="/jobs?state=draft"' in html and "draft jobs</a> (2)" in html
    assert 'href="/jobs/new"' in html
    assert "You do not belong to a co-op yet" not in html


def test_user_without_coop_is_told_how_to_join_and_sees_pending_requests(client, networks):
    alpha = make_coop("Alpha Works", {networks["cotech"]: "active"})
    beta = make_coop("Beta Collective")
    gamma = make_coop("Gamma Co-op")
    user = make_user("Newcomer")
    someone_else = make_user()
    now = utcnow()
    db.session.add_all([
        JoinRequest(coop=alpha, user=user, message="Hi", created_at=now - timedelta(days=1)),
        JoinRequest(coop=beta, user=user, status="declined", decided_at=now),
        JoinRequest(coop=gamma, user=someone_else),
    ])
    db.session.commit()
    login(client, user)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "You do not belong to a co-op yet" in html and 'href="/coops/"' in html
    assert 'href="/jobs/new"' not in html and "state=draft" not in html
    requests = html.split("Your requests to join a co-op")[1]
    assert "Alpha Works" in requests
    assert "Beta Collective" not in requests  # declined: no longer waiting
    assert "Gamma Co-op" not in requests  # someone else's


def test_change_name(client, ann):
    login(client, ann)
    page = client.get("/account").get_data(as_text=True)
    assert 'value="Ann Example"' in page and "Account settings" in page
    response = client.post("/account/name", data={"name-name": "  Ann Newname "})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account")
    db.session.refresh(ann)
    assert ann.name == "Ann Newname"
    assert audit_actions(ann) == ["user.updated"]


def test_change_name_refuses_bad_input(client, ann):
    login(client, ann)
    for bad, message in (("   ", "This field is required"), ("x" * 121, "longer than 120")):
        response = client.post("/account/name", data={"name-name": bad})
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.session.refresh(ann)
    assert ann.name == "Ann Example" and audit_actions(ann) == []


def change_password(client, current, new, confirm=None):
    return client.post("/account/password", data={
        "password-current_password": current, "password-new_password": new,
        "password-confirm": new if confirm is None else confirm,
    })


def test_change_password(client, ann):
    login(client, ann)
    response = change_password(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    db.session.refresh(ann)
    assert ann.check_password(NEW_PASSWORD)
    assert audit_actions(ann) == ["user.password_changed"]
    client.post("/logout")
    assert sign_in(client, password=NEW_PASSWORD).status_code == 302


def test_change_password_needs_the_current_one(client, ann):
    login(client, ann)
    cases = [
        (("wrong password!", NEW_PASSWORD), "password-current_password-error", "current password is not right"),
        ((PASSWORD, "short"), "password-new_password-error", "between 10 and 200"),
        ((PASSWORD, NEW_PASSWORD, "different again"), "password-confirm-error", "not the same"),
    ]
    for args, error_id, message in cases:
        response = change_password(client, *args)
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and f'id="{error_id}"' in html and message in html
    db.session.refresh(ann)
    assert ann.check_password(PASSWORD) and audit_actions(ann) == []


def test_settings_forms_have_csrf(client, ann, csrf):
    login(client, ann)
    assert client.post("/account/name", data={"name-name": "Mallory"}).status_code == 400
    db.session.refresh(ann)
    assert ann.name == "Ann Example"
