"""Business rules of bidding, as plain functions: who may bid, interests, drafting and
submitting bids. Reading them (the sealed review, the job page's bidding panel) is in
``reading``; shortlisting, the award and telling the poster that bids closed in ``deciding``;
the limits and the error in ``rules``. All are named here too.

Callers commit (``core.work.save_change``, with ``retry`` for the changes that may race on a
unique index).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..audit.services import record
from ..core.markdown import render_markdown
from ..core.models import compare_and_set
from ..core.templating import format_date, format_datetime
from ..core.time import utcnow
from ..extensions import db
from ..federation import NOT_VETTED, may_act, why_coop_cannot_act
from ..feeds.services import bids_go_to_source
from ..jobs.models import BudgetType, JobState
from ..notifications.models import NotificationKind
from ..notifications.services import notify
from .models import (LIVE_STATUSES, Bid, BidAnswer,
                     BidStatus, Interest, status_values)
from .policy import coop_can_view_job
from .reading import (BiddingPanel, awarded_bid, bidding_panel, bids_csv, coop_bids_page,  # noqa: F401
                      engaged_coop_ids, interests_of, next_interest_lapse, received_bids, with_counts)
from .rules import (MAX_ANSWER, MAX_DAY_RATE, MAX_DAYS, MAX_FEEDBACK, MAX_PRICE,  # noqa: F401
                    MAX_PROPOSAL, MAX_START_AHEAD, BidRuleError, closed_message, consortium_taking_part,
                    received_count)
if TYPE_CHECKING:
    from ..accounts.models import User
    from ..consortia.models import Consortium
    from ..coops.models import Coop
    from ..jobs.models import Job

from .deciding import (award_bid, bidder_coops, check_award, jobs_to_notice,  # noqa: F401
                       notice_bids_closed, reject_bid, reply_to_feedback, request_feedback, rivals, shortlist_bid,
                       standstill_ends, withdraw_award)


# --- who may bid -----------------------------------------------------------------------------

def bidding_coops(user: Any, job: Job) -> list[Coop]:
    """The user's co-ops that may bid on ``job``: they can see it, and it is not theirs."""
    if user is None or not user.is_authenticated:
        return []
    return able_to_bid(user.coops, job)


def waiting_to_act(coops: Iterable[Coop], job: Job) -> list[str]:
    """Why those of ``coops`` that see ``job`` may not act on it yet (shown on the job page)."""
    return [NOT_VETTED.format(name=c.name) for c in coops
            if c.id != job.coop_id and not may_act(c) and coop_can_view_job(c, job)]


def able_to_bid(coops: Iterable[Coop], job: Job) -> list[Coop]:
    """Those of ``coops`` that may bid on ``job``: it is not theirs, they see it, and they may
    act (``federation.acting.why_coop_cannot_act``)."""
    return [c for c in coops if c.id != job.coop_id and why_coop_cannot_act(c, job) is None]


def check_can_bid(coop: Coop, user: User, job: Job) -> None:
    if not user.is_member_of(coop):
        raise BidRuleError("You can only act for a co-op you belong to.", field="coop")
    if coop.id == job.coop_id:
        raise BidRuleError("A co-op cannot bid on its own job.", field="coop")
    if not coop_can_view_job(coop, job):
        raise BidRuleError(f"{coop.name} cannot see this job, so it cannot bid on it.", field="coop")
    at_source = bids_go_to_source(job)
    if at_source is not None:
        where = f": {at_source.link}" if at_source.link else ""
        raise BidRuleError(f"This is {at_source.source.name}'s notice, not a job posted here: bids go to the "
                           f"original notice{where}. Co-ops can still say they intend to bid, ask each other, "
                           "and team up here.")
    if not may_act(coop):
        raise BidRuleError(NOT_VETTED.format(name=coop.name), field="coop")
    if job.state != JobState.OPEN:
        raise BidRuleError(closed_message(job) + " It takes no more bids.")


def check_bidding_alone(coop: Coop, job: Job) -> None:
    """A co-op takes part in one bid per job: alone, or in one consortium. So a co-op in the
    team of a consortium for the job (or of one bidding on it) may not also bid alone."""
    consortium = consortium_taking_part(coop, job)
    if consortium is not None:
        raise BidRuleError(
            f"{coop.name} bids on this job in the consortium “{consortium.name}”: a co-op takes part "
            "in one bid per job, alone or in one consortium. To bid alone, leave the consortium first.",
            field="coop",
        )


# --- interests -------------------------------------------------------------------------------

def interest_of(job: Job, coop: Coop) -> Interest | None:
    return db.session.scalar(select(Interest).where(Interest.job_id == job.id, Interest.coop_id == coop.id))


def register_interest(job: Job, coop: Coop, user: User, bid_by: date | None) -> Interest:
    """Say that ``coop`` intends to bid by ``bid_by``; a second call moves the date."""
    check_can_bid(coop, user, job)
    if bid_by is None:
        raise BidRuleError("Give the date by which your co-op will bid.", field="bid_by")
    if bid_by < utcnow().date():
        raise BidRuleError("The date must be today or later.", field="bid_by")
    if bid_by > job.bids_deadline.date():
        raise BidRuleError(
            f"The date must be on or before the bids deadline ({format_date(job.bids_deadline)}).",
            field="bid_by",
        )
    interest = interest_of(job, coop)
    action = "interest.updated"
    if interest is None:
        interest = Interest(job=job, coop=coop, created_by_id=user.id)
        db.session.add(interest)
        action = "interest.registered"
    interest.bid_by = bid_by
    db.session.flush()
    record(action, interest, actor=user, coop=coop, job_id=job.id, bid_by=bid_by.isoformat())
    return interest


def withdraw_interest(job: Job, coop: Coop, user: User) -> None:
    if not user.is_member_of(coop):
        raise BidRuleError("You can only act for a co-op you belong to.")
    interest = interest_of(job, coop)
    if interest is None:
        raise BidRuleError(f"{coop.name} has not registered an interest in this job.")
    record("interest.withdrawn", interest, actor=user, coop=coop, job_id=job.id)
    db.session.delete(interest)


# --- drafting, submitting, withdrawing -------------------------------------------------------

@dataclass
class BidValues:
    """What a co-op types into its bid; anything may be missing from a draft."""

    price_type: str = BudgetType.FIXED.value
    amount: int | None = None
    days: int | None = None
    available_from: date | None = None
    proposal: str = ""
    answers: dict[int, str] = field(default_factory=dict)  # {requirement id: answer}


def amount_field(price_type: str) -> str:
    return "day_rate" if price_type == BudgetType.DAY_RATE else "price"


def price_errors(price_type: str, amount: int | None, days: int | None) -> dict[str, str]:
    """Problems with a price, as {form field: message}; shared by the form and the rules."""
    errors: dict[str, str] = {}
    name = amount_field(price_type)
    if price_type not in (BudgetType.FIXED, BudgetType.DAY_RATE):
        return {"price_type": "Choose a fixed price or a day rate."}
    limit = MAX_DAY_RATE if price_type == BudgetType.DAY_RATE else MAX_PRICE
    if amount is not None and not 1 <= amount <= limit:
        errors[name] = f"Must be between 1 and {limit:,}."
    # (MAX_DAY_RATE × MAX_DAYS stays within MAX_PRICE, so a total is never absurd either.)
    if price_type == BudgetType.DAY_RATE and days is not None and not 1 <= days <= MAX_DAYS:
        errors["days"] = f"Must be between 1 and {MAX_DAYS:,} days."
    return errors


def start_errors(available_from: date | None, today: date | None = None) -> dict[str, str]:
    today = today or utcnow().date()
    if available_from is None:
        return {}
    if available_from < today:
        return {"available_from": "The start date cannot be in the past."}
    if available_from > today + MAX_START_AHEAD:
        return {"available_from": "The start date is more than five years away: check the year."}
    return {}


def _check_values(job: Job, values: BidValues) -> None:
    errors = {**price_errors(values.price_type, values.amount, values.days),
              **start_errors(values.available_from)}
    if len(values.proposal or "") > MAX_PROPOSAL:
        errors["proposal"] = f"The proposal must be at most {MAX_PROPOSAL:,} characters."
    known = {r.id for r in job.requirements}
    unknown = set(values.answers) - known
    if unknown:
        raise BidRuleError(
            "Your bid answers a requirement this job does not have (the job may have changed "
            "since you opened the form). Reload the page and answer its current requirements."
        )
    for requirement_id, answer in values.answers.items():
        if len(answer or "") > MAX_ANSWER:
            errors[f"answer_{requirement_id}"] = f"An answer must be at most {MAX_ANSWER:,} characters."
    if errors:
        name, message = next(iter(errors.items()))
        raise BidRuleError(message, field=name)


def _check_complete(job: Job, values: BidValues) -> None:
    """A submitted bid has a price, a start date, a proposal and every requirement answered."""
    name = amount_field(values.price_type)
    if values.amount is None:
        raise BidRuleError("Give a price before submitting." if name == "price"
                           else "Give a day rate before submitting.", field=name)
    if values.price_type == BudgetType.DAY_RATE and values.days is None:
        raise BidRuleError("Say how many days the work takes.", field="days")
    if values.available_from is None:
        raise BidRuleError("Say when your co-op can start.", field="available_from")
    if not (values.proposal or "").strip():
        raise BidRuleError("Write your proposal before submitting.", field="proposal")
    for requirement in job.requirements:
        if not (values.answers.get(requirement.id) or "").strip():
            raise BidRuleError(f"Answer the requirement “{requirement.text}”.", field=f"answer_{requirement.id}")


def would_submit(job: Job, values: BidValues) -> bool:
    """Whether ``values`` make a bid that may be submitted (before "check your answers": a bid
    that would be refused goes straight to the save, which says why)."""
    try:
        _check_values(job, values)
        _check_complete(job, values)
    except BidRuleError:
        return False
    return True


def live_bid(job: Job, coop: Coop, lock: bool = False, consortium: Consortium | None = None) -> Bid | None:
    """``coop``'s own live bid on ``job`` or, with ``consortium``, the consortium's (led by ``coop``)."""
    stmt = select(Bid).where(Bid.job_id == job.id, Bid.coop_id == coop.id,
                             Bid.status.in_(status_values(LIVE_STATUSES)),
                             Bid.consortium_id == consortium.id if consortium is not None
                             else Bid.consortium_id.is_(None))
    if lock:
        # PostgreSQL: two edits of one bid take turns (SQLite serialises writers anyway). The
        # row is read afresh once locked: a copy this session loaded earlier may predate the
        # change the lock waited for (another member's submit), which must not be done twice.
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(stmt.options(selectinload(Bid.answers)))


def _bid_being_edited(job: Job, coop: Coop, bid_id: int | None, consortium: Consortium | None = None) -> Bid | None:
    """The bid a form was editing (``bid_id``), or the co-op's live bid when it names none.

    A form opened before the bid was withdrawn is refused rather than silently reopened."""
    current = live_bid(job, coop, lock=True, consortium=consortium)
    if bid_id is None or (current is not None and current.id == bid_id):
        return current
    # Read afresh: the caller's copy may be from before a withdrawal that has committed since.
    edited = db.session.get(Bid, bid_id, populate_existing=True)
    if (edited is None or edited.job_id != job.id or edited.coop_id != coop.id
            or edited.consortium_id != getattr(consortium, "id", None)):
        raise BidRuleError("That bid does not exist. Reload the page and try again.")
    if edited.status == BidStatus.WITHDRAWN:
        raise BidRuleError(
            f"This bid was withdrawn on {format_datetime(edited.withdrawn_at)} and can no longer be "
            "edited. Start a new bid if your co-op wants to bid again."
        )
    return current


def _apply(bid: Bid, job: Job, values: BidValues) -> None:
    bid.price_type = values.price_type
    bid.amount = values.amount
    bid.days = values.days if values.price_type == BudgetType.DAY_RATE else None
    bid.available_from = values.available_from
    bid.proposal = values.proposal or ""
    bid.proposal_html = render_markdown(bid.proposal)
    existing = {a.requirement_id: a for a in bid.answers}
    for requirement in job.requirements:
        text = (values.answers.get(requirement.id) or "").strip()
        answer = existing.get(requirement.id)
        if answer is None:
            bid.answers.append(BidAnswer(requirement_id=requirement.id, answer=text))
        else:
            answer.answer = text


EDIT_FIELDS = ("price_type", "amount", "days", "available_from", "proposal")


def save_bid(job: Job, coop: Coop, user: User, values: BidValues, submit: bool = False, bid_id: int | None = None,
             consortium: Consortium | None = None) -> Bid:
    """Create or edit ``coop``'s bid on ``job``, and submit it when ``submit``.

    There is one live bid per co-op per job: a second submit (from another tab, another
    member, or a concurrent request) edits the first. Returns the bid.

    With ``consortium`` (led by ``coop``), the bid is the consortium's: the consortium's own
    rules (``consortia.services.save_consortium_bid``) were checked by the caller.
    """
    check_can_bid(coop, user, job)
    if consortium is None:
        check_bidding_alone(coop, job)
    _check_values(job, values)
    bid = _bid_being_edited(job, coop, bid_id, consortium)
    created = bid is None
    if bid is None:
        bid = Bid(job=job, coop=coop, consortium=consortium, created_by_id=user.id,
                  status=BidStatus.DRAFT.value)
        db.session.add(bid)
    bid.created_now = created
    before = {name: getattr(bid, name) for name in EDIT_FIELDS}
    before_answers = {a.requirement_id: a.answer for a in bid.answers}
    _apply(bid, job, values)
    first_submission = False
    if submit:
        _check_complete(job, values)
        if created:
            bid.status = BidStatus.SUBMITTED.value
            bid.submitted_at = utcnow()
            first_submission = True
    # The live-bid index speaks here when a concurrent request created the bid first.
    db.session.flush()
    if submit and not created and bid.status == BidStatus.DRAFT:
        first_submission = _submit_draft(bid)
    changed = sorted(n for n in EDIT_FIELDS if getattr(bid, n) != before[n])
    if {a.requirement_id: a.answer for a in bid.answers} != before_answers:
        changed.append("answers")
    action = "bid.submitted" if first_submission else ("bid.created" if created else "bid.updated")
    if changed or first_submission or created:
        record(action, bid, actor=user, coop=coop, job_id=job.id, status=bid.status, fields=changed,
               consortium_id=getattr(consortium, "id", None))
    if first_submission:
        count = received_count(job)
        notify(
            NotificationKind.BID_RECEIVED, job,
            f"“{job.title}” received a bid ({count} so far). Bids stay sealed until "
            f"{format_datetime(job.bids_deadline)}.",
            url_for("jobs.show", job_id=job.id), coops=[job.coop], actor=user,
        )
    return bid


def _submit_draft(bid: Bid) -> bool:
    """Compare and set: of requests submitting the same draft at once, the one whose UPDATE
    still finds it a draft submits it (one ``bid.submitted``, one notice); the others find it
    submitted and have edited it. True if this one submitted it."""
    return compare_and_set(bid, Bid.status == BidStatus.DRAFT.value,
                           status=BidStatus.SUBMITTED.value, submitted_at=utcnow())


def withdraw_bid(bid: Bid, user: User) -> None:
    job = bid.job
    if not user.is_member_of(bid.coop):
        raise BidRuleError("You can only act for a co-op you belong to.")
    if bid.status == BidStatus.WITHDRAWN:
        raise BidRuleError("This bid was already withdrawn.")
    if job.state != JobState.OPEN:
        raise BidRuleError(closed_message(job) + " Bids can no longer be withdrawn.")
    was = bid.status
    # Compare and set: of requests withdrawing the bid at once, the one whose UPDATE still
    # finds the status it read withdraws it; the others are told it is done.
    if not compare_and_set(bid, Bid.status == was, status=BidStatus.WITHDRAWN.value, withdrawn_at=utcnow()):
        raise BidRuleError("This bid was already withdrawn.")
    record("bid.withdrawn", bid, actor=user, coop=bid.coop, job_id=job.id, was=was)
