"""Reading bids: counts on job lists, the sealed review and its spreadsheet, a co-op's bids, the
job page's bidding panel and outcome, and when an interest lapses."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload, with_expression

from ..core.pagination import paginate
from ..extensions import db
from ..jobs.models import BudgetType, Job, JobState
from .models import LIVE_STATUSES, RECEIVED_STATUSES, Bid, BidStatus, Interest, InterestState, status_values
from .policy import visible_bids
from .rules import consortium_taking_part

if TYPE_CHECKING:
    from sqlalchemy.orm.strategy_options import _AbstractLoad

    from ..consortia.models import Consortium
    from ..coops.models import Coop
    from ..core.pagination import Page
    from ..federation import Viewer


# --- reading ---------------------------------------------------------------------------------

def with_counts() -> list[_AbstractLoad]:
    """Loader options that fill ``Job.bid_count``, ``Job.interest_count`` and
    ``Job.answer_count`` in the job's own SELECT: how many bids were received, how many
    co-ops still intend to bid, how many answers are published."""
    from ..questions.models import Question

    def count(column: Any, *where: Any) -> Any:
        return select(func.count(column)).where(*where).correlate(Job).scalar_subquery()

    return [
        with_expression(Job.bid_count, count(
            Bid.id, Bid.job_id == Job.id, Bid.status.in_(status_values(RECEIVED_STATUSES)))),
        with_expression(Job.interest_count, count(
            Interest.id, Interest.job_id == Job.id, Interest.state == InterestState.ACTIVE.value)),
        with_expression(Job.answer_count, count(
            Question.id, Question.job_id == Job.id, Question.answered_at.is_not(None))),
    ]


def received_bids(job: Job) -> Sequence[Bid]:
    """The bids the poster reviews once bids close, with what the review page shows."""
    return db.session.scalars(
        select(Bid).where(Bid.job_id == job.id, Bid.status.in_(status_values(RECEIVED_STATUSES)))
        .options(joinedload(Bid.coop), selectinload(Bid.answers))
        .order_by(Bid.submitted_at, Bid.id)
    ).all()


def awarded_bid(job: Job) -> Bid | None:
    """The job's awarded bid (None if none), with its co-op and consortium team."""
    from ..consortia.models import Consortium, ConsortiumMember

    if job.state != JobState.AWARDED:
        return None
    return db.session.scalar(
        select(Bid).where(Bid.job_id == job.id, Bid.status == BidStatus.AWARDED.value).options(
            joinedload(Bid.coop),
            selectinload(Bid.consortium).selectinload(Consortium.members).joinedload(ConsortiumMember.coop))
    )


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def bids_csv(job: Job, bids: Iterable[Bid]) -> str:
    """``bids`` (received bids on ``job``) as CSV text for a spreadsheet: one row a bid, the
    answers to the job's requirements as columns; UTF-8 with a byte order mark (Excel reads
    it as UTF-8 then), and no cell a spreadsheet would run as a formula."""
    from .deciding import bidder_coops

    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["Bidder", "Consortium members", "Price", "Price type", "Total", "Currency", "Can start",
                     "Status", "Submitted at (UTC)", *(r.text for r in job.requirements)])
    for bid in bids:
        members = "; ".join(c.name for c in bidder_coops(bid)) if bid.consortium_id else ""
        writer.writerow([_cell(v) for v in (
            bid.bidder_name, members, bid.amount, BudgetType(bid.price_type).label, bid.total, job.currency,
            bid.available_from.isoformat() if bid.available_from else "", bid.status_label,
            f"{bid.submitted_at:%Y-%m-%d %H:%M}" if bid.submitted_at else "",
            *(bid.answer_to(r) for r in job.requirements))])
    return out.getvalue()


def interests_of(job: Job) -> Sequence[Interest]:
    """Every co-op's interest in ``job`` (for the poster), with whether a bid followed."""
    return db.session.scalars(
        select(Interest).where(Interest.job_id == job.id)
        .options(joinedload(Interest.coop), selectinload(Interest.received_bid))
        .order_by(Interest.bid_by, Interest.id)
    ).all()


def engaged_coop_ids(job: Job) -> set[int]:
    """Co-ops that follow a job: a live bid (drafts too, a consortium's partners too), or an
    interest that has not lapsed."""
    from ..consortia.models import IN_TEAM, ConsortiumMember, values

    bidders = select(Bid.coop_id).where(Bid.job_id == job.id, Bid.status.in_(status_values(LIVE_STATUSES)))
    interested = select(Interest.coop_id).where(
        Interest.job_id == job.id, Interest.state != InterestState.LAPSED.value
    )
    # The partners of a consortium bidding on the job follow it too.
    partners = select(ConsortiumMember.coop_id).where(
        ConsortiumMember.status.in_(values(IN_TEAM)),
        ConsortiumMember.consortium_id.in_(select(Bid.consortium_id).where(
            Bid.job_id == job.id, Bid.status.in_(status_values(LIVE_STATUSES)))),
    )
    return set(db.session.scalars(bidders.union(interested, partners)))


def coop_bids_page(viewer: Viewer, page: int, per_page: int = 20) -> Page:
    """The bids of the viewer's co-ops, on jobs the viewer may still see, newest first."""
    stmt = visible_bids(
        select(Bid).join(Job, Job.id == Bid.job_id).where(Bid.coop_id.in_(sorted(viewer.coop_ids))),
        viewer,
    ).options(joinedload(Bid.job), joinedload(Bid.coop)).order_by(Bid.updated_at.desc(), Bid.id.desc())
    return paginate(stmt, page, per_page)


@dataclass
class BiddingPanel:
    """What the job page shows about bidding to one viewer."""

    bid_count: int
    interest_count: int
    coops: list[Coop] = field(default_factory=list)  # co-ops the viewer may bid for
    bids: dict[int, Bid] = field(default_factory=dict)  # {coop id: its live bid}
    withdrawn: dict[int, Bid] = field(default_factory=dict)  # {coop id: its latest withdrawn bid}
    interests: dict[int, Interest] = field(default_factory=dict)  # {coop id: its interest}
    all_interests: Sequence[Interest] = field(default_factory=list)  # the poster's view
    awarded: Bid | None = None  # who won, for those who may see the outcome
    teamed: dict[int, Consortium] = field(default_factory=dict)  # {coop id: the consortium it bids in}
    waiting: list[str] = field(default_factory=list)  # why the viewer's other co-ops may not act yet

    @property
    def interest_coops(self) -> list[Coop]:
        """The co-ops the interest form is for: no live bid and no interest in force (a
        registered one is shown instead, with how to withdraw it)."""
        return [c for c in self.coops if c.id not in self.bids
                and (c.id not in self.interests or self.interests[c.id].state == InterestState.LAPSED)]


def bidding_panel(job: Job, coops: list[Coop], show_interests: bool, outcome: bool) -> BiddingPanel:
    """The job page's bidding section; ``coops`` are the viewer's co-ops that may bid;
    ``outcome``: the viewer may see who won (``federation.can_see_outcome``)."""
    panel = BiddingPanel(bid_count=job.bid_count or 0, interest_count=job.interest_count or 0)
    if show_interests:
        panel.all_interests = interests_of(job)
    if outcome:
        panel.awarded = awarded_bid(job)
    panel.coops = coops
    if panel.coops:
        ids = [c.id for c in panel.coops]
        for bid in db.session.scalars(
            select(Bid).where(Bid.job_id == job.id, Bid.coop_id.in_(ids), Bid.consortium_id.is_(None))
            .order_by(Bid.id)
        ):
            (panel.bids if bid.is_live else panel.withdrawn)[bid.coop_id] = bid
        panel.teamed = {c.id: t for c in panel.coops if (t := consortium_taking_part(c, job)) is not None}
        panel.interests = {i.coop_id: i for i in db.session.scalars(
            select(Interest).where(Interest.job_id == job.id, Interest.coop_id.in_(ids))
            .options(selectinload(Interest.received_bid))
        )}
    return panel


def next_interest_lapse(job: Job, now: datetime) -> datetime | None:
    """When an interest in ``job`` next lapses by the clock alone (an interest lapses once
    its date has passed: at midnight, UTC, after it), or None."""
    day = db.session.scalar(
        select(func.min(Interest.bid_by)).where(Interest.job_id == job.id, Interest.bid_by >= now.date())
    )
    return None if day is None else datetime.combine(day + timedelta(days=1), time.min)
