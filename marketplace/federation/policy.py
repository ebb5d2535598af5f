"""THE visibility rule. Every read of jobs goes through this module.

A viewer is reduced once per request to a set of *audience tokens*: the visibilities it may
see (``visibility:cotech`` …) and the co-ops it belongs to (``coop:12``). A job's audience is
the same kind of set (``audience_of``). A viewer sees a job when the two sets meet. The same
sets filter SQL queries (``visible_jobs``), answer single checks (``can_view_job``) and are
written into search documents and feeds, so there is one rule in one place.

| visibility  | seen through membership of                     | and by coordinators of |
|-------------|------------------------------------------------|------------------------|
| cotech      | the CoTech circle, active or guest             | the CoTech circle      |
| federation  | any federation network (cotech, workers-coop), active, | those networks  |
|             | and everyone the cotech row admits (its guests)      |                 |
| public      | everyone                                       |                        |

Always also: the posting co-op (drafts are seen by it alone) and site admins (not drafts).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import ColumnElement, and_, or_, select

from ..core.cache import forget, request_cached
from ..core.fragments import remembered
from ..core.time import site_today
from ..extensions import db
from .models import MembershipStatus, Network, NetworkCoordinator, NetworkMembership, Visibility

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.orm.interfaces import ORMOption

    from ..accounts.models import User
    from ..coops.models import Coop
    from ..documents.models import Document
    from ..jobs.models import Job

S = TypeVar("S", bound="Select[*tuple[Any, ...]]")
# One admission to an audience: which networks, and which statuses of a membership of them.
Admission = tuple[Callable[[Network], bool], frozenset[MembershipStatus]]

CIRCLE_SLUG = "cotech"

# Who is in the audience of each members-only visibility: its admissions, each a pair (which
# networks, which membership statuses). The audiences nest (public ⊃ federation ⊃ cotech):
# federation admits everyone the CoTech row admits (its guests too), as well as the active
# members of every federation network.
_CIRCLE: Admission = (lambda network: network.slug == CIRCLE_SLUG, frozenset({MembershipStatus.ACTIVE, MembershipStatus.GUEST}))
_FEDERATION: Admission = (lambda network: network.in_federation, frozenset({MembershipStatus.ACTIVE}))
AUDIENCE: dict[Visibility, tuple[Admission, ...]] = {
    Visibility.COTECH: (_CIRCLE,),
    Visibility.FEDERATION: (_FEDERATION, _CIRCLE),
}


def admits(network: Network, visibility: str, status: str | None = None) -> bool:
    """Does a membership of ``network`` with ``status`` put a co-op in the audience of
    ``visibility``? With no status: is the network in that audience at all (its coordinators
    see the visibility's jobs)?"""
    return any(in_audience(network) and (status is None or status in statuses)
               for in_audience, statuses in AUDIENCE.get(Visibility(visibility), ()))


@dataclass(frozen=True)
class Viewer:
    """What the visibility rule needs to know about whoever is asking."""

    user_id: int | None = None
    coop_ids: frozenset[int] = field(default_factory=frozenset)
    visibilities: frozenset[str] = frozenset({Visibility.PUBLIC.value})
    coordinated_network_ids: frozenset[int] = field(default_factory=frozenset)
    is_site_admin: bool = False
    # The viewer's co-ops that may act (post, bid): a current active or guest membership.
    acting_coop_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    @property
    def is_coordinator(self) -> bool:
        return bool(self.coordinated_network_ids)

    @property
    def tokens(self) -> frozenset[str]:
        return frozenset(visibility_token(v) for v in self.visibilities) | frozenset(
            coop_token(c) for c in self.coop_ids
        )


ANONYMOUS = Viewer()


def visibility_token(visibility: str) -> str:
    return f"visibility:{visibility}"


def coop_token(coop_id: int) -> str:
    return f"coop:{coop_id}"


def _membership_counts(membership: NetworkMembership, today: date) -> bool:
    """A membership counts from its start date until its end date (both optional)."""
    if membership.since and membership.since > today:
        return False
    return not (membership.until and membership.until < today)


def membership_counts_clause(today: date | None = None) -> ColumnElement[bool]:
    """SQL: the membership is in force today (``_membership_counts`` for queries)."""
    today = today or site_today()
    return and_(or_(NetworkMembership.since.is_(None), NetworkMembership.since <= today),
                or_(NetworkMembership.until.is_(None), NetworkMembership.until >= today))


def visibilities_for(memberships: Iterable[tuple[Network, str]], coordinated_networks: Iterable[Network],
                     is_site_admin: bool = False) -> frozenset[str]:
    """The visibilities opened by these (network, status) memberships and coordinated networks."""
    if is_site_admin:
        return frozenset(v.value for v in Visibility)
    seen = {Visibility.PUBLIC.value}
    for visibility in AUDIENCE:
        if any(admits(network, visibility, status) for network, status in memberships):
            seen.add(visibility.value)
        if any(admits(network, visibility) for network in coordinated_networks):
            seen.add(visibility.value)
    return frozenset(seen)


def viewer_for(user: Any) -> Viewer:
    """Build the ``Viewer`` of a user (or of nobody, for ``None`` and anonymous users)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    return viewers_for([user])[user.id]


def viewers_for(users: Iterable[User]) -> dict[int, Viewer]:
    """{user id: ``Viewer``} of many users in two statements, whatever their number (what
    sending to thousands of recipients needs; ``viewer_for`` is the one-user case)."""
    from ..coops.models import CoopMember

    people = list(users)
    if not people:
        return {}
    ids = sorted({user.id for user in people})
    today = site_today()
    rows = db.session.execute(
        select(CoopMember.user_id, CoopMember.coop_id, NetworkMembership, Network)
        .outerjoin(NetworkMembership, NetworkMembership.coop_id == CoopMember.coop_id)
        .outerjoin(Network, Network.id == NetworkMembership.network_id)
        .where(CoopMember.user_id.in_(ids))
    ).all()
    coordinated: dict[int, list[Network]] = {}
    for user_id, network in db.session.execute(
        select(NetworkCoordinator.user_id, Network).join(Network, Network.id == NetworkCoordinator.network_id)
        .where(NetworkCoordinator.user_id.in_(ids))
    ).all():
        coordinated.setdefault(user_id, []).append(network)
    mine: dict[int, list[tuple[int, NetworkMembership | None, Network | None]]] = {}
    for row in rows:
        mine.setdefault(row[0], []).append(row[1:])
    return {user.id: _viewer(user, mine.get(user.id, []), coordinated.get(user.id, []), today) for user in people}


def _viewer(user: User, rows: Sequence[tuple[int, NetworkMembership | None, Network | None]],
            coordinated: Sequence[Network], today: date) -> Viewer:
    """The viewer of ``user`` from their (co-op id, membership, network) rows."""
    coop_ids = frozenset(row[0] for row in rows)
    memberships = [
        (network, membership.status)
        for _, membership, network in rows
        # (a membership's network is always there: the outer join finds both or neither)
        if membership is not None and network is not None and _membership_counts(membership, today)
    ]
    acting = frozenset(
        coop_id for coop_id, membership, _ in rows
        if membership is not None and membership.status in ACTING_STATUSES and _membership_counts(membership, today)
    )
    return Viewer(
        user_id=user.id,
        coop_ids=coop_ids,
        visibilities=visibilities_for(memberships, coordinated, user.is_site_admin),
        coordinated_network_ids=frozenset(n.id for n in coordinated),
        is_site_admin=user.is_site_admin,
        acting_coop_ids=acting,
    )


def current_viewer() -> Viewer:
    """The viewer of the current request, computed once per request, and for a signed-in
    user kept between requests until the next write (memberships change by writes; the day
    is part of the key, as memberships start and end on dates)."""
    def compute() -> Viewer:
        if not getattr(current_user, "is_authenticated", False):
            return ANONYMOUS
        return remembered(("viewer", current_user.id, site_today()), lambda: viewer_for(current_user))

    return request_cached("viewer", compute)


def audience_key(viewer: Viewer) -> str:
    """Everything the visibility rule knows of ``viewer`` but who they are, as a string: two
    viewers with the same key see the same jobs, co-ops and counts on every page, so pages
    shared between viewers (``core.fragments``) are cached under it. Built from every field of
    ``Viewer`` but ``user_id``, so a field added later is part of it."""
    return ";".join(
        f"{f.name}={sorted(value) if isinstance(value, frozenset) else value!r}"
        for f in fields(viewer) if f.name != "user_id"
        for value in (getattr(viewer, f.name),)
    )


def forget_current_viewer() -> None:
    """Call after changing the signed-in user's memberships within a request."""
    forget("viewer")


# --- jobs -----------------------------------------------------------------------------------

def audience_of(job: Job) -> frozenset[str]:
    """The audience tokens of a job: its posting co-op, and its visibility once published."""
    from ..jobs.models import JobStatus

    tokens = {coop_token(job.coop_id)}
    if job.status != JobStatus.DRAFT:
        tokens.add(visibility_token(job.visibility))
    return frozenset(tokens)


def can_view_job(viewer: Viewer, job: Job | None) -> bool:
    return job is not None and bool(audience_of(job) & viewer.tokens)


def job_visibility_clause(viewer: Viewer) -> ColumnElement[bool]:
    """The SQL condition equivalent to ``can_view_job`` for this viewer."""
    from ..jobs.models import Job, JobStatus

    clause: ColumnElement[bool] = and_(Job.status != JobStatus.DRAFT.value, Job.visibility.in_(sorted(viewer.visibilities)))
    if viewer.coop_ids:
        clause = or_(clause, Job.coop_id.in_(sorted(viewer.coop_ids)))
    return clause


def visible_jobs(stmt: S, viewer: Viewer) -> S:
    """Narrow a SELECT that involves ``Job`` to the jobs ``viewer`` may see."""
    return stmt.where(job_visibility_clause(viewer))


def get_job_or_404(job_id: int, viewer: Viewer | None = None, options: Iterable[ORMOption] = ()) -> Job:
    """The job, if the viewer may see it; otherwise 404 (never 403: do not confirm it exists)."""
    from ..jobs.models import Job

    job = db.session.get(Job, job_id, options=list(options))
    if job is None or not can_view_job(viewer or current_viewer(), job):
        abort(404)
    return job


def can_see_outcome(viewer: Viewer, job: Job | None) -> bool:
    """May ``viewer`` see who won ``job`` and for how much? Everyone who may see the job and
    belongs to its audience: for a members-only job, all of them (their memberships admit
    them); for a public job, members of a network (a co-op with an active or guest
    membership), coordinators, the poster's co-op and site admins. Anonymous visitors and
    unvetted co-ops only when the poster published the outcome (``job.outcome_public``)."""
    from ..jobs.models import JobStatus

    if job is None or job.status != JobStatus.AWARDED or not can_view_job(viewer, job):
        return False
    if job.outcome_public or viewer.is_site_admin or job.coop_id in viewer.coop_ids:
        return True
    if job.visibility != Visibility.PUBLIC:
        return True  # seeing a members-only job takes a membership (or coordinating) of its audience
    return bool(viewer.acting_coop_ids) or viewer.is_coordinator


def can_see_document(viewer: Viewer, document: Document) -> bool:
    """May ``viewer`` download ``document``? As its owner is shown: a job's files as the job; a
    question's and an answer's as the question (published answers to everyone who sees the
    job, an unanswered question to the poster's co-op and the asking co-op); a bid's as the
    bid's contents (the bidding co-op always, the reviewers once bids close). A pending upload,
    not yet part of anything, to nobody. Anything else answers 404, as a hidden job does."""
    from ..bids.models import Bid
    from ..bids.policy import can_view_bid
    from ..documents.models import OwnerKind
    from ..jobs.models import Job
    from ..questions.models import Question

    kind = document.owner_kind
    if kind == OwnerKind.JOB:
        return can_view_job(viewer, db.session.get(Job, document.owner_id))
    if kind in (OwnerKind.QUESTION, OwnerKind.ANSWER):
        question = db.session.get(Question, document.owner_id)
        if question is None or not can_view_job(viewer, question.job):
            return False
        if question.is_answered:
            return True
        return kind == OwnerKind.QUESTION and (question.job.coop_id in viewer.coop_ids
                                               or question.coop_id in viewer.coop_ids)
    if kind == OwnerKind.BID:
        bid = db.session.get(Bid, document.owner_id)
        return bid is not None and can_view_bid(viewer, bid)
    return False


def networks_in_audience(job: Job) -> list[Network]:
    """The networks whose coordinators see ``job`` (empty for public jobs: everybody does)."""
    if job.visibility == Visibility.PUBLIC or job.visibility not in AUDIENCE:
        return []
    return [n for n in db.session.scalars(select(Network).order_by(Network.name)) if admits(n, job.visibility)]


# --- a co-op's own audiences (what it may post with: ``acting.posting_visibilities``) -----------

def coop_visibilities(coop: Coop) -> frozenset[str]:
    """The visibilities a co-op's own memberships open to it (what its members can see)."""
    today = site_today()
    memberships = [
        (m.network, m.status) for m in coop.memberships if _membership_counts(m, today)
    ]
    return visibilities_for(memberships, [])


# --- a co-op as a whole (consortia: who may be invited, and why not) --------------------------

def coop_can_view_job(coop: Coop, job: Job) -> bool:
    """May ``coop`` see ``job`` (``viewer_for_coop`` is below)?"""
    return can_view_job(viewer_for_coop(coop), job)


def why_coop_cannot_view(coop: Coop, job: Job) -> str | None:
    """None if ``coop`` may see ``job``; otherwise why not, in words fit to show to another
    co-op (e.g. "X is not an active member of CoTech, and this job is CoTech-only")."""
    from ..jobs.models import JobStatus

    if coop_can_view_job(coop, job):
        return None
    if job.status == JobStatus.DRAFT:
        return f"{coop.name} cannot see this job: it is not published yet."
    if Visibility(job.visibility) not in AUDIENCE:
        return f"{coop.name} cannot see this job."
    networks = db.session.scalars(select(Network).order_by(Network.name)).all()
    admitted = []
    for in_audience, statuses in AUDIENCE[Visibility(job.visibility)]:
        names = " or ".join(n.name for n in networks if in_audience(n)) or "a network that can see it"
        kinds = " or ".join(sorted(s.value for s in statuses))
        admitted.append(f"{'an' if kinds[0] in 'aeiou' else 'a'} {kinds} member of {names}")
    only = {Visibility.COTECH: "CoTech-only", Visibility.FEDERATION: "for workers.coop members only"}
    return (f"{coop.name} is not {', nor '.join(admitted)}, "
            f"and this job is {only.get(Visibility(job.visibility), job.visibility_label)}.")


# --- who may act on a job --------------------------------------------------------------------
# Narrower than who may see it (``acting``): the membership statuses that let a co-op act.

ACTING_STATUSES = frozenset({MembershipStatus.ACTIVE, MembershipStatus.GUEST})


# --- co-ops as viewers (the coordinator's suggestions) ---------------------------------------

def viewer_for_coop(coop: Coop) -> Viewer:
    """The viewer a co-op is as a whole: its own posts, and what its memberships open."""
    return Viewer(coop_ids=frozenset({coop.id}), visibilities=coop_visibilities(coop))


def coops_seeing_job_clause(job: Job, today: date | None = None) -> ColumnElement[bool]:
    """The SQL condition on ``Coop`` equivalent to ``can_view_job(viewer_for_coop(coop), job)``,
    so that "which co-ops may see this job" is one statement, not a check per co-op."""
    from sqlalchemy import exists, true

    from ..coops.models import Coop
    from ..jobs.models import JobStatus

    own = Coop.id == job.coop_id
    if job.status == JobStatus.DRAFT:
        return own
    if job.visibility == Visibility.PUBLIC:
        return true()
    networks = db.session.scalars(select(Network)).all()
    member = [
        exists(select(NetworkMembership.id).where(
            NetworkMembership.coop_id == Coop.id,
            NetworkMembership.network_id.in_(network_ids),
            NetworkMembership.status.in_(sorted(s.value for s in statuses)),
            membership_counts_clause(today),
        ))
        for in_audience, statuses in AUDIENCE[Visibility(job.visibility)]
        for network_ids in ([n.id for n in networks if in_audience(n)],) if network_ids
    ]
    return or_(own, *member)
