"""flask --app marketplace users create | list | set-password"""
import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..coops.models import Coop, CoopMember, CoopRole
from ..extensions import db
from ..federation.models import Network
from . import services
from .models import User

users_cli = AppGroup("users", help="Manage users.")


def _prompt_password():
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _by_slug(model, slug, what):
    found = db.session.scalar(select(model).where(model.slug == slug))
    if found is None:
        raise click.ClickException(f"There is no {what} {slug!r}.")
    return found


def _apply(change):
    """Run ``change`` and commit, or write nothing and exit non-zero with its message."""
    try:
        result = change()
        db.session.commit()
    except services.AccountError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    return result


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The person's full name.")
@click.option("--password", help="Asked for (hidden, twice) when not given.")
@click.option("--admin", is_flag=True, help="Make a site admin.")
@click.option("--coordinator", "networks", multiple=True, metavar="NETWORK_SLUG",
              help="Make a coordinator of this network (may be repeated).")
@click.option("--coop", "coop_slug", metavar="COOP_SLUG", help="Add as a member of this co-op.")
@click.option("--coop-admin", is_flag=True, help="With --coop: as an administrator of the co-op.")
def create(email, name, password, admin, networks, coop_slug, coop_admin):
    """Create a user, optionally a site admin, coordinator or co-op member."""
    if coop_admin and not coop_slug:
        raise click.ClickException("--coop-admin needs --coop COOP_SLUG.")
    # Everything that can be checked is checked before asking for the password.
    networks = [_by_slug(Network, slug, "network") for slug in dict.fromkeys(networks)]
    coop = _by_slug(Coop, coop_slug, "co-op") if coop_slug else None
    try:
        services.check_name(name)
        if services.find_user(services.check_email(email)) is not None:
            raise services.AccountError(services.EMAIL_TAKEN)
        if password is not None:
            services.check_password(password)
    except services.AccountError as error:
        raise click.ClickException(error.message) from None
    password = password if password is not None else _prompt_password()

    def change():
        user = services.create_user(name, email, password, is_site_admin=admin)
        for network in networks:
            services.add_coordinator(user, network)
        if coop is not None:
            services.add_coop_member(user, coop, CoopRole.ADMIN if coop_admin else CoopRole.MEMBER)
        return user

    user = _apply(change)
    roles = (["site admin"] if admin else []) + [f"coordinator of {n.slug}" for n in networks]
    if coop is not None:
        roles.append(f"{'admin' if coop_admin else 'member'} of {coop.slug}")
    click.echo(f"Created user {user.email}" + (f" ({', '.join(roles)})." if roles else "."))


@users_cli.command("list")
def list_users():
    """List users: email, name, site admin, co-ops."""
    users = db.session.scalars(
        select(User).options(selectinload(User.coop_links).joinedload(CoopMember.coop)).order_by(User.email)
    ).all()
    if not users:
        click.echo("No users.")
        return
    rows = [("EMAIL", "NAME", "ADMIN", "CO-OPS")] + [
        (
            u.email, u.name, "yes" if u.is_site_admin else "no",
            ", ".join(sorted(f"{link.coop.slug} ({link.role})" for link in u.coop_links)) or "-",
        )
        for u in users
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        click.echo("  ".join(value.ljust(width) for value, width in zip(row, widths)) + "  " + row[3])


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password", help="Asked for (hidden, twice) when not given.")
def set_password(email, password):
    """Set a user's password (and forget the account's failed sign-ins)."""
    user = services.find_user(email)
    if user is None:
        raise click.ClickException(f"There is no user with the email address {email!r}.")
    password = password if password is not None else _prompt_password()
    _apply(lambda: services.set_password(user, password))
    click.echo(f"Password set for {user.email}.")
