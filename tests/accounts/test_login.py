"""Signing in and out, remember me and the `next` parameter (throttling: test_throttling.py)."""
from urllib.parse import urlencode

import pytest

from marketplace.accounts.models import LoginFailure
from marketplace.extensions import db

from ..conftest import login
from .conftest import sign_in, signed_in_user_id

HOST = "marketplace.test"


def test_sign_in_and_out(client, ann):
    response = sign_in(client, email="  ANN@example.coop")
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    assert signed_in_user_id(client) == str(ann.id)
    db.session.refresh(ann)
    assert ann.last_login_at is not None
    assert "Ann Example" in client.get("/dashboard").get_data(as_text=True)

    assert client.get("/logout").status_code == 405  # a link cannot sign anyone out
    assert signed_in_user_id(client) == str(ann.id)
    response = client.post("/logout")
    assert response.status_code == 302
    assert signed_in_user_id(client) is None
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_sign_out_needs_the_csrf_token(client, ann, csrf):
    login(client, ann)
    assert client.post("/logout").status_code == 400
    assert signed_in_user_id(client) == str(ann.id)


def test_wrong_password_and_unknown_email_answer_alike(client, ann):
    wrong = sign_in(client, password="wrong password!")
    unknown = sign_in(client, email="nobody@example.coop")
    malformed = sign_in(client, email="not an email")
    assert wrong.status_code == unknown.status_code == malformed.status_code == 422
    assert "The email address or password is not right." in wrong.text
    # Byte for byte the same page, but for the address typed in.
    assert wrong.text.replace(ann.email, "X") == unknown.text.replace("nobody@example.coop", "X")
    assert unknown.text.replace("nobody@example.coop", "X") == malformed.text.replace("not an email", "X")
    assert signed_in_user_id(client) is None
    assert sorted(f.email for f in db.session.query(LoginFailure)) == [
        ann.email, "nobody@example.coop", "not an email"]


def test_closed_account_cannot_sign_in(client, ann):
    ann.active = False
    db.session.commit()
    response = sign_in(client)
    assert response.status_code == 422 and "has been closed" in response.get_data(as_text=True)
    assert signed_in_user_id(client) is None


def test_remember_me_sets_a_cookie_that_outlives_the_session(client, ann):
    sign_in(client, remember="y")
    assert client.get_cookie("remember_token", domain=HOST) is not None
    client.delete_cookie("session", domain=HOST)
    assert client.get("/dashboard").status_code == 200


def test_without_remember_me_closing_the_browser_signs_out(client, ann):
    sign_in(client)
    assert client.get_cookie("remember_token", domain=HOST) is None
    client.delete_cookie("session", domain=HOST)
    assert client.get("/dashboard").status_code == 302


# --- where to go after signing in ---------------------------------------------------------------

@pytest.mark.parametrize("target, expected", [
    ("/jobs", "/jobs"),
    ("/jobs?state=draft&skill=python", "/jobs?state=draft&skill=python"),
    ("/coops/alpha#members", "/coops/alpha#members"),
    ("/", "/"),
    (None, "/dashboard"),
    ("", "/dashboard"),
    ("//evil.example", "/dashboard"),
    ("///evil.example", "/dashboard"),
    ("/\\evil.example", "/dashboard"),
    ("\\\\evil.example", "/dashboard"),
    ("/jobs\\..\\", "/dashboard"),
    ("https://evil.example/", "/dashboard"),
    ("http:/evil.example", "/dashboard"),
    ("javascript:alert(1)", "/dashboard"),
    ("data:text/html,hi", "/dashboard"),
    ("evil.example", "/dashboard"),
    ("jobs", "/dashboard"),
    ("/\t/evil.example", "/dashboard"),
    ("/\n/evil.example", "/dashboard"),
    (" //evil.example", "/dashboard"),
    ("/%0a/evil.example", "/%0a/evil.example"),  # encoded: stays a path on this site
])
def test_next_only_goes_to_paths_on_this_site(client, ann, target, expected):
    login(client, ann)
    query = {} if target is None else {"next": target}
    response = client.get("/login", query_string=query)
    assert response.status_code == 302
    assert response.headers["Location"] in (expected, f"http://{HOST}{expected}")


@pytest.mark.parametrize("target, expected", [
    ("/jobs?state=draft", "/jobs?state=draft"),
    ("//evil.example/", "/dashboard"),
    ("https://evil.example/", "/dashboard"),
])
def test_sign_in_follows_a_safe_next(client, ann, target, expected):
    response = sign_in(client, query="?" + urlencode({"next": target}))
    assert response.status_code == 302
    assert response.headers["Location"] in (expected, f"http://{HOST}{expected}")
