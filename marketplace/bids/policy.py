"""Who sees bids, interests and questions: the federation module's rule applied to them.

Built only on ``marketplace.federation`` (``can_view_job``, ``job_visibility_clause``,
``networks_in_audience``, ``Viewer``) so that there is still one rule: whoever may not see a
job sees nothing of its bids or questions (404). On top of that (DESIGN.md):

- a bid's contents are seen by the bidding co-op (for a consortium's bid: every co-op in
  the consortium's team) and, once bids close, by the poster's
  co-op and the coordinators of the networks in the job's audience; other bidders never;
- how many bids a job has may be seen by whoever may see the job;
- a question's asker is known to the poster's co-op alone; answers go to everyone who may
  see the job;
- who is interested is known to the poster's co-op (and each co-op knows its own interest).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, and_, false, or_, select

from ..extensions import db
from ..federation import Viewer, can_view_job, job_visibility_clause, networks_in_audience
from ..federation.models import Network
from ..federation.policy import AUDIENCE, admits, coop_visibilities
from .models import RECEIVED_STATUSES, Bid, status_values

if TYPE_CHECKING:
    from sqlalchemy import Select

    from ..coops.models import Coop
    from ..jobs.models import Job

S = TypeVar("S", bound="Select[*tuple[Any, ...]]")  # any SELECT of Bid, whatever its columns


def coop_viewer(coop: Coop) -> Viewer:
    """The viewer a co-op is as a whole (its own posts, and what its memberships open)."""
    return Viewer(coop_ids=frozenset({coop.id}), visibilities=coop_visibilities(coop))


def coop_can_view_job(coop: Coop, job: Job) -> bool:
    return can_view_job(coop_viewer(coop), job)


def is_poster(viewer: Viewer, job: Job) -> bool:
    return job.coop_id in viewer.coop_ids


def coordinates_audience(viewer: Viewer, job: Job) -> bool:
    """Is ``viewer`` a coordinator of one of the networks in the job's audience?"""
    if not viewer.coordinated_network_ids:
        return False
    return any(n.id in viewer.coordinated_network_ids for n in networks_in_audience(job))


def can_review_bids(viewer: Viewer, job: Job) -> bool:
    """Once bids close: the poster's co-op and the coordinators of the job's networks."""
    return (can_view_job(viewer, job) and job.bids_closed
            and (is_poster(viewer, job) or coordinates_audience(viewer, job)))


def can_decide_bids(viewer: Viewer, job: Job) -> bool:
    """Shortlisting, awarding and turning bids down is for the poster's co-op."""
    return can_view_job(viewer, job) and job.bids_closed and is_poster(viewer, job)


def can_download_bids(viewer: Viewer, job: Job) -> bool:
    """The spreadsheet of every bid: the poster's co-op, once bids close (sealed until then)."""
    return can_decide_bids(viewer, job)


def is_own_bid(viewer: Viewer, bid: Bid) -> bool:
    """The viewer's co-op bids, alone or as the lead or a team member of the bidding consortium."""
    if bid.coop_id in viewer.coop_ids:
        return True
    if bid.consortium_id is None or not viewer.coop_ids:
        return False
    from ..consortia.models import IN_TEAM

    assert bid.consortium is not None  # loaded through consortium_id
    return any(m.coop_id in viewer.coop_ids and m.status in IN_TEAM for m in bid.consortium.members)


def _team_bids(viewer: Viewer) -> ColumnElement[bool]:
    """SQL: the consortium bids whose team includes one of the viewer's co-ops."""
    from ..consortia.models import IN_TEAM, ConsortiumMember, values

    return Bid.consortium_id.in_(select(ConsortiumMember.consortium_id).where(
        ConsortiumMember.coop_id.in_(sorted(viewer.coop_ids)),
        ConsortiumMember.status.in_(values(IN_TEAM)),
    ))


def can_view_bid(viewer: Viewer, bid: Bid) -> bool:
    """A bid's contents: its own co-op (or consortium) always; the reviewers once bids close
    (never a draft)."""
    job = bid.job
    if not can_view_job(viewer, job):
        return False
    if is_own_bid(viewer, bid):
        return True
    return bid.status in RECEIVED_STATUSES and can_review_bids(viewer, job)


def _coordinated_visibilities(viewer: Viewer) -> set[str]:
    """The visibilities whose audience includes a network ``viewer`` coordinates."""
    if not viewer.coordinated_network_ids:
        return set()
    networks = db.session.scalars(
        select(Network).where(Network.id.in_(sorted(viewer.coordinated_network_ids)))
    ).all()
    return {v.value for v in AUDIENCE if any(admits(n, v) for n in networks)}


def visible_bids(stmt: S, viewer: Viewer) -> S:
    """Narrow a SELECT of ``Bid`` joined to ``Job`` to the bids whose contents ``viewer`` may
    see: the same answer as ``can_view_bid``, in SQL."""
    from ..jobs.models import BIDS_CLOSED_STATES, Job

    reviewer: ColumnElement[bool] = false()
    if viewer.coop_ids:
        reviewer = Job.coop_id.in_(sorted(viewer.coop_ids))
    coordinated = _coordinated_visibilities(viewer)
    if coordinated:
        reviewer = or_(reviewer, Job.visibility.in_(sorted(coordinated)))
    unsealed = and_(
        Bid.status.in_(status_values(RECEIVED_STATUSES)),
        Job.state.in_(status_values(BIDS_CLOSED_STATES)),
        reviewer,
    )
    own = or_(Bid.coop_id.in_(sorted(viewer.coop_ids)), _team_bids(viewer)) if viewer.coop_ids else false()
    return stmt.where(job_visibility_clause(viewer), or_(own, unsealed))


def can_see_interested_coops(viewer: Viewer, job: Job) -> bool:
    return can_view_job(viewer, job) and is_poster(viewer, job)


def can_see_asker(viewer: Viewer, job: Job) -> bool:
    return can_view_job(viewer, job) and is_poster(viewer, job)
