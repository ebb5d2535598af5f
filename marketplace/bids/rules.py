"""The limits of bidding's rules, their error, and what every part of bidding asks of a job:
why it takes no bids now, how many bids it received."""
from datetime import timedelta

from sqlalchemy import func, select

from ..core.rules import RuleError
from ..core.templating import format_datetime
from ..extensions import db
from ..jobs.models import JobState
from .models import (RECEIVED_STATUSES, Bid, status_values)

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



def closed_message(job):
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



def received_count(job):
    return db.session.scalar(
        select(func.count(Bid.id)).where(Bid.job_id == job.id, Bid.status.in_(status_values(RECEIVED_STATUSES)))
    )
