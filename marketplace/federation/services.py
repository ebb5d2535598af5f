"""Business rules for networks: creating them, their coordinators, and co-ops' memberships.

Who sees what is decided in ``policy.py``; this module only changes the data it reads. A
membership change takes effect on the next request, because the viewer is built afresh for
every request.
"""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import re
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..accounts.services import why_user_cannot_act
from ..audit.services import record
from ..core.pagination import paginate
from ..core.rules import RuleError
from ..core.time import site_today
from ..extensions import db
from .models import MembershipStatus, Network, NetworkCoordinator, NetworkMembership
from .policy import _membership_counts as membership_counts  # the one rule for dates

if TYPE_CHECKING:
    from ..core.pagination import Page
    from typing import Any
    from typing import Sequence
    from ..coops.models import Coop

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Paths under /networks/ that a network's slug must not shadow.
RESERVED_SLUGS = {"new"}

STATUS_LABELS = {
    MembershipStatus.ACTIVE: "Active",
    MembershipStatus.GUEST: "Guest",
    MembershipStatus.PENDING: "Pending",
}


class FederationRuleError(RuleError):
    """A change that the rules refuse; ``field`` names the form field at fault, if any."""


# --- who may do what -------------------------------------------------------------------------

def is_coordinator(user: User, network: Network) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return db.session.get(NetworkCoordinator, (user.id, network.id)) is not None


def can_manage(user: User, network: Network) -> bool:
    """Coordinators of this network and site admins manage its memberships."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_site_admin) or is_coordinator(user, network)


def can_manage_networks(user: User) -> bool:
    """Only site admins create networks and name their coordinators."""
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_site_admin)


def _require(allowed: object, message: str = "You are not allowed to do that.") -> None:
    if not allowed:
        raise FederationRuleError(message)


# --- reading ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class MembershipState:
    """What a page says about a membership: its status, unless its dates put it out of force."""

    key: str
    label: str


def membership_state(membership: NetworkMembership, today: date | None = None) -> MembershipState:
    today = today or site_today()
    if membership.until and membership.until < today:
        return MembershipState("ended", "Ended")
    if not membership_counts(membership, today):
        return MembershipState("upcoming", "Not started")
    status = MembershipStatus(membership.status)
    return MembershipState(status.value, STATUS_LABELS[status])


def network_by_slug(slug: str) -> Network | None:
    return db.session.scalar(select(Network).where(Network.slug == slug))


def all_networks() -> Sequence[Network]:
    return db.session.scalars(select(Network).order_by(Network.name)).all()


def network_summaries() -> list[Any]:
    """[(network, {state: count})] for every network, in two statements whatever the size."""
    networks = all_networks()
    today = site_today()
    state = case(
        (NetworkMembership.until < today, "ended"),
        (NetworkMembership.since > today, "upcoming"),
        else_=NetworkMembership.status,
    )
    counts: dict[Any, Any] = {}
    rows = db.session.execute(
        select(NetworkMembership.network_id, state, func.count()).group_by(NetworkMembership.network_id, state)
    )
    for network_id, key, n in rows:
        counts.setdefault(network_id, {})[key] = n
    return [(network, counts.get(network.id, {})) for network in networks]


def memberships_page(network: Network, page: int = 1, per_page: int = 50) -> Page:
    """One page of a network's memberships: in force first (active, guest, pending), then ended."""
    from ..coops.models import Coop

    today = site_today()
    order = case(
        (NetworkMembership.until < today, 4),
        (NetworkMembership.status == MembershipStatus.ACTIVE.value, 1),
        (NetworkMembership.status == MembershipStatus.GUEST.value, 2),
        else_=3,
    )
    stmt = (
        select(NetworkMembership)
        .join(Coop, Coop.id == NetworkMembership.coop_id)
        .where(NetworkMembership.network_id == network.id)
        .options(joinedload(NetworkMembership.coop))
        .order_by(order, Coop.name, Coop.id)
    )
    return paginate(stmt, page, per_page)


def coordinators_of(network: Network) -> Sequence[User]:
    return db.session.scalars(
        select(User).join(NetworkCoordinator, NetworkCoordinator.user_id == User.id)
        .where(NetworkCoordinator.network_id == network.id).order_by(User.name, User.id)
    ).all()


def membership_of(coop: Coop, network: Network) -> NetworkMembership | None:
    return db.session.scalar(
        select(NetworkMembership).where(
            NetworkMembership.coop_id == coop.id, NetworkMembership.network_id == network.id
        )
    )


def networks_open_to(coop: Coop) -> list[Any]:
    """Networks the co-op may apply to: those it has no membership of, or an ended one."""
    today = site_today()
    held = {m.network_id for m in coop.memberships if not (m.until and m.until < today)}
    return [n for n in all_networks() if n.id not in held]


def user_by_email(email: str) -> User | None:
    email = (email or "").strip().lower()
    return db.session.scalar(select(User).where(func.lower(User.email) == email)) if email else None


# --- memberships -----------------------------------------------------------------------------

def _audit_membership(action: str, membership: NetworkMembership, actor: User, **extra: Any) -> None:
    record(
        action, membership, actor=actor, coop=membership.coop,
        network=membership.network.slug, coop_slug=membership.coop.slug,
        status=membership.status,
        since=membership.since.isoformat() if membership.since else None,
        until=membership.until.isoformat() if membership.until else None,
        **extra,
    )


def _check_dates(since: date | None, until: date | None) -> None:
    if since and until and until < since:
        raise FederationRuleError("The end date must not be before the start date.", field="until")


def _check_status(status: str) -> None:
    if status not in {s.value for s in MembershipStatus}:
        raise FederationRuleError("Choose active, guest or pending.", field="status")


def _insert_membership(coop: Coop, network: Network, **values: Any) -> NetworkMembership:
    """Insert a membership; one added at the same moment for the same co-op and network is
    refused. (Built from ids: the co-op's collection is reloaded once it is in the database.)"""
    membership = NetworkMembership(coop_id=coop.id, network_id=network.id, **values)
    try:
        with db.session.begin_nested():
            db.session.add(membership)
    except IntegrityError:
        raise FederationRuleError(
            f"{coop.name} already has a membership of {network.name}.", field="coop"
        ) from None
    db.session.expire(coop, ["memberships"])
    return membership


def apply_for_membership(coop: Coop, network: Network, user: User) -> NetworkMembership:
    """A co-op admin asks for its co-op to join a network: the membership starts pending.

    An ended membership can be applied for again (it becomes pending, without dates)."""
    _require(user.is_admin_of(coop), f"Only admins of {coop.name} can apply for its memberships.")
    membership = membership_of(coop, network)
    if membership is not None:
        if not (membership.until and membership.until < site_today()):
            state = membership_state(membership)
            raise FederationRuleError(
                f"{coop.name} already has a membership of {network.name} ({state.label.lower()}).",
                field="network",
            )
        membership.status, membership.since, membership.until = MembershipStatus.PENDING.value, None, None
    else:
        membership = _insert_membership(coop, network, status=MembershipStatus.PENDING.value)
    _audit_membership("network_membership.applied", membership, user)
    return membership


def add_membership(network: Network, actor: User, coop: Coop, status: str, since: date | None = None,
                   until: date | None = None) -> NetworkMembership:
    """A coordinator (or site admin) records a co-op's membership with a status and dates."""
    _require(can_manage(actor, network), f"Only coordinators of {network.name} can manage its memberships.")
    _check_status(status)
    _check_dates(since, until)
    if membership_of(coop, network) is not None:
        raise FederationRuleError(
            f"{coop.name} already has a membership of {network.name}: change it in the list below.",
            field="coop",
        )
    membership = _insert_membership(coop, network, status=status, since=since, until=until)
    _audit_membership("network_membership.added", membership, actor)
    return membership


def update_membership(membership: NetworkMembership, actor: User, status: str, since: date | None = None,
                      until: date | None = None) -> list[str]:
    """Change a membership's status or dates; returns the names of the fields that changed."""
    network = membership.network
    _require(can_manage(actor, network), f"Only coordinators of {network.name} can manage its memberships.")
    _check_status(status)
    _check_dates(since, until)
    before = {"status": membership.status, "since": membership.since, "until": membership.until}
    membership.status, membership.since, membership.until = status, since, until
    changed = [name for name, value in before.items() if getattr(membership, name) != value]
    if changed:
        _audit_membership("network_membership.updated", membership, actor, fields=changed,
                          status_from=before["status"])
    return changed


def remove_membership(membership: NetworkMembership, actor: User) -> None:
    network = membership.network
    _require(can_manage(actor, network), f"Only coordinators of {network.name} can manage its memberships.")
    _audit_membership("network_membership.removed", membership, actor)
    db.session.delete(membership)


# --- networks and coordinators -----------------------------------------------------------------

def create_network(actor: User, slug: str, name: str, in_federation: bool = True, description: str = "",
                   website: str = "") -> Network:
    _require(can_manage_networks(actor), "Only site admins can create networks.")
    slug = (slug or "").strip().lower()
    if not SLUG_PATTERN.match(slug) or len(slug) > 40:
        raise FederationRuleError(
            "Use lower-case letters, digits and single hyphens (at most 40).", field="slug"
        )
    if slug in RESERVED_SLUGS or network_by_slug(slug) is not None:
        raise FederationRuleError("That short name is taken.", field="slug")
    network = Network(slug=slug, name=name, in_federation=bool(in_federation),
                      description=description or "", website=website or "")
    try:
        with db.session.begin_nested():
            db.session.add(network)
    except IntegrityError:
        raise FederationRuleError("That short name is taken.", field="slug") from None
    record("network.created", network, actor=actor, network=slug, name=name,
           in_federation=network.in_federation)
    return network


def add_coordinator(network: Network, actor: User, email: str) -> User:
    _require(can_manage_networks(actor), "Only site admins can name coordinators.")
    user = user_by_email(email)
    if user is None:
        raise FederationRuleError("There is no user with that email address.", field="email")
    if is_coordinator(user, network):
        raise FederationRuleError(f"{user.name} already coordinates {network.name}.", field="email")
    reason = why_user_cannot_act(user, someone_else=True)
    if reason is not None:
        raise FederationRuleError(reason, field="email")
    db.session.add(NetworkCoordinator(user=user, network=network))
    record("network.coordinator_added", network, actor=actor, network=network.slug, user_id=user.id)
    return user


def remove_coordinator(network: Network, actor: User, user: User) -> None:
    _require(can_manage_networks(actor), "Only site admins can name coordinators.")
    link = db.session.get(NetworkCoordinator, (user.id, network.id))
    if link is None:
        raise FederationRuleError(f"{user.name} does not coordinate {network.name}.")
    db.session.delete(link)
    record("network.coordinator_removed", network, actor=actor, network=network.slug, user_id=user.id)
