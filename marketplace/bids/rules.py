"""The limits of bidding's rules, their error, and what every part of bidding asks of a job:
why it takes no bids now, how many bids it received, the consortium a co-op bids through."""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from ..core.rules import RuleError
from ..core.templating import format_datetime
from ..extensions import db
from ..jobs.models import JobState
from .models import LIVE_STATUSES, RECEIVED_STATUSES, Bid, status_values

if TYPE_CHECKING:
    from ..consortia.models import Consortium
    from ..coops.models import Coop
    from ..jobs.models import Job

MAX_PRICE = 100_000_000
MAX_DAY_RATE = 50_000
MAX_DAYS = 1_000
MAX_PROPOSAL = 20_000
MAX_ANSWER = 5_000
MAX_FEEDBACK = 5_000
# How far ahead a start date may be before it is surely a typing mistake.
MAX_START_AHEAD = timedelta(days=5 * 366)


class BidRuleError(RuleError):
    """A change that the rules refuse; ``field`` names the form field at fault, if any."""



def closed_message(job: Job) -> str:
    """Why a job takes no bids, interests or questions now."""
    state = job.state
    if state == JobState.DRAFT:
        return "This job is not published yet."
    if state == JobState.WITHDRAWN:
        return "This job was withdrawn."
    if state == JobState.AWARDED:
        return "This job has been awarded."
    if state == JobState.CANCELLED:
        return "This job was cancelled."
    return f"Bids closed on {format_datetime(job.bids_deadline)}."



def received_count(job: Job) -> int:
    return db.session.scalar(
        select(func.count(Bid.id)).where(Bid.job_id == job.id, Bid.status.in_(status_values(RECEIVED_STATUSES)))
    ) or 0


def consortium_taking_part(coop: Coop, job: Job, exclude: Consortium | None = None) -> Consortium | None:
    """The consortium through which ``coop`` bids on ``job``, if any: one formed for this job
    whose team it is in, or one (a standing team) with a live bid on it whose team it is in."""
    from ..consortia.models import IN_TEAM, Consortium, ConsortiumMember, ConsortiumStatus, values

    bidding = select(Bid.consortium_id).where(
        Bid.job_id == job.id, Bid.consortium_id.is_not(None), Bid.status.in_(status_values(LIVE_STATUSES)))
    stmt = select(Consortium).join(ConsortiumMember).where(
        ConsortiumMember.coop_id == coop.id, ConsortiumMember.status.in_(values(IN_TEAM)),
        Consortium.status == ConsortiumStatus.FORMING.value,
        (Consortium.job_id == job.id) | Consortium.id.in_(bidding),
    )
    if exclude is not None:
        stmt = stmt.where(Consortium.id != exclude.id)
    return db.session.scalars(stmt.order_by(Consortium.id)).first()
