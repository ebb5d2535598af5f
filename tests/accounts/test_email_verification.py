"""Registering never tells whether an address has an account, and a new account's address is
confirmed by an emailed, signed, expiring link before its user may join a co-op or act."""
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from marketplace.accounts.models import User
from marketplace.core.time import frozen_now, utcnow
from marketplace.extensions import db

from ..conftest import login
from ..factories import PASSWORD, make_user
from .conftest import NEW_PASSWORD, audit_actions, sign_in, signed_in_user_id, users

FORM = {"name": "Robin Worker", "password": "ten chars plus", "confirm": "ten chars plus"}
CHECK_EMAIL = "Check your email"
CONFIRM_FIRST = "Confirm your email address"
TOKEN_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+(")')


def without_csrf(text):
    return TOKEN_VALUE.sub(r"\1X\2", text)


def csrf_token(client, path="/register"):
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def register(client, email, **change):
    data = {**FORM, "email": email, **change}
    if client.application.config["WTF_CSRF_ENABLED"]:
        data["csrf_token"] = csrf_token(client)
    return client.post("/register", data=data)


def only_mail(outbox, to):
    [message] = [m for m in outbox if m["To"] == to]
    return message


def confirm_link(message):
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"http://marketplace\.test(/account/confirm/\S+)", text).group(1)
    assert f'href="http://marketplace.test{link}"' in message.get_body(("html",)).get_content()
    return link


def robin():
    return db.session.scalar(select(User).where(User.email == "robin@example.coop"))


# --- the same answer, whether or not the address has an account ------------------------------

def _account(user):
    db.session.refresh(user)
    return (user.name, user.email, user.password_hash, user.session_token, user.email_verified_at,
            user.active, user.is_site_admin)


def test_a_taken_address_gets_exactly_the_answer_of_a_new_one(app, csrf, outbox):
    ann = make_user("Ann Example", email="ann@example.coop")
    before = _account(ann)
    taken_client, new_client = app.test_client(), app.test_client()
    taken = register(taken_client, "ann@example.coop")
    new = register(new_client, "robin@example.coop")

    assert taken.status_code == new.status_code == 302
    assert taken.headers["Location"] == new.headers["Location"]
    assert taken.get_data() == new.get_data()
    # Neither is signed in: a session naming a new user would tell the two apart.
    for client in (taken_client, new_client):
        assert signed_in_user_id(client) is None
    with taken_client.session_transaction() as one, new_client.session_transaction() as other:
        assert sorted(one) == sorted(other)
    taken_page = taken_client.get(taken.headers["Location"])
    new_page = new_client.get(new.headers["Location"])
    assert taken_page.status_code == new_page.status_code == 200
    assert CHECK_EMAIL in taken_page.get_data(as_text=True)
    assert (without_csrf(taken_page.get_data(as_text=True)).replace("ann@example.coop", "X")
            == without_csrf(new_page.get_data(as_text=True)).replace("robin@example.coop", "X"))

    # The existing account is untouched; the new one is made, unconfirmed.
    assert _account(ann) == before
    assert users() == 2
    assert robin().email_verified_at is None and robin().name == "Robin Worker"
    assert audit_actions(ann) == []
    assert audit_actions(robin()) == ["user.registered"]

    # The owner of the taken address is told, with the ways back into their account.
    notice = only_mail(outbox, "ann@example.coop")
    text = notice.get_body(("plain",)).get_content()
    assert "tried to register" in text
    assert "http://marketplace.test/login" in text and "http://marketplace.test/password/forgot" in text
    assert "/account/confirm/" not in text
    # The new address gets its link.
    assert confirm_link(only_mail(outbox, "robin@example.coop"))
    assert len(outbox) == 2


def test_both_answers_hash_the_password(client, config):
    """A taken address takes as long to answer as a new one: both hash the password. (CPU time
    of this process, which the test client's requests run in: other processes' load does not
    change it.)"""
    method = "pbkdf2:sha256:400000"
    config(PASSWORD_HASH_METHOD=method)
    started = time.process_time()
    generate_password_hash("a password", method=method)
    one_hash = time.process_time() - started
    make_user(email="ann@example.coop")
    for email in ("ann@example.coop", "robin@example.coop"):
        started = time.process_time()
        assert register(client, email).status_code == 302
        assert time.process_time() - started > 0.6 * one_hash, email


def test_a_lost_race_for_a_new_address_gets_the_same_answer(client, outbox):
    """Another request inserts the address between our check and our insert: the unique
    constraint refuses ours, and the answer is the usual one (no 500, no field error)."""
    from sqlalchemy import event, insert
    from sqlalchemy.orm import Session

    rival = []

    def rival_registers(session, flush_context, instances):
        if rival or not any(isinstance(o, User) for o in session.new):
            return
        with db.engine.begin() as connection:
            connection.execute(insert(User).values(
                email="robin@example.coop", name="Rival", password_hash="x", is_site_admin=False, active=True))
        rival.append(True)

    event.listen(Session, "before_flush", rival_registers)
    try:
        response = register(client, "robin@example.coop")
    finally:
        event.remove(Session, "before_flush", rival_registers)
    assert rival and response.status_code == 302
    assert CHECK_EMAIL in client.get(response.headers["Location"]).get_data(as_text=True)
    assert [u.name for u in db.session.scalars(select(User))] == ["Rival"]


def test_repeated_attempts_on_a_taken_address_mail_its_owner_once_a_minute(client, outbox):
    make_user(email="ann@example.coop")
    start = utcnow()
    with frozen_now(start):
        register(client, "ann@example.coop")
        register(client, "ann@example.coop")
    assert len(outbox) == 1
    with frozen_now(start + timedelta(seconds=61)):
        register(client, "ann@example.coop")
    assert len(outbox) == 2


def test_bad_input_still_rerenders_with_messages(client):
    response = register(client, "robin@example.coop", confirm="something else")
    assert response.status_code == 422
    assert "The two passwords are not the same" in response.get_data(as_text=True)
    assert users() == 0


# --- the link --------------------------------------------------------------------------------

@pytest.fixture
def link(client, outbox):
    assert register(client, "robin@example.coop").status_code == 302
    return confirm_link(only_mail(outbox, "robin@example.coop"))


def test_following_the_link_confirms_the_address(client, link):
    page = client.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "robin@example.coop" in html and "Confirm my address" in html
    assert robin().email_verified_at is None  # a mail scanner opening the link confirms nothing
    response = client.post(link)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert robin().email_verified_at is not None
    assert "Your email address is confirmed" in client.get("/login").get_data(as_text=True)
    assert audit_actions(robin()) == ["user.registered", "user.email_verified"]
    # Signing in now: no banner, and nothing is refused.
    assert sign_in(client, email="robin@example.coop", password=FORM["password"]).status_code == 302
    assert CONFIRM_FIRST not in client.get("/dashboard").get_data(as_text=True)


def test_the_link_signed_in_goes_to_the_dashboard(client, link):
    assert sign_in(client, email="robin@example.coop", password=FORM["password"]).status_code == 302
    response = client.post(link)
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    assert "Your email address is confirmed" in client.get("/dashboard").get_data(as_text=True)


def test_the_link_again_changes_nothing(client, link):
    client.post(link)
    confirmed_at = robin().email_verified_at
    with frozen_now(utcnow() + timedelta(hours=1)):
        for response in (client.get(link), client.post(link)):
            assert response.status_code == 200
            assert "already confirmed" in response.get_data(as_text=True)
    assert robin().email_verified_at == confirmed_at
    assert audit_actions(robin()) == ["user.registered", "user.email_verified"]


def test_an_expired_link_is_refused_with_a_way_to_get_another(client, link):
    with frozen_now(utcnow() + timedelta(hours=48, seconds=5)):
        for response in (client.get(link), client.post(link)):
            assert response.status_code == 400
            html = response.get_data(as_text=True)
            assert "This link has expired" in html and "Send the link again" in html
    assert robin().email_verified_at is None
    with frozen_now(utcnow() + timedelta(hours=47)):
        assert client.post(link).status_code == 302
    assert robin().email_verified_at is not None


def test_the_lifetime_is_a_setting(client, link, config):
    config(EMAIL_VERIFY_HOURS=1)
    with frozen_now(utcnow() + timedelta(hours=1, seconds=5)):
        assert client.get(link).status_code == 400


@pytest.mark.parametrize("spoil", [
    lambda link: link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb"),
    lambda link: link.replace("/account/confirm/", "/account/confirm/x"),
    lambda link: "/account/confirm/" + "A" * 3000,
    lambda link: "/account/confirm/%00%ff%20",
    lambda link: "/account/confirm/e30.ZZZZZZ.ZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
])
def test_a_tampered_link_is_refused(client, link, spoil):
    for response in (client.get(spoil(link)), client.post(spoil(link))):
        assert response.status_code in (400, 404)
        if response.status_code == 400:
            assert "This link is not valid" in response.get_data(as_text=True)
    assert robin().email_verified_at is None


def test_a_link_for_an_address_since_changed_is_refused(client, link):
    user = robin()
    user.email = "robin.new@example.coop"
    db.session.commit()
    for response in (client.get(link), client.post(link)):
        assert response.status_code == 400
        assert "no longer" in response.get_data(as_text=True)
    assert robin() is None and db.session.get(User, user.id).email_verified_at is None


def test_a_reset_password_confirms_the_address(client, link, outbox):
    """The reset link reached the address too: it proves the same thing."""
    client.post("/password/forgot", data={"email": "robin@example.coop"})
    text = outbox[-1].get_body(("plain",)).get_content()
    reset = re.search(r"http://marketplace\.test(/password/reset/\S+)", text).group(1)
    assert client.post(reset, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert robin().email_verified_at is not None


# --- signed in before confirming: a banner, and a new link on demand ---------------------------

def test_an_unconfirmed_user_may_sign_in_and_is_shown_the_banner(client, link, outbox):
    assert sign_in(client, email="robin@example.coop", password=FORM["password"]).status_code == 302
    html = client.get("/dashboard").get_data(as_text=True)
    assert CONFIRM_FIRST in html and "robin@example.coop" in html and "Send the link again" in html
    html = client.get("/jobs").get_data(as_text=True)
    assert CONFIRM_FIRST in html


def test_sending_the_link_again_once_a_minute(client, link, outbox):
    user = robin()
    login(client, user)
    outbox.clear()
    start = utcnow() + timedelta(minutes=5)
    with frozen_now(start):
        response = client.post("/account/confirm/resend")
        assert response.status_code == 302
        assert len(outbox) == 1 and outbox[0]["To"] == "robin@example.coop"
        new_link = confirm_link(outbox[0])
        response = client.post("/account/confirm/resend")
        assert response.status_code == 302 and len(outbox) == 1
        assert "We sent a link less than a minute ago" in client.get("/dashboard").get_data(as_text=True)
    with frozen_now(start + timedelta(seconds=61)):
        assert client.post("/account/confirm/resend").status_code == 302
        assert len(outbox) == 2
        # Every link sent works (the address is the same).
        assert client.post(new_link).status_code == 302
    assert robin().email_verified_at is not None


def test_a_confirmed_user_gets_no_link(client, outbox):
    ann = make_user(email="ann@example.coop")
    login(client, ann)
    client.post("/account/confirm/resend")
    assert outbox == []
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Your email address is already confirmed" in html and "Send the link again" not in html


def test_sending_again_needs_signing_in(client):
    response = client.post("/account/confirm/resend")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- accounts made by an administrator -------------------------------------------------------

def test_users_made_on_the_command_line_are_confirmed(runner):
    result = runner.invoke(args=["users", "create", "cli@example.coop", "--name", "Cli", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "cli@example.coop"))
    assert user.email_verified_at is not None


def test_factories_make_confirmed_users_unless_told():
    assert make_user().email_verified_at is not None
    assert make_user(verified=False).email_verified_at is None
