"""Registering an account through the real page (the same answer for a taken address, and
confirming the address: test_email_verification.py)."""
import re

import pytest
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.extensions import db

from .conftest import audit_actions, sign_in, signed_in_user_id, users

FORM = {"name": "Robin Worker", "email": "  Robin@Example.COOP ", "password": "ten chars plus", "confirm": "ten chars plus"}


def test_register_then_confirm_the_address_and_sign_in(client, outbox):
    response = client.post("/register", data=FORM)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/register/check-email")
    assert "We sent a message to robin@example.coop" in client.get("/register/check-email").get_data(as_text=True)
    user = db.session.scalars(select(User)).one()
    assert user.email == "robin@example.coop" and user.name == "Robin Worker"
    assert user.password_hash != FORM["password"] and user.check_password(FORM["password"])
    assert user.email_verified_at is None
    assert signed_in_user_id(client) is None
    assert audit_actions(user) == ["user.registered"]
    [message] = outbox
    assert message["To"] == "robin@example.coop" and message["Subject"] == "Confirm your email address"
    link = re.search(r"http://marketplace\.test(/account/confirm/\S+)", message.get_body(("plain",)).get_content())
    assert client.post(link.group(1)).status_code == 302
    assert sign_in(client, email="robin@example.coop", password=FORM["password"]).status_code == 302
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
