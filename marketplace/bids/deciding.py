"""Telling the poster that bids closed, and deciding on bids: the shortlist, rejections and the
award (callers commit, as for every rule of bidding)."""
from flask import url_for
from sqlalchemy import select

from ..audit.services import record
from ..core.models import compare_and_set
from ..core.templating import format_date, format_datetime
from ..core.time import utcnow
from ..extensions import db
from ..jobs.models import Job, JobState, JobStatus
from ..notifications.models import NotificationKind
from ..notifications.services import notify
from .models import DECIDABLE_STATUSES, Bid, BidStatus, status_values
from .rules import MAX_FEEDBACK, MAX_PRICE, MAX_START_AHEAD, BidRuleError, closed_message, received_count


# --- bids closed -----------------------------------------------------------------------------

def notice_bids_closed(job):
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


def jobs_to_notice():
    """Published jobs whose bids deadline passed and whose poster was not told yet."""
    return db.session.scalars(
        select(Job).where(Job.status == JobStatus.PUBLISHED.value, Job.bids_deadline <= utcnow(),
                          Job.bids_closed_notified_at.is_(None)).order_by(Job.bids_deadline, Job.id)
    ).all()


# --- deciding --------------------------------------------------------------------------------

def _check_decision(bid, user, verb, done):
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


def _feedback(text):
    text = (text or "").strip()
    if len(text) > MAX_FEEDBACK:
        raise BidRuleError(f"Feedback must be at most {MAX_FEEDBACK:,} characters.", field="feedback")
    return text


def bidder_coops(bid):
    """The co-ops a bid speaks for: its co-op, or every co-op in the consortium's team."""
    if bid.consortium_id is None:
        return [bid.coop]
    from ..consortia.models import IN_TEAM

    return [m.coop for m in bid.consortium.members if m.status in IN_TEAM]


def _tell_bidder(bid, kind, message):
    notify(kind, bid.job, message, url_for("bids.show", bid_id=bid.id), coops=bidder_coops(bid))


def shortlist_bid(bid, user):
    _check_decision(bid, user, "shortlist", "shortlisted")
    if bid.status == BidStatus.SHORTLISTED:
        raise BidRuleError("This bid is already shortlisted.")
    bid.status = BidStatus.SHORTLISTED.value
    record("bid.shortlisted", bid, actor=user, coop=bid.job.coop, job_id=bid.job_id)
    _tell_bidder(bid, NotificationKind.BID_SHORTLISTED,
                 f"Your bid on “{bid.job.title}” was shortlisted.")


def reject_bid(bid, user, feedback=""):
    """Mark a bid unsuccessful, with optional feedback to the bidder."""
    _check_decision(bid, user, "turn down", "turned down")
    _mark_unsuccessful(bid, user, _feedback(feedback))


def _mark_unsuccessful(bid, user, feedback):
    bid.status = BidStatus.UNSUCCESSFUL.value
    bid.decided_at = utcnow()
    if feedback:
        bid.feedback = feedback
    record("bid.unsuccessful", bid, actor=user, coop=bid.job.coop, job_id=bid.job_id)
    left = " The poster left feedback." if feedback else ""
    _tell_bidder(bid, NotificationKind.BID_UNSUCCESSFUL, f"Your bid on “{bid.job.title}” was unsuccessful.{left}")


def award_bid(bid, user, agreed_value, agreed_start, feedback="", others_feedback=""):
    """Award ``bid`` with the agreed value and start date; every other bid still in the
    running becomes unsuccessful (with ``others_feedback``). At most one award per job:
    checked here, and by the uq_bid_awarded index under a race."""
    _check_decision(bid, user, "award", "awarded")
    job = bid.job
    if agreed_value is None or not 0 <= agreed_value <= MAX_PRICE:
        raise BidRuleError(f"Give the agreed value, between 0 and {MAX_PRICE:,}.", field="agreed_value")
    if agreed_start is None:
        raise BidRuleError("Give the agreed start date.", field="agreed_start")
    if agreed_start < job.bids_deadline.date() or agreed_start > utcnow().date() + MAX_START_AHEAD:
        raise BidRuleError("The agreed start date must be after bids closed and within five years.",
                           field="agreed_start")
    feedback, others_feedback = _feedback(feedback), _feedback(others_feedback)
    now = utcnow()
    # Compare-and-set on the job before anything else is written: of two awards at once (of
    # this bid or another), the one whose UPDATE still finds the job unawarded awards it.
    if not compare_and_set(job, Job.status == job.status, status=JobStatus.AWARDED.value, awarded_at=now):
        raise BidRuleError("This job has already been awarded." if job.state == JobState.AWARDED
                           else closed_message(job))
    bid.status = BidStatus.AWARDED.value
    bid.agreed_value = agreed_value
    bid.agreed_start = agreed_start
    bid.decided_at = now
    if feedback:
        bid.feedback = feedback
    db.session.flush()
    record("bid.awarded", bid, actor=user, coop=job.coop, job_id=job.id,
           agreed_value=agreed_value, agreed_start=agreed_start.isoformat())
    consortium = bid.consortium
    record("job.awarded", job, actor=user, coop=job.coop, public=True, bid_id=bid.id,
           awarded_coop=bid.coop.name, agreed_value=agreed_value, agreed_start=agreed_start.isoformat(),
           consortium=consortium.name if consortium else None,
           consortium_members=[c.name for c in bidder_coops(bid)] if consortium else None)
    _tell_bidder(bid, NotificationKind.BID_AWARDED,
                 f"Your bid on “{job.title}” was awarded: {bid.money(agreed_value)}, "
                 f"starting {format_date(agreed_start)}.")
    for other in db.session.scalars(
        select(Bid).where(Bid.job_id == job.id, Bid.id != bid.id,
                          Bid.status.in_(status_values(DECIDABLE_STATUSES)))
    ):
        _mark_unsuccessful(other, user, others_feedback)
    return bid
