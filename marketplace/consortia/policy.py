"""Who sees consortia: the federation module's rule, then the consortium's own circle.

Built only on ``marketplace.federation`` and ``marketplace.bids.policy``, so there is still one
rule: whoever may not see a consortium's job sees nothing of the consortium (404). On top of it:

- the consortium page: the co-ops taking part (the team and the co-ops still invited), and
  site admins; once bids close, also the poster's co-op and the coordinators of the job's
  networks, when the consortium's bid was received; everyone else 404;
- the shares of the work and money: the co-ops taking part and, once bids close, the poster's
  co-op and coordinators (same condition); not site admins;
- the comments on the split: the co-ops taking part alone;
- partner offers on a job: the offering co-op, and the leads of the job's consortia.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from ..bids.models import RECEIVED_STATUSES
from ..bids.policy import can_review_bids
from ..extensions import db
from ..federation import can_view_job, job_visibility_clause
from .models import PARTICIPATING, Consortium, ConsortiumMember, values

if TYPE_CHECKING:
    from typing import Any
    from sqlalchemy import Select
    from ..bids.models import Bid
    from ..federation.policy import Viewer


def taking_part(viewer: Viewer, consortium: Consortium) -> bool:
    """Does one of the viewer's co-ops take part (in the team, or invited)?"""
    return any(m.coop_id in viewer.coop_ids and m.status in PARTICIPATING for m in consortium.members)


def leads(viewer: Viewer, consortium: Consortium) -> bool:
    return consortium.lead_coop_id in viewer.coop_ids and not consortium.is_dissolved


def received_bid(consortium: Consortium) -> Bid | None:
    """The consortium's bid that the poster received on its job, if any."""
    if consortium.job_id is None:
        return None
    from ..bids.models import Bid

    return db.session.scalar(select(Bid).where(
        Bid.consortium_id == consortium.id, Bid.job_id == consortium.job_id,
        Bid.status.in_(sorted(s.value for s in RECEIVED_STATUSES))))


def _reviews(viewer: Viewer, consortium: Consortium) -> bool:
    job = consortium.job
    return job is not None and can_review_bids(viewer, job) and received_bid(consortium) is not None


def can_view_consortium(viewer: Viewer, consortium: Consortium | None) -> bool:
    if consortium is None:
        return False
    job = consortium.job
    if job is not None and not can_view_job(viewer, job):
        return False
    if taking_part(viewer, consortium) or viewer.is_site_admin:
        return True
    return _reviews(viewer, consortium)


def can_view_shares(viewer: Viewer, consortium: Consortium) -> bool:
    if not can_view_consortium(viewer, consortium):
        return False
    return taking_part(viewer, consortium) or _reviews(viewer, consortium)


def can_comment(viewer: Viewer, consortium: Consortium) -> bool:
    return can_view_consortium(viewer, consortium) and taking_part(viewer, consortium)


def visible_consortia(stmt: Select[Any], viewer: Viewer) -> Select[Any]:
    """Narrow a SELECT of ``Consortium`` to those the viewer's co-ops take part in, whose job
    (if any) the viewer may still see. (Lists show one's own consortia only.)"""
    from ..jobs.models import Job

    if not viewer.coop_ids:
        return stmt.where(Consortium.id.is_(None))
    mine = select(ConsortiumMember.consortium_id).where(
        ConsortiumMember.coop_id.in_(sorted(viewer.coop_ids)),
        ConsortiumMember.status.in_(values(PARTICIPATING)))
    job_ok = Consortium.job_id.in_(select(Job.id).where(job_visibility_clause(viewer)))
    return stmt.where(Consortium.id.in_(mine), or_(Consortium.job_id.is_(None), job_ok))
