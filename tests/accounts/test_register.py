"""Registering an account through the real page."""
import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.extensions import db

from ..factories import make_user
from .conftest import audit_actions, signed_in_user_id, users

FORM = {"name": "Robin Worker", "email": "  Robin@Example.COOP ", "password": "ten chars plus", "confirm": "ten chars plus"}


def test_register_signs_in_and_shows_dashboard(client):
    response = client.post("/register", data=FORM)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard")
    user = db.session.scalars(select(User)).one()
    assert user.email == "robin@example.coop" and user.name == "Robin Worker"
    assert user.password_hash != FORM["password"] and user.check_password(FORM["password"])
    assert signed_in_user_id(client) == str(user.id)
    assert audit_actions(user) == ["user.registered"]
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Robin Worker" in page
    assert "You do not belong to a co-op yet" in page and 'href="/coops/"' in page
    assert ">register your co-op</a>" in page


@pytest.mark.parametrize("change, field, message", [
    ({"confirm": "something else"}, "confirm", "The two passwords are not the same"),
    ({"password": "short", "confirm": "short"}, "password", "between 10 and 200 characters"),
    ({"password": "x" * 201, "confirm": "x" * 201}, "password", "between 10 and 200 characters"),
    ({"name": "x" * 121}, "name", "longer than 120 characters"),
    ({"name": "   "}, "name", "This field is required"),
    ({"email": "not-an-email"}, "email", "not a valid email address"),
    ({"email": "a" * 250 + "@example.coop"}, "email", "longer than 254 characters"),
    ({"email": ""}, "email", "Give your email address"),
])
def test_bad_input_rerenders_and_saves_nothing(client, change, field, message):
    response = client.post("/register", data={**FORM, **change})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and message.lower() in html.lower()
    assert f'id="{field}-error"' in html
    assert users() == 0 and signed_in_user_id(client) is None


def test_duplicate_email_is_a_field_error(client):
    make_user(email="robin@example.coop")
    response = client.post("/register", data=FORM)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="email-error"' in html and "already exists" in html
    assert users() == 1


def test_duplicate_email_lost_race_is_a_field_error(client):
    """Another request inserts the same address between our check and our insert: the
    database's unique constraint refuses ours and the form says so (no 500)."""
    rival_inserted = []

    def rival_registers(session, flush_context, instances):
        if rival_inserted or not any(isinstance(o, User) for o in session.new):
            return
        with db.engine.begin() as connection:
            connection.execute(insert(User).values(
                email="robin@example.coop", name="Rival", password_hash="x", is_site_admin=False, active=True))
        rival_inserted.append(True)

    event.listen(Session, "before_flush", rival_registers)
    try:
        response = client.post("/register", data=FORM)
    finally:
        event.remove(Session, "before_flush", rival_registers)
    assert rival_inserted
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)
    assert [u.name for u in db.session.scalars(select(User))] == ["Rival"]
    assert signed_in_user_id(client) is None


def test_csrf_is_enforced(client, csrf):
    response = client.post("/register", data=FORM)
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    assert users() == 0
    # With the token from the page, the same form goes through.
    page = client.get("/register").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/register", data={**FORM, "csrf_token": token}).status_code == 302
    assert users() == 1


def test_signed_in_user_is_sent_to_the_dashboard(client, ann):
    from ..conftest import login

    login(client, ann)
    assert client.get("/register").headers["Location"].endswith("/dashboard")
