"""Business rules of bidding, as plain functions: interests, bids, the sealed review,
shortlisting, the award, and telling the poster that bids closed.

Callers commit (``core.work.save_change``, with ``retry`` for the changes that may race on a
unique index).
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload, with_expression

from ..audit.services import record
from ..core.markdown import render_markdown
from ..core.models import compare_and_set
from ..core.pagination import paginate
from ..core.rules import RuleError
from ..core.templating import format_date, format_datetime
from ..core.time import utcnow
from ..extensions import db
from ..federation.policy import NOT_VETTED, may_act, why_coop_cannot_act
from ..feeds.services import bids_go_to_source
from ..jobs.models import BudgetType, Job, JobState, JobStatus
from ..notifications.models import NotificationKind
from ..notifications.services import notify
from .models import (DECIDABLE_STATUSES, LIVE_STATUSES, RECEIVED_STATUSES, Bid, BidAnswer,
                     BidStatus, Interest, InterestState, status_values)
from .policy import coop_can_view_job, visible_bids

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


# --- who may bid -----------------------------------------------------------------------------

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


def bidding_coops(user, job):
    """The user's co-ops that may bid on ``job``: they can see it, and it is not theirs."""
    if user is None or not user.is_authenticated:
        return []
    return able_to_bid(user.coops, job)


def waiting_to_act(coops, job):
    """Why those of ``coops`` that see ``job`` may not act on it yet (shown on the job page)."""
    return [NOT_VETTED.format(name=c.name) for c in coops
            if c.id != job.coop_id and not may_act(c) and coop_can_view_job(c, job)]


def able_to_bid(coops, job):
    """Those of ``coops`` that may bid on ``job``: it is not theirs, they see it, and they may
    act (``federation.policy.why_coop_cannot_act``)."""
    return [c for c in coops if c.id != job.coop_id and why_coop_cannot_act(c, job) is None]


def check_can_bid(coop, user, job):
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


def consortium_taking_part(coop, job, exclude=None):
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


def check_bidding_alone(coop, job):
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

def interest_of(job, coop):
    return db.session.scalar(select(Interest).where(Interest.job_id == job.id, Interest.coop_id == coop.id))


def register_interest(job, coop, user, bid_by):
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


def withdraw_interest(job, coop, user):
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
    answers: dict = field(default_factory=dict)  # {requirement id: answer}


def amount_field(price_type):
    return "day_rate" if price_type == BudgetType.DAY_RATE else "price"


def price_errors(price_type, amount, days):
    """Problems with a price, as {form field: message}; shared by the form and the rules."""
    errors = {}
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


def start_errors(available_from, today=None):
    today = today or utcnow().date()
    if available_from is None:
        return {}
    if available_from < today:
        return {"available_from": "The start date cannot be in the past."}
    if available_from > today + MAX_START_AHEAD:
        return {"available_from": "The start date is more than five years away: check the year."}
    return {}


def _check_values(job, values):
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


def _check_complete(job, values):
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


def would_submit(job, values):
    """Whether ``values`` make a bid that may be submitted (before "check your answers": a bid
    that would be refused goes straight to the save, which says why)."""
    try:
        _check_values(job, values)
        _check_complete(job, values)
    except BidRuleError:
        return False
    return True


def live_bid(job, coop, lock=False, consortium=None):
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


def _bid_being_edited(job, coop, bid_id, consortium=None):
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


def _apply(bid, job, values):
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


def save_bid(job, coop, user, values, submit=False, bid_id=None, consortium=None):
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
    if created:
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


def _submit_draft(bid):
    """Compare and set: of requests submitting the same draft at once, the one whose UPDATE
    still finds it a draft submits it (one ``bid.submitted``, one notice); the others find it
    submitted and have edited it. True if this one submitted it."""
    return compare_and_set(bid, Bid.status == BidStatus.DRAFT.value,
                           status=BidStatus.SUBMITTED.value, submitted_at=utcnow())


def withdraw_bid(bid, user):
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


# --- reading ---------------------------------------------------------------------------------

def received_count(job):
    return db.session.scalar(
        select(func.count(Bid.id)).where(Bid.job_id == job.id, Bid.status.in_(status_values(RECEIVED_STATUSES)))
    )


def with_counts():
    """Loader options that fill ``Job.bid_count``, ``Job.interest_count`` and
    ``Job.answer_count`` in the job's own SELECT: how many bids were received, how many
    co-ops still intend to bid, how many answers are published."""
    from ..questions.models import Question

    def count(column, *where):
        return select(func.count(column)).where(*where).correlate(Job).scalar_subquery()

    return [
        with_expression(Job.bid_count, count(
            Bid.id, Bid.job_id == Job.id, Bid.status.in_(status_values(RECEIVED_STATUSES)))),
        with_expression(Job.interest_count, count(
            Interest.id, Interest.job_id == Job.id, Interest.state == InterestState.ACTIVE.value)),
        with_expression(Job.answer_count, count(
            Question.id, Question.job_id == Job.id, Question.answered_at.is_not(None))),
    ]


def received_bids(job):
    """The bids the poster reviews once bids close, with what the review page shows."""
    return db.session.scalars(
        select(Bid).where(Bid.job_id == job.id, Bid.status.in_(status_values(RECEIVED_STATUSES)))
        .options(joinedload(Bid.coop), selectinload(Bid.answers))
        .order_by(Bid.submitted_at, Bid.id)
    ).all()


def interests_of(job):
    """Every co-op's interest in ``job`` (for the poster), with whether a bid followed."""
    return db.session.scalars(
        select(Interest).where(Interest.job_id == job.id)
        .options(joinedload(Interest.coop), selectinload(Interest.received_bid))
        .order_by(Interest.bid_by, Interest.id)
    ).all()


def engaged_coop_ids(job):
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


def coop_bids_page(viewer, page, per_page=20):
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
    coops: list = field(default_factory=list)  # co-ops the viewer may bid for
    bids: dict = field(default_factory=dict)  # {coop id: its live bid}
    withdrawn: dict = field(default_factory=dict)  # {coop id: its latest withdrawn bid}
    interests: dict = field(default_factory=dict)  # {coop id: its interest}
    all_interests: list = field(default_factory=list)  # the poster's view
    awarded: Bid | None = None  # the reviewers' view of an awarded job
    teamed: dict = field(default_factory=dict)  # {coop id: the consortium it bids in}
    waiting: list = field(default_factory=list)  # why the viewer's other co-ops may not act yet

    @property
    def interest_coops(self):
        """The co-ops the interest form is for: no live bid and no interest in force (a
        registered one is shown instead, with how to withdraw it)."""
        return [c for c in self.coops if c.id not in self.bids
                and (c.id not in self.interests or self.interests[c.id].state == InterestState.LAPSED)]


def bidding_panel(job, coops, show_interests, reviewer):
    """The job page's bidding section; ``coops`` are the viewer's co-ops that may bid."""
    panel = BiddingPanel(bid_count=job.bid_count or 0, interest_count=job.interest_count or 0)
    if show_interests:
        panel.all_interests = interests_of(job)
    if reviewer and job.state == JobState.AWARDED:
        panel.awarded = db.session.scalar(
            select(Bid).where(Bid.job_id == job.id, Bid.status == BidStatus.AWARDED.value)
            .options(joinedload(Bid.coop))
        )
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


def next_interest_lapse(job, now):
    """When an interest in ``job`` next lapses by the clock alone (an interest lapses once
    its date has passed: at midnight, UTC, after it), or None."""
    day = db.session.scalar(
        select(func.min(Interest.bid_by)).where(Interest.job_id == job.id, Interest.bid_by >= now.date())
    )
    return None if day is None else datetime.combine(day + timedelta(days=1), time.min)


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
