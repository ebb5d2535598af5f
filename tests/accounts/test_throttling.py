"""Slowing down password guessing without letting anyone lock a person out (OWASP's device
cookies): a browser that signed in to an account before carries a signed device cookie, and
failures are counted against that cookie alone; other clients' failures are counted per account
and per client address. Past a few failures, attempts are refused without checking the password
for a delay that doubles with each further failure, up to a cap."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.accounts.models import LoginFailure
from marketplace.core.time import frozen_now, utcnow
from marketplace.extensions import db

from ..factories import PASSWORD, make_user
from .conftest import NEW_PASSWORD, failures, signed_in_user_id

HOST = "marketplace.test"
OWNER_IP = "198.51.100.7"
ATTACKER_IP = "203.0.113.66"
WRONG = "wrong password!"


def attempt(client, password=PASSWORD, email="ann@example.coop", ip=OWNER_IP):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def device_cookie(client):
    return client.get_cookie("device", domain=HOST, path="/login")


def paused_for(response):
    """The "try again in …" of a refused attempt."""
    assert response.status_code == 429, response.status_code
    return re.search(r"Too many attempts: try again in ([^.<]+)\.", response.get_data(as_text=True)).group(1)


@pytest.fixture
def trusted(app, ann):
    """Ann's own browser: she signed in on it before (so it holds a device cookie), then out."""
    browser = app.test_client()
    assert attempt(browser).status_code == 302
    browser.post("/logout")
    return browser


def test_signing_in_sets_a_long_lived_device_cookie(app, client, ann, config):
    response = attempt(client)
    assert response.status_code == 302
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("device=")]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/login" in header
    assert "Max-Age=31536000" in header and "Secure" not in header
    client.post("/logout")
    assert device_cookie(client) is not None  # signing out keeps it: the browser stays known

    config(SESSION_COOKIE_SECURE=True, DEVICE_COOKIE_DAYS=30)
    response = attempt(app.test_client())
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("device=")]
    assert "Secure" in header and "Max-Age=2592000" in header


def test_an_attackers_failures_do_not_stop_the_owner_on_her_device(app, ann, trusted):
    attacker = app.test_client()
    start = utcnow()
    answers = []
    for n in range(50):
        # The attacker waits out every delay, so that each of the 50 guesses is counted.
        with frozen_now(start + timedelta(minutes=16 * n)):
            answers.append(attempt(attacker, WRONG, ip=ATTACKER_IP).status_code)
    assert answers == [422] * 50
    assert failures() == 50
    at_once = start + timedelta(minutes=16 * 49, seconds=1)
    with frozen_now(at_once):
        # Anyone else without Ann's device cookie now waits, even with the right password …
        assert paused_for(attempt(app.test_client(), ip="192.0.2.1")) == "15 minutes"
        # … but Ann, on her own browser, signs in at once (from the attacker's address, too).
        assert attempt(trusted).status_code == 302
        assert signed_in_user_id(trusted) == str(ann.id)
        trusted.post("/logout")
        assert attempt(trusted, ip=ATTACKER_IP).status_code == 302


def test_a_burst_of_failures_does_not_stop_the_owner_either(app, ann, trusted):
    attacker = app.test_client()
    answers = [attempt(attacker, WRONG, ip=ATTACKER_IP).status_code for _ in range(50)]
    assert answers == [422] * 5 + [429] * 45  # refused attempts check no password and count for nothing
    assert failures() == 5
    assert attempt(trusted).status_code == 302


def test_an_untrusted_client_waits_longer_after_each_failure(client, ann):
    start = utcnow()
    with frozen_now(start):
        for _ in range(5):
            assert attempt(client, WRONG).status_code == 422
        response = attempt(client)  # the right password is not even checked
        assert paused_for(response) == "1 minute"
        assert response.headers["Retry-After"] == "60"
        html = response.get_data(as_text=True)
        assert 'href="/password/forgot"' in html
        assert signed_in_user_id(client) is None
    now = start
    for delay, next_delay in [(1, "2 minutes"), (2, "4 minutes"), (4, "8 minutes"), (8, "15 minutes"),
                              (15, "15 minutes")]:
        with frozen_now(now + timedelta(minutes=delay) - timedelta(seconds=1)):
            assert attempt(client, WRONG).status_code == 429
        now += timedelta(minutes=delay)
        with frozen_now(now):
            assert attempt(client, WRONG).status_code == 422
            assert paused_for(attempt(client)) == next_delay
    assert failures() == 10
    with frozen_now(now + timedelta(minutes=15)):
        assert attempt(client).status_code == 302
    # Her own mistakes from this client are forgiven once she is in.
    assert failures() == 0


def test_failures_on_a_trusted_device_count_against_that_device_only(app, ann, trusted):
    with frozen_now(utcnow()):
        for _ in range(5):
            assert attempt(trusted, WRONG).status_code == 422
        assert paused_for(attempt(trusted)) == "1 minute"
        assert {f.device is not None for f in db.session.scalars(select(LoginFailure))} == {True}
        # The account is not slowed for other clients by them.
        elsewhere = app.test_client()
        assert attempt(elsewhere, ip="192.0.2.1").status_code == 302


def test_a_device_cookie_only_vouches_for_its_own_account(app, ann, trusted):
    bob = make_user("Bob", email="bob@example.coop")
    with frozen_now(utcnow()):
        for _ in range(5):
            assert attempt(trusted, WRONG, email=bob.email).status_code == 422
        assert paused_for(attempt(trusted, email=bob.email)) == "1 minute"
        # Ann's account and device are untouched by guesses at Bob's.
        assert attempt(trusted).status_code == 302


@pytest.mark.parametrize("spoil", [
    lambda value: value[:-2] + ("xx" if not value.endswith("xx") else "yy"),
    lambda value: "nonsense",
    lambda value: "",
    lambda value: "A" * 4000,
])
def test_a_forged_device_cookie_is_not_trusted(app, ann, trusted, spoil):
    forged = app.test_client()
    forged.set_cookie("device", spoil(device_cookie(trusted).value), domain=HOST, path="/login")
    with frozen_now(utcnow()):
        for _ in range(5):
            assert attempt(app.test_client(), WRONG, ip=ATTACKER_IP).status_code == 422
        assert attempt(forged).status_code == 429
        assert attempt(trusted).status_code == 302


def test_a_device_cookie_expires(app, ann, trusted):
    with frozen_now(utcnow() + timedelta(days=366)):
        for _ in range(5):
            assert attempt(app.test_client(), WRONG, ip=ATTACKER_IP).status_code == 422
        assert attempt(trusted).status_code == 429


def test_one_address_guessing_many_accounts_is_slowed(app, ann, trusted, config):
    config(LOGIN_MAX_FAILURES=2)  # 4 x 2 = 8 failures per client address
    client = app.test_client()
    with frozen_now(utcnow()):
        for n in range(8):
            assert attempt(client, WRONG, email=f"guess{n}@example.coop", ip=ATTACKER_IP).status_code == 422
        assert paused_for(attempt(client, ip=ATTACKER_IP)) == "1 minute"
        assert paused_for(attempt(client, email="guess9@example.coop", ip=ATTACKER_IP)) == "1 minute"
        # Another address is not slowed; nor is Ann's own browser at that address.
        assert attempt(app.test_client(), ip="192.0.2.1").status_code == 302
        assert attempt(trusted, ip=ATTACKER_IP).status_code == 302


def test_unknown_addresses_are_slowed_alike(client):
    with frozen_now(utcnow()):
        for _ in range(5):
            assert attempt(client, WRONG, email="ghost@example.coop").status_code == 422
        assert paused_for(attempt(client, WRONG, email="ghost@example.coop")) == "1 minute"


def test_the_owner_on_a_new_device_can_still_reset_her_password(app, ann, outbox):
    with frozen_now(utcnow()):
        for _ in range(20):
            attempt(app.test_client(), WRONG, ip=ATTACKER_IP)
        new_device = app.test_client()
        assert attempt(new_device).status_code == 429
        response = new_device.post("/password/forgot", data={"email": ann.email})
        assert response.status_code == 302
        text = outbox[-1].get_body(("plain",)).get_content()
        link = re.search(r"http://marketplace\.test(/password/reset/\S+)", text).group(1)
        assert new_device.get(link).status_code == 200
        response = new_device.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert response.status_code == 302 and signed_in_user_id(new_device) == str(ann.id)
        # Resetting made this browser a known one.
        assert device_cookie(new_device) is not None
        assert failures() == 0
        new_device.post("/logout")
        assert attempt(new_device, NEW_PASSWORD).status_code == 302


def test_failures_are_forgotten_after_the_window(client, ann, config):
    start = utcnow()
    with frozen_now(start):
        for _ in range(5):
            attempt(client, WRONG)
        assert attempt(client).status_code == 429
    with frozen_now(start + timedelta(minutes=24 * 60, seconds=1)):
        attempt(client, WRONG, email="someone@example.coop")
        # Writing a failure prunes the ones older than the window.
        assert [f.email for f in db.session.scalars(select(LoginFailure))] == ["someone@example.coop"]
        assert attempt(client).status_code == 302


def test_the_delays_are_settings(client, ann, config):
    config(LOGIN_MAX_FAILURES=1, LOGIN_DELAY_SECONDS=300, LOGIN_MAX_DELAY_MINUTES=7)
    start = utcnow()
    with frozen_now(start):
        assert attempt(client, WRONG).status_code == 422
        assert paused_for(attempt(client)) == "5 minutes"
    with frozen_now(start + timedelta(minutes=5)):
        assert attempt(client, WRONG).status_code == 422
        assert paused_for(attempt(client)) == "7 minutes"
