"""Password reset by an emailed, single-use, expiring link."""
import re
from datetime import timedelta

import pytest

from marketplace.core.time import frozen_now, utcnow
from marketplace.extensions import db

from ..factories import PASSWORD, make_user
from .conftest import NEW_PASSWORD, audit_actions, sign_in, signed_in_user_id

SAME_ANSWER = "If an account exists for"
RESET = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}


def ask_for_link(client, email):
    response = client.post("/password/forgot", data={"email": email})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    return client.get("/login").get_data(as_text=True)


def link_in(message):
    """The reset link of a message: absolute in the text part, the same in the HTML part."""
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = re.search(r"http://marketplace\.test(/password/reset/\S+)", text).group(1)
    assert f'href="http://marketplace.test{link}"' in html
    return link


def test_reset_end_to_end(client, ann, outbox):
    page = ask_for_link(client, "  Ann@Example.coop ")
    assert SAME_ANSWER in page
    [message] = outbox
    assert message["To"] == "ann@example.coop" and message["Subject"] == "Reset your password"
    assert message["From"] == "marketplace@coops.tech"
    link = link_in(message)

    page = client.get(link)
    assert page.status_code == 200 and "Choose a new password" in page.get_data(as_text=True)
    response = client.post(link, data=RESET)
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    assert signed_in_user_id(client) == str(ann.id)
    db.session.refresh(ann)
    assert ann.check_password(NEW_PASSWORD) and not ann.check_password(PASSWORD)
    assert audit_actions(ann) == ["user.password_reset"]

    client.post("/logout")
    assert sign_in(client, password=PASSWORD).status_code == 422
    assert sign_in(client, password=NEW_PASSWORD).status_code == 302


def test_unknown_email_gets_the_same_answer_and_no_mail(client, ann, outbox):
    known = ask_for_link(client, ann.email)
    unknown = ask_for_link(client, "nobody@example.coop")
    assert SAME_ANSWER in unknown
    assert known.replace(ann.email, "X") == unknown.replace("nobody@example.coop", "X")
    assert len(outbox) == 1


def test_closed_account_gets_no_mail(client, ann, outbox):
    ann.active = False
    db.session.commit()
    assert SAME_ANSWER in ask_for_link(client, ann.email)
    assert outbox == []


def test_link_is_single_use(client, ann, outbox):
    ask_for_link(client, ann.email)
    link = link_in(outbox[0])
    assert client.post(link, data=RESET).status_code == 302
    client.post("/logout")
    for response in (client.get(link), client.post(link, data={"password": "another one here", "confirm": "another one here"})):
        assert response.status_code == 400
        assert "already been used" in response.get_data(as_text=True)
    db.session.refresh(ann)
    assert ann.check_password(NEW_PASSWORD)
    assert signed_in_user_id(client) is None


def test_changing_the_password_voids_earlier_links(client, ann, outbox):
    from ..conftest import login

    ask_for_link(client, ann.email)
    link = link_in(outbox[0])
    login(client, ann)
    client.post("/account/password", data={"password-current_password": PASSWORD,
                                           "password-new_password": NEW_PASSWORD, "password-confirm": NEW_PASSWORD})
    client.post("/logout")
    assert client.get(link).status_code == 400


def test_link_expires(client, ann, outbox, app):
    start = utcnow()
    with frozen_now(start):
        ask_for_link(client, ann.email)
    link = link_in(outbox[0])
    max_age = app.config["PASSWORD_RESET_MAX_AGE"]
    with frozen_now(start + timedelta(seconds=max_age - 60)):
        assert client.get(link).status_code == 200
    with frozen_now(start + timedelta(seconds=max_age + 1)):
        response = client.post(link, data=RESET)
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    db.session.refresh(ann)
    assert ann.check_password(PASSWORD)


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature
    lambda token: "x" + token[1:],  # payload
    lambda token: token.split(".")[0],  # no signature at all
    lambda token: "not-a-token",
])
def test_tampered_links_are_refused(client, ann, outbox, tamper):
    ask_for_link(client, ann.email)
    token = link_in(outbox[0]).rsplit("/", 1)[1]
    response = client.post(f"/password/reset/{tamper(token)}", data=RESET)
    assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)
    db.session.refresh(ann)
    assert ann.check_password(PASSWORD)


def test_a_link_for_one_user_cannot_reset_another(client, ann, outbox):
    bob = make_user(email="bob@example.coop")
    ask_for_link(client, bob.email)
    client.post(link_in(outbox[0]), data=RESET)
    db.session.refresh(ann)
    db.session.refresh(bob)
    assert bob.check_password(NEW_PASSWORD) and ann.check_password(PASSWORD)


def test_new_password_is_checked(client, ann, outbox):
    ask_for_link(client, ann.email)
    link = link_in(outbox[0])
    response = client.post(link, data={"password": "short", "confirm": "short"})
    assert response.status_code == 422 and "between 10 and 200" in response.get_data(as_text=True)
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": "something else"})
    assert response.status_code == 422 and "not the same" in response.get_data(as_text=True)
    db.session.refresh(ann)
    assert ann.check_password(PASSWORD) and signed_in_user_id(client) is None


def test_malformed_email_is_a_field_error(client, outbox):
    response = client.post("/password/forgot", data={"email": "nope"})
    assert response.status_code == 422 and "not a valid email address" in response.get_data(as_text=True)
    assert outbox == []


def test_forgot_form_links_from_sign_in(client):
    assert 'href="/password/forgot"' in client.get("/login").get_data(as_text=True)
    assert client.get("/password/forgot").status_code == 200

