"""Business rules for co-ops, as plain functions: the directory, registering and editing a
co-op, its members and their roles, and requests to join it."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, TypeGuard

from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..accounts.services import why_user_cannot_act
from ..audit.services import record
from ..core.markdown import render_markdown
from ..core.models import contains
from ..core.pagination import paginate
from ..core.rules import RuleError
from ..core.time import site_today, utcnow
from ..extensions import db
from ..federation import services as federation
from ..federation.models import MembershipStatus, NetworkMembership
from ..federation.policy import membership_counts_clause
from ..skills.services import slugify
from .models import Coop, CoopMember, CoopRole, JoinRequest, JoinRequestStatus, coop_skill

if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Iterable
    from collections.abc import Mapping
    from ..skills.models import Skill
    from ..federation.models import Network
    from ..core.pagination import Page
    from sqlalchemy.sql.selectable import Select
    from typing import Sequence
    from ..accounts.models import User
    from ..federation.policy import Viewer

MAX_SKILLS = 40
# Paths under /coops/ that a co-op's slug must not shadow.
RESERVED_SLUGS = {"new", "join-requests"}
PROFILE_FIELDS = ("name", "website", "email", "description", "size", "location")


class CoopRuleError(RuleError):
    """A change that the rules refuse; ``field`` names the form field at fault, if any."""


# --- who may do what -------------------------------------------------------------------------

def _signed_in(user: User | None) -> TypeGuard[User]:
    return user is not None and getattr(user, "is_authenticated", False)


def coops_of(viewer: Viewer) -> list[Any] | Sequence[Coop]:
    """The co-ops ``viewer`` belongs to, by name. Pages shared by an audience are built from
    the viewer (whose co-ops are part of the audience), never from the user's own rows."""
    if not viewer.coop_ids:
        return []
    return db.session.scalars(select(Coop).where(Coop.id.in_(viewer.coop_ids)).order_by(Coop.name)).all()


def is_member(user: User | None, coop: Coop) -> bool:
    return _signed_in(user) and user.is_member_of(coop)


def is_admin(user: User | None, coop: Coop) -> bool:
    return _signed_in(user) and user.is_admin_of(coop)


def _require_admin(user: User | None, coop: Coop) -> None:
    if not is_admin(user, coop):
        raise CoopRuleError(f"Only admins of {coop.name} can do that.")


# --- the directory ---------------------------------------------------------------------------

@dataclass
class DirectoryFilters:
    network: Network | None = None  # a Network: co-ops whose membership of it is in force
    skill: Skill | None = None  # a Skill
    name: str = ""  # part of the name, any case


def directory_query(filters: DirectoryFilters | None = None) -> Select[Coop]:
    filters = filters or DirectoryFilters()
    stmt = select(Coop)
    if filters.name:
        stmt = stmt.where(contains(Coop.name, filters.name))
    if filters.skill is not None:
        # EXISTS, not IN: the planner then walks the co-ops by name and stops at the page's
        # end, instead of sorting every co-op that offers a common skill.
        stmt = stmt.where(
            exists().where(coop_skill.c.coop_id == Coop.id, coop_skill.c.skill_id == filters.skill.id)
        )
    if filters.network is not None:
        stmt = stmt.where(Coop.id.in_(
            select(NetworkMembership.coop_id).where(
                NetworkMembership.network_id == filters.network.id,
                NetworkMembership.status.in_([MembershipStatus.ACTIVE.value, MembershipStatus.GUEST.value]),
                membership_counts_clause(),
            )
        ))
    return stmt.order_by(Coop.name, Coop.id)


def _profile_options() -> list[Any]:
    """Skills, memberships and their networks, each in one statement whatever the number of co-ops."""
    return [selectinload(Coop.skills), selectinload(Coop.memberships).selectinload(NetworkMembership.network)]


def list_coops(filters: DirectoryFilters | None = None, page: int = 1, per_page: int = 20) -> Page:
    """One page of the directory."""
    return paginate(directory_query(filters).options(*_profile_options()), page, per_page)


def coops_offering(skill: Skill, limit: int) -> Page:
    """The first ``limit`` co-ops offering ``skill``, by name, as a ``Page`` that knows how many
    there are (a common skill has thousands: the directory lists the rest)."""
    offering = db.session.scalar(
        select(func.count()).select_from(coop_skill).where(coop_skill.c.skill_id == skill.id)
    )
    return paginate(directory_query(DirectoryFilters(skill=skill)), 1, limit, total=offering or 0)


def coop_by_slug(slug: str, members: bool = False) -> Coop | None:
    options = _profile_options()
    if members:
        options.append(selectinload(Coop.members).selectinload(CoopMember.user))
    return db.session.scalar(select(Coop).where(Coop.slug == slug).options(*options))


def find_coop(text: str) -> Coop | None:
    """A co-op by its slug or, failing that, by its exact name in any case."""
    text = (text or "").strip()
    if not text:
        return None
    return db.session.scalar(select(Coop).where(Coop.slug == text.lower())) or db.session.scalar(
        select(Coop).where(func.lower(Coop.name) == text.lower()).order_by(Coop.id).limit(1)
    )


def current_memberships(coop: Coop, today: date | None = None) -> list[Any]:
    """[(membership, state)] of a co-op, by network name (ended ones included)."""
    today = today or site_today()
    return [
        (m, federation.membership_state(m, today))
        for m in sorted(coop.memberships, key=lambda m: m.network.name.lower())
    ]


def members_of(coop: Coop) -> Sequence[CoopMember]:
    return db.session.scalars(
        select(CoopMember).where(CoopMember.coop_id == coop.id)
        .options(selectinload(CoopMember.user)).order_by(CoopMember.role, CoopMember.id)
    ).all()


# --- registering and editing -----------------------------------------------------------------

def _name_taken(name: str, exclude: Coop | None = None) -> bool:
    stmt = select(Coop.id).where(func.lower(Coop.name) == name.strip().lower())
    if exclude is not None:
        stmt = stmt.where(Coop.id != exclude.id)
    return db.session.scalar(stmt.limit(1)) is not None


def unique_slug(name: str) -> str:
    """The slug of ``name``, with -2, -3 … when it is taken (or would shadow a page)."""
    base = slugify(name)[:72].strip("-") or "coop"
    taken = set(db.session.scalars(
        select(Coop.slug).where(or_(Coop.slug == base, Coop.slug.like(base + "-%")))
    )) | RESERVED_SLUGS
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _apply_profile(coop: Coop, values: Mapping[str, Any], skills: Sequence[Skill] | None) -> None:
    for name in PROFILE_FIELDS:
        if name in values:
            setattr(coop, name, values[name])
    coop.description_html = render_markdown(coop.description)
    if skills is not None:
        if len(skills) > MAX_SKILLS:
            raise CoopRuleError(f"Choose at most {MAX_SKILLS} skills.", field="skills")
        coop.skills = list(skills)


def register_coop(user: User, values: Mapping[str, Any], skills: Sequence[Skill] = (),
                  networks: Iterable[Network] = ()) -> Coop:
    """Register a co-op: its creator becomes its admin, and each chosen network membership
    is applied for (pending until a coordinator decides)."""
    if not _signed_in(user):
        raise CoopRuleError("Sign in to register a co-op.")
    if _name_taken(values["name"]):
        raise CoopRuleError("A co-op with this name is already registered.", field="name")
    coop = Coop(slug=unique_slug(values["name"]))
    try:
        with db.session.begin_nested():
            db.session.add(coop)
            _apply_profile(coop, values, list(skills))
            db.session.add(CoopMember(coop=coop, user=user, role=CoopRole.ADMIN.value))
    except IntegrityError:
        # Another co-op took the slug between our check and our insert.
        raise CoopRuleError("A co-op with this name was registered just now; try another name.",
                            field="name") from None
    record("coop.created", coop, actor=user, coop=coop, name=coop.name, slug=coop.slug)
    for network in networks:
        federation.apply_for_membership(coop, network, user)
    return coop


def update_coop(coop: Coop, user: User, values: Mapping[str, Any], skills: Sequence[Skill] | None = None) -> list[str]:
    """Edit a co-op's profile (its slug stays, so links keep working); returns changed fields."""
    _require_admin(user, coop)
    if "name" in values and _name_taken(values["name"], exclude=coop):
        raise CoopRuleError("A co-op with this name is already registered.", field="name")
    before = {n: getattr(coop, n) for n in PROFILE_FIELDS}
    before_skills = {s.id for s in coop.skills}
    _apply_profile(coop, values, skills)
    changed = sorted(n for n in PROFILE_FIELDS if getattr(coop, n) != before[n])
    if skills is not None and {s.id for s in coop.skills} != before_skills:
        changed.append("skills")
    if changed:
        record("coop.updated", coop, actor=user, coop=coop, fields=changed)
    return changed


# --- members ---------------------------------------------------------------------------------

def _lock_admins(coop: Coop) -> None:
    """Serialise changes to a co-op's admins, so that two at once cannot remove the last one.
    (FOR UPDATE on PostgreSQL; SQLite has one writer at a time anyway.)"""
    db.session.execute(select(Coop.id).where(Coop.id == coop.id).with_for_update())


def _admin_count(coop: Coop) -> int:
    return db.session.scalar(
        select(func.count()).select_from(CoopMember)
        .where(CoopMember.coop_id == coop.id, CoopMember.role == CoopRole.ADMIN.value)
    ) or 0


LAST_ADMIN_VERBS = {
    ("demote", True): "step down", ("demote", False): "be demoted",
    ("remove", True): "leave", ("remove", False): "be removed",
}


def _check_not_last_admin(coop: Coop, member: CoopMember, action: str, actor: User) -> None:
    if member.role == CoopRole.ADMIN and _admin_count(coop) <= 1:
        yourself = actor.id == member.user_id
        who = "You are" if yourself else f"{member.user.name} is"
        raise CoopRuleError(
            f"{who} the last admin of {coop.name} and cannot {LAST_ADMIN_VERBS[action, yourself]}. "
            "Make another member an admin first.", field="role",
        )


def _enrol(coop: Coop, user: User, role: str, actor: User, via: str | None = None) -> CoopMember:
    """Make ``user`` a member of ``coop``; a pending request to join is closed as approved.
    Only a user who has confirmed their email address joins."""
    reason = why_user_cannot_act(user, someone_else=True)
    if reason is not None:
        raise CoopRuleError(reason, field="email")
    member = CoopMember(coop=coop, user=user, role=role)
    db.session.add(member)
    record("coop.member_added", coop, actor=actor, coop=coop, user_id=user.id, role=role, via=via)
    pending = _pending_request(coop, user)
    if pending is not None:
        _decide(pending, actor, JoinRequestStatus.APPROVED)
    return member


def add_member(coop: Coop, actor: User, email: str, role: str = CoopRole.MEMBER.value) -> CoopMember:
    """An admin adds an existing user (found by email) to the co-op."""
    _require_admin(actor, coop)
    if role not in {r.value for r in CoopRole}:
        raise CoopRuleError("Choose member or admin.", field="role")
    user = federation.user_by_email(email)
    if user is None:
        raise CoopRuleError("There is no user with that email address. They need to register first.",
                            field="email")
    if user.is_member_of(coop):
        raise CoopRuleError(f"{user.name} is already a member of {coop.name}.", field="email")
    return _enrol(coop, user, role, actor)


def change_role(coop: Coop, actor: User, member: CoopMember, role: str) -> bool:
    _require_admin(actor, coop)
    if role not in {r.value for r in CoopRole}:
        raise CoopRuleError("Choose member or admin.", field="role")
    if member.role == role:
        return False
    _lock_admins(coop)
    if role != CoopRole.ADMIN:
        _check_not_last_admin(coop, member, "demote", actor)
    before, member.role = member.role, role
    record("coop.member_role_changed", coop, actor=actor, coop=coop, user_id=member.user_id,
           role_from=before, role=role)
    return True


def remove_member(coop: Coop, actor: User, member: CoopMember) -> None:
    """An admin removes a member, or a member leaves (``actor`` is the member)."""
    leaving = actor.id == member.user_id
    if not leaving:
        _require_admin(actor, coop)
    _lock_admins(coop)
    _check_not_last_admin(coop, member, "remove", actor)
    record("coop.member_left" if leaving else "coop.member_removed", coop, actor=actor, coop=coop,
           user_id=member.user_id, role=member.role)
    db.session.delete(member)


def membership_for(coop: Coop, user: User) -> CoopMember | None:
    return db.session.scalar(
        select(CoopMember).where(CoopMember.coop_id == coop.id, CoopMember.user_id == user.id)
    )


def member_by_id(coop: Coop, member_id: int) -> CoopMember | None:
    return db.session.scalar(
        select(CoopMember).where(CoopMember.coop_id == coop.id, CoopMember.id == member_id)
    )


# --- requests to join ------------------------------------------------------------------------

def _pending_request(coop: Coop, user: User) -> JoinRequest | None:
    return db.session.scalar(select(JoinRequest).where(
        JoinRequest.coop_id == coop.id, JoinRequest.user_id == user.id,
        JoinRequest.status == JoinRequestStatus.PENDING.value,
    ))


def pending_request(coop: Coop, user: User | None) -> JoinRequest | None:
    return _pending_request(coop, user) if _signed_in(user) else None


DUPLICATE_REQUEST = "You have already asked to join {coop}; its admins have not answered yet."


def request_to_join(coop: Coop, user: User, message: str = "") -> JoinRequest:
    """A signed-in user asks to join; at most one pending request per user and co-op."""
    if not _signed_in(user):
        raise CoopRuleError("Sign in to ask to join a co-op.")
    if user.is_member_of(coop):
        raise CoopRuleError(f"You are already a member of {coop.name}.")
    if _pending_request(coop, user) is not None:
        raise CoopRuleError(DUPLICATE_REQUEST.format(coop=coop.name))
    join_request = JoinRequest(coop=coop, user=user, message=(message or "").strip())
    try:
        with db.session.begin_nested():
            db.session.add(join_request)
    except IntegrityError:
        # The partial unique index caught a request sent at the same moment.
        raise CoopRuleError(DUPLICATE_REQUEST.format(coop=coop.name)) from None
    record("join_request.created", join_request, actor=user, coop=coop)
    return join_request


def _decide(join_request: JoinRequest, actor: User, status: JoinRequestStatus) -> None:
    join_request.status = status.value
    join_request.decided_at = utcnow()
    join_request.decided_by_id = actor.id
    record(f"join_request.{status.value}", join_request, actor=actor, coop=join_request.coop,
           user_id=join_request.user_id)


def decide_request(join_request: JoinRequest, actor: User, approve: bool) -> JoinRequest:
    """An admin approves (the requester becomes a member) or declines a pending request."""
    coop = join_request.coop
    _require_admin(actor, coop)
    if join_request.status != JoinRequestStatus.PENDING:
        raise CoopRuleError("This request has already been answered.")
    if not approve:
        _decide(join_request, actor, JoinRequestStatus.DECLINED)
    elif join_request.user.is_member_of(coop):
        _decide(join_request, actor, JoinRequestStatus.APPROVED)
    else:
        _enrol(coop, join_request.user, CoopRole.MEMBER.value, actor, via="join_request")
    return join_request


def pending_requests(coop: Coop) -> Sequence[JoinRequest]:
    return db.session.scalars(
        select(JoinRequest).where(JoinRequest.coop_id == coop.id,
                                  JoinRequest.status == JoinRequestStatus.PENDING.value)
        .options(selectinload(JoinRequest.user)).order_by(JoinRequest.created_at, JoinRequest.id)
    ).all()


def request_by_id(coop: Coop, request_id: int) -> JoinRequest | None:
    return db.session.scalar(
        select(JoinRequest).where(JoinRequest.coop_id == coop.id, JoinRequest.id == request_id)
    )


def requests_of(user: User) -> Sequence[JoinRequest]:
    """A user's own requests, newest first, with their outcome."""
    return db.session.scalars(
        select(JoinRequest).where(JoinRequest.user_id == user.id)
        .options(selectinload(JoinRequest.coop))
        .order_by(JoinRequest.created_at.desc(), JoinRequest.id.desc())
    ).all()
