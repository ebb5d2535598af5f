"""flask users create | list | set-password, through Click's runner."""
import re

import pytest
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.audit.models import AuditEvent
from marketplace.coops.models import CoopMember
from marketplace.extensions import db
from marketplace.federation.models import NetworkCoordinator

from ..factories import PASSWORD, make_coop, make_user
from .conftest import NEW_PASSWORD, count, failures, sign_in, users


def invoke(runner, *args, input=None):
    return runner.invoke(args=["users", *args], input=input)


def test_create_a_plain_user(runner, client):
    result = invoke(runner, "create", "Kim@Example.coop", "--name", "Kim Lee", "--password", NEW_PASSWORD)
    assert result.exit_code == 0, result.output
    assert "Created user kim@example.coop." in result.output
    user = db.session.scalars(select(User)).one()
    assert (user.email, user.name, user.is_site_admin) == ("kim@example.coop", "Kim Lee", False)
    assert count(AuditEvent, AuditEvent.action == "user.created", AuditEvent.target_id == user.id) == 1
    assert sign_in(client, email="kim@example.coop", password=NEW_PASSWORD).status_code == 302


def test_create_admin_coordinator_and_coop_admin(runner, networks):
    coop = make_coop("Alpha Works", {networks["cotech"]: "active"})
    result = invoke(runner, "create", "kim@example.coop", "--name", "Kim", "--password", NEW_PASSWORD,
                    "--admin", "--coordinator", "cotech", "--coordinator", "workers-coop",
                    "--coop", "alpha-works", "--coop-admin")
    assert result.exit_code == 0, result.output
    assert "site admin, coordinator of cotech, coordinator of workers-coop, admin of alpha-works" in result.output
    user = db.session.scalars(select(User)).one()
    assert user.is_site_admin
    assert {c.network.slug for c in db.session.scalars(select(NetworkCoordinator))} == {"cotech", "workers-coop"}
    link = db.session.scalars(select(CoopMember)).one()
    assert (link.coop_id, link.user_id, link.role) == (coop.id, user.id, "admin")


def test_create_coop_member_with_prompted_password(runner, networks):
    make_coop("Alpha Works")
    result = invoke(runner, "create", "kim@example.coop", "--name", "Kim", "--coop", "alpha-works",
                    input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output  # typed hidden
    assert "Repeat for confirmation" in result.output
    user = db.session.scalars(select(User)).one()
    assert user.check_password(NEW_PASSWORD)
    assert db.session.scalars(select(CoopMember)).one().role == "member"


@pytest.mark.parametrize("args, message", [
    (["taken@example.coop", "--name", "X", "--password", NEW_PASSWORD], "already exists"),
    (["new@example.coop", "--name", "X", "--password", "short"], "between 10 and 200"),
    (["new@example.coop", "--name", "X", "--password", NEW_PASSWORD, "--coordinator", "nowhere"],
     "There is no network 'nowhere'"),
    (["new@example.coop", "--name", "X", "--password", NEW_PASSWORD, "--coordinator", "cotech",
      "--coop", "no-such-coop"], "There is no co-op 'no-such-coop'"),
    (["new@example.coop", "--name", "X", "--password", NEW_PASSWORD, "--coop-admin"], "--coop-admin needs --coop"),
    (["not-an-email", "--name", "X", "--password", NEW_PASSWORD], "not a valid email address"),
    (["new@example.coop", "--name", "   ", "--password", NEW_PASSWORD], "Give a name"),
    (["new@example.coop", "--name", "x" * 121, "--password", NEW_PASSWORD], "at most 120"),
])
def test_create_errors_write_nothing(runner, networks, args, message):
    make_user(email="taken@example.coop")
    result = invoke(runner, "create", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert users() == 1
    assert count(NetworkCoordinator) == 0 and count(CoopMember) == 0 and count(AuditEvent) == 0


def test_create_refuses_mismatched_prompted_passwords(runner):
    result = invoke(runner, "create", "kim@example.coop", "--name", "Kim",
                    input=f"{NEW_PASSWORD}\nsomething else\n")
    assert result.exit_code != 0
    assert users() == 0


def test_list(runner, networks):
    alpha = make_coop("Alpha Works")
    beta = make_coop("Beta Co-op")
    make_user("Zed Admin", email="zed@example.coop", admin=True)
    make_user("Amy Member", email="amy@example.coop", coops={alpha: "admin", beta: "member"})
    result = invoke(runner, "list")
    assert result.exit_code == 0
    rows = [re.split(r"\s{2,}", line) for line in result.output.splitlines()]
    assert rows == [
        ["EMAIL", "NAME", "ADMIN", "CO-OPS"],
        ["amy@example.coop", "Amy Member", "no", "alpha-works (admin), beta-co-op (member)"],
        ["zed@example.coop", "Zed Admin", "yes", "-"],
    ]


def test_list_without_users(runner):
    assert invoke(runner, "list").output.strip() == "No users."


def test_set_password(runner, client, ann):
    for _ in range(5):
        sign_in(client, password="wrong password!")
    result = invoke(runner, "set-password", "ANN@example.coop", input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Password set for ann@example.coop." in result.output
    db.session.refresh(ann)
    assert ann.check_password(NEW_PASSWORD)
    assert failures() == 0
    assert count(AuditEvent, AuditEvent.action == "user.password_set") == 1
    assert sign_in(client, password=NEW_PASSWORD).status_code == 302


def test_set_password_errors(runner, ann):
    result = invoke(runner, "set-password", "nobody@example.coop", "--password", NEW_PASSWORD)
    assert result.exit_code != 0 and "There is no user" in result.output
    result = invoke(runner, "set-password", ann.email, "--password", "short")
    assert result.exit_code != 0 and "between 10 and 200" in result.output
    db.session.refresh(ann)
    assert ann.check_password(PASSWORD)
