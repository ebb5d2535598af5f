"""Telling the poster that bids closed, and deciding on bids: the shortlist, rejections and the
award (callers commit, as for every rule of bidding)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app, url_for
from sqlalchemy import select

from ..audit.services import record
from ..core.models import compare_and_set
from ..core.rules import checked_text
from ..core.templating import format_date, format_datetime
from ..core.time import utcnow
from ..extensions import db
from ..jobs.models import Job, JobState, JobStatus
from ..notifications.models import NotificationKind
from ..notifications.services import notify
from .models import DECIDABLE_STATUSES, Bid, BidStatus, status_values
from .rules import MAX_FEEDBACK, MAX_PRICE, MAX_START_AHEAD, BidRuleError, closed_message, received_count

if TYPE_CHECKING:
    from ..accounts.models import User
    from ..coops.models import Coop


# --- bids closed -----------------------------------------------------------------------------

def notice_bids_closed(job: Job) -> bool:
    """Tell the poster, once, that bids closed on ``job``. Nothing happens at the deadline
    itself: ``flask bids notify-closed``, run from cron, calls this (never a page: reading a
    page writes nothing, whoever or whatever reads it), and a conditional UPDATE makes sure
    that only one caller notifies, however many run at once. True if this one did."""
    if job.state != JobState.CLOSED or job.bids_closed_notified_at is not None:
        return False
    if not compare_and_set(job, Job.bids_closed_notified_at.is_(None), bids_closed_notified_at=utcnow()):
        return False
    count = received_count(job)
    record("job.bids_closed", job, coop=job.coop, bids=count)
    notify(
        NotificationKind.BIDS_CLOSED, job,
        f"Bids closed on “{job.title}”: {count} bid{'' if count == 1 else 's'} to review.",
        url_for("bids.review", job_id=job.id), coops=[job.coop],
    )
    return True


def jobs_to_notice() -> Sequence[Job]:
    """Published jobs whose bids deadline passed and whose poster was not told yet."""
    return db.session.scalars(
        select(Job).where(Job.status == JobStatus.PUBLISHED.value, Job.bids_deadline <= utcnow(),
                          Job.bids_closed_notified_at.is_(None)).order_by(Job.bids_deadline, Job.id)
    ).all()


# --- deciding --------------------------------------------------------------------------------

def _check_decision(bid: Bid, user: User, verb: str, done: str) -> None:
    job = bid.job
    if not user.is_member_of(job.coop):
        raise BidRuleError("Only the co-op that posted the job decides on its bids.")
    state = job.state
    if state == JobState.OPEN:
        raise BidRuleError(
            f"Bids are sealed until {format_datetime(job.bids_deadline)}: you can {verb} a bid once bids close."
        )
    if state == JobState.AWARDED:
        raise BidRuleError("This job has already been awarded.")
    if state != JobState.CLOSED:
        raise BidRuleError(closed_message(job))
    if bid.status not in DECIDABLE_STATUSES:
        raise BidRuleError(f"This bid is {bid.status}: it cannot be {done}.")


def _feedback(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > MAX_FEEDBACK:
        raise BidRuleError(f"Feedback must be at most {MAX_FEEDBACK:,} characters.", field="feedback")
    return text


def bidder_coops(bid: Bid) -> list[Coop]:
    """The co-ops a bid speaks for: its co-op, or every co-op in the consortium's team."""
    if bid.consortium_id is None:
        return [bid.coop]
    from ..consortia.models import IN_TEAM

    assert bid.consortium is not None  # loaded through consortium_id
    return [m.coop for m in bid.consortium.members if m.status in IN_TEAM]


def _tell_bidder(bid: Bid, kind: NotificationKind, message: str) -> None:
    notify(kind, bid.job, message, url_for("bids.show", bid_id=bid.id), coops=bidder_coops(bid))


def shortlist_bid(bid: Bid, user: User) -> None:
    _check_decision(bid, user, "shortlist", "shortlisted")
    if bid.status == BidStatus.SHORTLISTED:
        raise BidRuleError("This bid is already shortlisted.")
    bid.status = BidStatus.SHORTLISTED.value
    record("bid.shortlisted", bid, actor=user, coop=bid.job.coop, job_id=bid.job_id)
    _tell_bidder(bid, NotificationKind.BID_SHORTLISTED,
                 f"Your bid on “{bid.job.title}” was shortlisted.")


def reject_bid(bid: Bid, user: User, feedback: str | None = "") -> None:
    """Mark a bid unsuccessful, with optional feedback to the bidder."""
    _check_decision(bid, user, "turn down", "turned down")
    _mark_unsuccessful(bid, user, _feedback(feedback))


def _mark_unsuccessful(bid: Bid, user: User, feedback: str, after: str = "") -> None:
    bid.status = BidStatus.UNSUCCESSFUL.value
    bid.decided_at = utcnow()
    if feedback:
        bid.feedback = feedback
    record("bid.unsuccessful", bid, actor=user, coop=bid.job.coop, job_id=bid.job_id)
    left = " The poster left feedback." if feedback else ""
    _tell_bidder(bid, NotificationKind.BID_UNSUCCESSFUL,
                 f"Your bid on “{bid.job.title}” was unsuccessful.{left}{after}")


def check_award(bid: Bid, user: User, agreed_value: int | None, agreed_start: date | None) -> None:
    """Raise BidRuleError if ``bid`` may not be awarded with this value and start (writes
    nothing: the confirmation page asks it before showing what the award will do)."""
    _check_decision(bid, user, "award", "awarded")
    job = bid.job
    if agreed_value is None or not 0 <= agreed_value <= MAX_PRICE:
        raise BidRuleError(f"Give the agreed value, between 0 and {MAX_PRICE:,}.", field="agreed_value")
    if agreed_start is None:
        raise BidRuleError("Give the agreed start date.", field="agreed_start")
    if agreed_start < job.bids_deadline.date() or agreed_start > utcnow().date() + MAX_START_AHEAD:
        raise BidRuleError("The agreed start date must be after bids closed and within five years.",
                           field="agreed_start")


def standstill_ends(now: datetime | None = None) -> datetime | None:
    """When an award made ``now`` becomes final (``AWARD_STANDSTILL_DAYS`` later), or None
    when there is no standstill."""
    days = current_app.config["AWARD_STANDSTILL_DAYS"]
    return (now or utcnow()) + timedelta(days=days) if days else None


def rivals(bid: Bid) -> Sequence[Bid]:
    """The other bids still in the running: an award of ``bid`` makes them unsuccessful."""
    return db.session.scalars(
        select(Bid).where(Bid.job_id == bid.job_id, Bid.id != bid.id,
                          Bid.status.in_(status_values(DECIDABLE_STATUSES))).order_by(Bid.id)
    ).all()


def award_bid(bid: Bid, user: User, agreed_value: int, agreed_start: date, feedback: str | None = "",
              others_feedback: str | None = "", publish_outcome: bool = False) -> Bid:
    """Award ``bid`` with the agreed value and start date; every other bid still in the
    running becomes unsuccessful (with ``others_feedback``). At most one award per job:
    checked here, and by the uq_bid_awarded index under a race. With a standstill period
    (``AWARD_STANDSTILL_DAYS``) the award is intended until it ends, final after.
    ``publish_outcome``: anonymous visitors see who won too (``federation.can_see_outcome``)."""
    check_award(bid, user, agreed_value, agreed_start)
    job = bid.job
    feedback, others_feedback = _feedback(feedback), _feedback(others_feedback)
    now = utcnow()
    # Compare-and-set on the job before anything else is written: of two awards at once (of
    # this bid or another), the one whose UPDATE still finds the job unawarded awards it.
    if not compare_and_set(job, Job.status == job.status, status=JobStatus.AWARDED.value, awarded_at=now,
                           outcome_public=bool(publish_outcome)):
        raise BidRuleError("This job has already been awarded." if job.state == JobState.AWARDED
                           else closed_message(job))
    bid.status = BidStatus.AWARDED.value
    bid.agreed_value = agreed_value
    bid.agreed_start = agreed_start
    bid.decided_at = now
    if feedback:
        bid.feedback = feedback
    db.session.flush()
    final = standstill_ends(now)
    record("bid.awarded", bid, actor=user, coop=job.coop, job_id=job.id,
           agreed_value=agreed_value, agreed_start=agreed_start.isoformat())
    consortium = bid.consortium
    record("job.awarded", job, actor=user, coop=job.coop, public=True, bid_id=bid.id,
           awarded_coop=bid.coop.name, agreed_value=agreed_value, agreed_start=agreed_start.isoformat(),
           consortium=consortium.name if consortium else None,
           consortium_members=[c.name for c in bidder_coops(bid)] if consortium else None,
           outcome_public=bool(publish_outcome), final_at=final.isoformat() if final else None)
    intended = f" This is the intended award, final on {format_date(final)}." if final else ""
    _tell_bidder(bid, NotificationKind.BID_AWARDED,
                 f"Your bid on “{job.title}” was awarded: {bid.money(agreed_value)}, "
                 f"starting {format_date(agreed_start)}.{intended}")
    after = (f" The award is intended, final on {format_date(final)}: until then you may ask the poster "
             f"for feedback on your bid's page." if final else "")
    for other in rivals(bid):
        _mark_unsuccessful(other, user, others_feedback, after)
    return bid


# --- the standstill period -------------------------------------------------------------------

def _required_text(text: str | None, field: str, missing: str, name: str) -> str:
    return checked_text(text, MAX_FEEDBACK, field, BidRuleError, missing, name)


def request_feedback(bid: Bid, user: User, text: str | None) -> Bid:
    """An unsuccessful bidder asks the poster why, during the award's standstill period (once)."""
    job = bid.job
    if not any(user.is_member_of(c) for c in bidder_coops(bid)):
        raise BidRuleError("Only the bidding co-op may ask for feedback on its bid.")
    if bid.status != BidStatus.UNSUCCESSFUL or job.state != JobState.AWARDED:
        raise BidRuleError("Feedback may be asked for an unsuccessful bid on an awarded job.")
    if not job.award_intended:
        raise BidRuleError("The award is final: feedback could be asked during its standstill period only.")
    if bid.feedback_requested_at is not None:
        raise BidRuleError("Your co-op has already asked for feedback on this bid.")
    bid.feedback_request = _required_text(text, "request", "Say what you would like feedback on.", "Your request")
    bid.feedback_requested_at = utcnow()
    record("bid.feedback_requested", bid, actor=user, coop=bid.coop, job_id=job.id)
    notify(NotificationKind.FEEDBACK_REQUESTED, job,
           f"{bid.bidder_name} asked for feedback on its unsuccessful bid on “{job.title}”.",
           url_for("bids.show", bid_id=bid.id), coops=[job.coop], actor=user)
    return bid


def reply_to_feedback(bid: Bid, user: User, text: str | None) -> Bid:
    """The poster's co-op answers an unsuccessful bidder's request for feedback: the answer is
    the bid's feedback, shown to the bidder, who is told. It may be written again (to add to
    it), while the award is intended or after it is final: a request is never left unanswerable."""
    job = bid.job
    if not user.is_member_of(job.coop):
        raise BidRuleError("Only the co-op that posted the job answers requests for feedback.")
    if bid.feedback_requested_at is None:
        raise BidRuleError("This bidder has not asked for feedback.")
    bid.feedback = _required_text(text, "feedback", "Write your feedback to the bidder.", "Your feedback")
    record("bid.feedback_given", bid, actor=user, coop=job.coop, job_id=job.id)
    _tell_bidder(bid, NotificationKind.BID_UNSUCCESSFUL,
                 f"The poster answered your request for feedback on “{job.title}”.")
    return bid


def withdraw_award(job: Job, user: User, reason: str | None) -> Job:
    """The poster withdraws an intended award, with a reason, before its standstill period
    ends: the job is closed again, awaiting a decision, and the bids that the award decided
    are back in the running (shortlisted ones shortlisted again). Every bidder is told."""
    from ..audit.models import AuditEvent

    if not user.is_member_of(job.coop):
        raise BidRuleError("Only the co-op that posted the job decides on its bids.")
    if job.state != JobState.AWARDED:
        raise BidRuleError("This job has no award to withdraw.")
    if not job.award_intended:
        raise BidRuleError("The award is final: it can no longer be withdrawn.")
    reason = _required_text(reason, "reason", "Give the reason for withdrawing the award: every bidder is told it.",
                            "The reason")
    awarded_at = job.awarded_at
    if not compare_and_set(job, Job.status == JobStatus.AWARDED.value, status=JobStatus.PUBLISHED.value,
                           awarded_at=None, outcome_public=False):
        raise BidRuleError("This job has no award to withdraw.")
    decided = db.session.scalars(select(Bid).where(
        Bid.job_id == job.id, Bid.decided_at >= awarded_at,
        Bid.status.in_([BidStatus.AWARDED.value, BidStatus.UNSUCCESSFUL.value]))).all()
    shortlisted = set(db.session.scalars(select(AuditEvent.target_id).where(
        AuditEvent.target_type == Bid.__tablename__, AuditEvent.action == "bid.shortlisted",
        AuditEvent.target_id.in_([b.id for b in decided] or [0]))))
    for bid in decided:
        bid.status = (BidStatus.SHORTLISTED if bid.id in shortlisted else BidStatus.SUBMITTED).value
        bid.agreed_value = bid.agreed_start = bid.decided_at = bid.feedback_requested_at = None
        bid.feedback = bid.feedback_request = ""
        record("bid.award_withdrawn", bid, actor=user, coop=job.coop, job_id=job.id, status=bid.status)
    record("job.award_withdrawn", job, actor=user, coop=job.coop, public=True, reason=reason)
    for bid in decided:
        _tell_bidder(bid, NotificationKind.JOB_CHANGED,
                     f"The intended award on “{job.title}” was withdrawn: the bids are being decided again, "
                     f"yours included. Reason: {reason}")
    return job
