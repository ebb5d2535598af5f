"""Business rules of consortia, as plain functions: forming a team, inviting, answering,
agreeing the split, leaving, dissolving, commenting, partner offers, and bidding as one.

Callers commit (``core.work.save_change``, with ``retry`` for the changes that may race on a
unique index). Every change writes an audit event on the consortium in the same transaction.

One bid per co-op per job: a co-op takes part in one bid on a job, alone or in one
consortium. A co-op in the team of a consortium for a job may not also bid alone on it
(``bids.services.check_bidding_alone``), and a co-op with its own live bid on a job cannot
form or join a consortium for it (``_check_free_to_join``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import url_for
from sqlalchemy import select

from ..audit.services import record
from ..bids import services as bids
from ..bids.models import Bid, BidStatus, LIVE_STATUSES, status_values
from ..core.markdown import render_markdown
from ..core.models import compare_and_set, lock_row
from ..core.rules import checked_text
from ..core.time import utcnow
from ..coops.models import Coop
from ..extensions import db
from ..federation.policy import acting_coops_clause, coops_seeing_job_clause, why_coop_cannot_act
from ..jobs.models import JobState
from ..notifications.models import NotificationKind
from ..notifications.services import notify_coops
from .models import (IN_TEAM, PARTICIPATING, Consortium, ConsortiumComment, ConsortiumMember,
                     ConsortiumStatus, MemberStatus, PartnerOffer)

if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Iterable
    from collections.abc import Mapping
    from ..bids.services import BidValues
    from ..core.pagination import Page
    from typing import Sequence
    from ..accounts.models import User
    from ..federation.policy import Viewer
    from ..jobs.models import Job

MAX_NAME = 120
MAX_ROLE = 120
MAX_DESCRIPTION = 5_000
MAX_COMMENT = 5_000
MAX_OFFER = 500
# Once its bid is in the poster's hands (or won), the team and its split are what was offered.
FROZEN_STATUSES = frozenset({BidStatus.SUBMITTED, BidStatus.SHORTLISTED, BidStatus.AWARDED})


class ConsortiumRuleError(bids.BidRuleError):
    """A change the consortium rules refuse; ``field`` names the form field at fault, if any."""


# --- helpers ---------------------------------------------------------------------------------

def _url(consortium: Consortium) -> str:
    return url_for("consortia.show", consortium_id=consortium.id)


def _tell(consortium: Consortium, kind: NotificationKind, message: str, coops: Iterable[Coop | int],
          actor: User | None = None) -> None:
    notify_coops(kind, message, _url(consortium), coops, job=consortium.job, actor=actor)


def _team_coops(consortium: Consortium) -> list[Any]:
    return [m.coop for m in consortium.team]


def _lock_team(consortium: Consortium) -> None:
    """Changes to a consortium's team and split take turns, each deciding on the team as it is
    now rather than as the page showed it: two saves of the split read at once could otherwise
    each write the shares they changed over the other's, leaving a split that is not 100 %."""
    lock_row(consortium)
    db.session.expire(consortium, ["members"])
    db.session.scalars(select(ConsortiumMember).where(ConsortiumMember.consortium_id == consortium.id)
                       .execution_options(populate_existing=True)).all()


def _check_lead(consortium: Consortium, user: User) -> None:
    if not user.is_member_of(consortium.lead_coop):
        raise ConsortiumRuleError(f"Only the lead co-op, {consortium.lead_coop.name}, can do this.")
    _check_not_dissolved(consortium)


def _check_not_dissolved(consortium: Consortium) -> None:
    if consortium.is_dissolved:
        raise ConsortiumRuleError("This consortium was dissolved.")


def _check_job_open(consortium: Consortium) -> None:
    job = consortium.job
    if job is not None and job.state != JobState.OPEN:
        raise ConsortiumRuleError(bids.closed_message(job) + " The consortium can no longer change.")


def frozen_bid(consortium: Consortium) -> Bid | None:
    """The consortium's bid that fixes its team and split (submitted, shortlisted or won)."""
    return db.session.scalar(select(Bid).where(
        Bid.consortium_id == consortium.id, Bid.status.in_(status_values(FROZEN_STATUSES))))


def _check_not_frozen(consortium: Consortium, what: str) -> None:
    bid = frozen_bid(consortium)
    if bid is not None:
        raise ConsortiumRuleError(
            f"The consortium's bid on “{bid.job.title}” is {bid.status}: {what} once the bid is "
            "submitted. The lead can withdraw the bid while bids are open, and then change it."
        )


def live_consortium_bid(consortium: Consortium, job: Job, lock: bool = False) -> Bid | None:
    return bids.live_bid(job, consortium.lead_coop, lock=lock, consortium=consortium)


def _check_free_to_join(coop: Coop, job: Job | None, consortium: Consortium | None = None) -> None:
    """A co-op with its own live bid on the job, or in another consortium bidding on it, may
    not join (or form) a consortium for it."""
    if job is None:
        return
    if bids.live_bid(job, coop) is not None:
        raise ConsortiumRuleError(
            f"{coop.name} has its own bid on this job: a co-op takes part in one bid per job, alone "
            "or in one consortium. Withdraw that bid first to bid together."
        )
    other = bids.consortium_taking_part(coop, job, exclude=consortium)
    if other is not None:
        raise ConsortiumRuleError(
            f"{coop.name} is already in the consortium “{other.name}” for this job: a co-op takes "
            "part in one bid per job."
        )


def _text(value: str | None, limit: int, name: str, label: str, required: bool = False) -> str:
    return checked_text(value, limit, name, ConsortiumRuleError, f"Give {label}." if required else None,
                        label[0].upper() + label[1:])


# --- forming ---------------------------------------------------------------------------------

def leading_coops(user: User, job: Job | None = None) -> list[Coop]:
    """The user's co-ops that may lead a consortium (for ``job``: those that may bid on it)."""
    if job is not None:
        return bids.bidding_coops(user, job)
    return list(user.coops) if user.is_authenticated else []


def create_consortium(user: User, coop: Coop, name: str, description: str = "", role: str = "",
                      job: Job | None = None) -> Consortium:
    """``coop`` forms a consortium (for ``job``, or a standing one) and leads it. The lead
    starts with the whole of the work and the money; it shares them out as others join."""
    if not user.is_member_of(coop):
        raise ConsortiumRuleError("You can only act for a co-op you belong to.", field="coop")
    name = _text(name, MAX_NAME, "name", "a name for the consortium", required=True)
    description = _text(description, MAX_DESCRIPTION, "description", "the description")
    role = _text(role, MAX_ROLE, "role", "your co-op's role")
    if job is not None:
        bids.check_can_bid(coop, user, job)
        _check_free_to_join(coop, job)
    consortium = Consortium(job=job, lead_coop=coop, created_by_id=user.id, name=name,
                            description=description)
    consortium.members.append(ConsortiumMember(
        coop=coop, status=MemberStatus.ACCEPTED.value, role=role, work_share=100, money_share=100,
        invited_by_id=user.id, responded_at=utcnow()))
    db.session.add(consortium)
    db.session.flush()
    record("consortium.created", consortium, actor=user, coop=coop, job_id=getattr(job, "id", None),
           name=name)
    return consortium


def find_coop(text: str) -> Coop | None:
    """A co-op by slug or by name (case-insensitive), or None."""
    text = (text or "").strip()
    if not text:
        return None
    from sqlalchemy import func

    return db.session.scalar(select(Coop).where(
        (Coop.slug == text.lower()) | (func.lower(Coop.name) == text.lower())).order_by(Coop.id))


def why_cannot_invite(consortium: Consortium, coop: Coop) -> str | None:
    """None if the lead may invite ``coop``; otherwise why not (shown to the lead)."""
    member = consortium.member_for(coop.id)
    if member is not None and member.status in IN_TEAM:
        return f"{coop.name} is already a member of this consortium."
    if member is not None and member.status == MemberStatus.INVITED:
        return f"{coop.name} is already invited and has not answered yet."
    job = consortium.job
    if job is not None:
        if coop.id == job.coop_id:
            return f"{coop.name} posted this job: a co-op cannot bid on its own job."
        return why_coop_cannot_act(coop, job)
    return None


def invitable_names(consortium: Consortium) -> Sequence[str]:
    """The names of the co-ops ``why_cannot_invite`` would let the lead invite, in one
    statement: the invite form's suggestions."""
    taken = [m.coop_id for m in consortium.members if m.status in IN_TEAM or m.status == MemberStatus.INVITED]
    stmt = select(Coop.name).where(Coop.id.not_in(taken)).order_by(Coop.name)
    job = consortium.job
    if job is not None:
        stmt = stmt.where(Coop.id != job.coop_id, coops_seeing_job_clause(job), acting_coops_clause())
    return db.session.scalars(stmt).all()


def invite(consortium: Consortium, user: User, coop: Coop | None, role: str = "") -> ConsortiumMember:
    """The lead invites ``coop`` (with a role; its shares start at 0 % until the split is
    agreed). A co-op that declined or left may be invited again."""
    _lock_team(consortium)
    _check_lead(consortium, user)
    _check_job_open(consortium)
    _check_not_frozen(consortium, "the team cannot change")
    if coop is None:
        raise ConsortiumRuleError("There is no co-op by that name. Give its name or its short name "
                                  "(as in its page's address).", field="coop")
    role = _text(role, MAX_ROLE, "role", "the role")
    reason = why_cannot_invite(consortium, coop)
    if reason:
        raise ConsortiumRuleError(reason, field="coop")
    member = consortium.member_for(coop.id)
    again = member is not None
    if member is None:
        member = ConsortiumMember(coop=coop)
        consortium.members.append(member)
    member.status = MemberStatus.INVITED.value
    member.role = role
    member.work_share = member.money_share = 0
    member.invited_by_id = user.id
    member.responded_at = None
    db.session.flush()
    record("consortium.invited", consortium, actor=user, coop=consortium.lead_coop,
           invited=coop.name, invited_coop_id=coop.id, role=role, again=again or None)
    about = f" for “{consortium.job.title}”" if consortium.job else ""
    _tell(consortium, NotificationKind.TEAM_INVITED,
          f"{consortium.lead_coop.name} invited {coop.name} to join the consortium “{consortium.name}”{about}.",
          [coop], actor=user)
    return member


def accept(consortium: Consortium, member: ConsortiumMember, user: User) -> ConsortiumMember:
    """The invited co-op accepts the invitation, or a member accepts the changed split."""
    _lock_team(consortium)
    if not user.is_member_of(member.coop):
        raise ConsortiumRuleError("You can only answer for a co-op you belong to.")
    _check_not_dissolved(consortium)
    if member.status not in (MemberStatus.INVITED, MemberStatus.REACCEPT):
        raise _nothing_to_accept(member)
    _check_job_open(consortium)
    job = consortium.job
    if job is not None:
        reason = why_coop_cannot_act(member.coop, job)
        if reason:
            raise ConsortiumRuleError(reason)
        _check_free_to_join(member.coop, job, consortium)
    was = member.status
    again = was == MemberStatus.REACCEPT
    # Compare-and-set: of two accepts at once, the one whose UPDATE still finds the member
    # invited (or asked to accept again) accepts; the other is told it already happened.
    if not compare_and_set(member, ConsortiumMember.status == was, status=MemberStatus.ACCEPTED.value,
                           responded_at=utcnow()):
        raise _nothing_to_accept(member)
    record("consortium.reaccepted" if again else "consortium.accepted", consortium, actor=user,
           coop=member.coop, member=member.coop.name, role=member.role,
           work_share=member.work_share, money_share=member.money_share)
    what = "accepted the new split" if again else "joined"
    _tell(consortium, NotificationKind.TEAM_CHANGED, f"{member.coop.name} {what} in “{consortium.name}”.",
          [m.coop for m in consortium.team if m.id != member.id], actor=user)
    return member


def _nothing_to_accept(member: ConsortiumMember) -> ConsortiumRuleError:
    if member.status == MemberStatus.ACCEPTED:
        return ConsortiumRuleError(f"{member.coop.name} has already accepted.")
    return ConsortiumRuleError(f"{member.coop.name} has nothing to accept: it is {member.status_label.lower()}.")


def decline(consortium: Consortium, member: ConsortiumMember, user: User) -> ConsortiumMember:
    """The invited co-op declines (or a member turns the changed split down: it is then out)."""
    _lock_team(consortium)
    if not user.is_member_of(member.coop):
        raise ConsortiumRuleError("You can only answer for a co-op you belong to.")
    _check_not_dissolved(consortium)
    if member.status not in (MemberStatus.INVITED, MemberStatus.REACCEPT):
        raise ConsortiumRuleError(f"{member.coop.name} has nothing to decline: it is {member.status_label.lower()}.")
    if member.is_lead:
        raise ConsortiumRuleError("The lead co-op cannot decline its own consortium.")
    member.status = MemberStatus.DECLINED.value
    member.responded_at = utcnow()
    record("consortium.declined", consortium, actor=user, coop=member.coop, member=member.coop.name)
    _tell(consortium, NotificationKind.TEAM_CHANGED,
          f"{member.coop.name} declined to take part in “{consortium.name}”.", _team_coops(consortium), actor=user)
    return member


def leave(consortium: Consortium, member: ConsortiumMember, user: User) -> ConsortiumMember:
    """A member co-op leaves. Refused for the lead (it dissolves the consortium instead) and
    once the consortium's bid is submitted (the bid was made with that co-op's share)."""
    _lock_team(consortium)
    if not user.is_member_of(member.coop):
        raise ConsortiumRuleError("You can only act for a co-op you belong to.")
    _check_not_dissolved(consortium)
    if member.is_lead:
        raise ConsortiumRuleError(
            f"{member.coop.name} leads this consortium and cannot leave it: the lead bids in its name. "
            "Dissolve the consortium instead (before its bid is submitted)."
        )
    if member.status not in IN_TEAM:
        raise ConsortiumRuleError(f"{member.coop.name} is not a member of this consortium.")
    _check_not_frozen(consortium, "no member can leave")
    member.status = MemberStatus.LEFT.value
    member.responded_at = utcnow()
    record("consortium.left", consortium, actor=user, coop=member.coop, member=member.coop.name,
           work_share=member.work_share, money_share=member.money_share)
    _tell(consortium, NotificationKind.TEAM_CHANGED,
          f"{member.coop.name} left “{consortium.name}”: its share of the work and money must be agreed again.",
          _team_coops(consortium), actor=user)
    return member


def check_dissolve(consortium: Consortium, user: User) -> None:
    """Raise ConsortiumRuleError if ``user`` may not dissolve ``consortium`` now (writes nothing)."""
    _check_lead(consortium, user)
    _check_not_frozen(consortium, "the consortium cannot be dissolved")


def live_bids(consortium: Consortium) -> Sequence[Bid]:
    """The consortium's bids that dissolving it withdraws."""
    return db.session.scalars(select(Bid).where(Bid.consortium_id == consortium.id,
                                                Bid.status.in_(status_values(LIVE_STATUSES)))).all()


def dissolve(consortium: Consortium, user: User) -> None:
    """The lead dissolves the consortium; its draft bid, if any, is discarded."""
    _lock_team(consortium)
    check_dissolve(consortium, user)
    for bid in live_bids(consortium):
        bid.status = BidStatus.WITHDRAWN.value
        bid.withdrawn_at = utcnow()
        record("bid.withdrawn", bid, actor=user, coop=consortium.lead_coop, job_id=bid.job_id,
               was="draft", consortium_id=consortium.id)
    consortium.status = ConsortiumStatus.DISSOLVED.value
    consortium.dissolved_at = utcnow()
    record("consortium.dissolved", consortium, actor=user, coop=consortium.lead_coop)
    _tell(consortium, NotificationKind.TEAM_CHANGED, f"{consortium.lead_coop.name} dissolved “{consortium.name}”.",
          [m.coop for m in consortium.participants], actor=user)


# --- the split -------------------------------------------------------------------------------

def share_errors(rows: Mapping[int, tuple[str | None, int | None, int | None]]) -> dict[tuple[int | None, str], str]:
    """Problems with a split: {(member id, field) or None: message}. ``rows``: {member id:
    (role, work %, money %)} for every co-op taking part. Shared by the form and the rules."""
    errors: dict[tuple[int | None, str], str] = {}
    for member_id, (role, work, money) in rows.items():
        for name, value in (("work", work), ("money", money)):
            if value is None or not 0 <= value <= 100:
                errors[(member_id, name)] = "Give a whole percentage between 0 and 100."
        if len(role or "") > MAX_ROLE:
            errors[(member_id, "role")] = f"A role must be at most {MAX_ROLE} characters."
    if not errors:
        # Every share is a whole percentage by now.
        work = sum(r[1] or 0 for r in rows.values())
        money = sum(r[2] or 0 for r in rows.values())
        if work != 100:
            errors[(None, "work")] = f"The shares of the work add up to {work} %, not 100 %."
        if money != 100:
            errors[(None, "money")] = f"The shares of the money add up to {money} %, not 100 %."
    return errors


def save_split(consortium: Consortium, user: User,
               rows: Mapping[int, tuple[str | None, int | None, int | None]]) -> list[Any]:
    """The lead sets each co-op's role and shares; together they must make 100 %. A member
    whose role or shares change after it accepted must accept again."""
    _lock_team(consortium)
    _check_lead(consortium, user)
    _check_job_open(consortium)
    _check_not_frozen(consortium, "the split cannot change")
    people = {m.id: m for m in consortium.participants}
    if set(rows) != set(people):
        raise ConsortiumRuleError("The team changed since you opened the page. Reload it and agree the split again.")
    rows = {k: ((role or "").strip(), work, money) for k, (role, work, money) in rows.items()}
    errors = share_errors(rows)
    if errors:
        (_, name), message = next(iter(errors.items()))
        raise ConsortiumRuleError(message, field=name)
    changed = []
    for member_id, (role, work_share, money_share) in rows.items():
        # Checked above: both shares are whole percentages.
        work, money = work_share or 0, money_share or 0
        member = people[member_id]
        if (member.role, member.work_share, member.money_share) == (role, work, money):
            continue
        changed.append(member)
        member.role, member.work_share, member.money_share = role or "", work, money
        if member.status == MemberStatus.ACCEPTED and not member.is_lead:
            member.status = MemberStatus.REACCEPT.value
    if not changed:
        return []
    record("consortium.split_changed", consortium, actor=user, coop=consortium.lead_coop,
           split={m.coop.name: [m.role, m.work_share, m.money_share] for m in consortium.participants},
           reaccept=[m.coop.name for m in changed if m.status == MemberStatus.REACCEPT] or None)
    _tell(consortium, NotificationKind.TEAM_CHANGED,
          f"The split of the work and money in “{consortium.name}” changed: see it, and accept it if "
          "your co-op's share changed.", [m.coop for m in changed if not m.is_lead], actor=user)
    return changed


# --- comments --------------------------------------------------------------------------------

def add_comment(consortium: Consortium, user: User, coop: Coop, text: str) -> ConsortiumComment:
    if not user.is_member_of(coop):
        raise ConsortiumRuleError("You can only act for a co-op you belong to.")
    member = consortium.member_for(coop.id)
    if member is None or member.status not in PARTICIPATING:
        raise ConsortiumRuleError("Only the co-ops taking part in the consortium can comment.")
    text = _text(text, MAX_COMMENT, "text", "a comment", required=True)
    comment = ConsortiumComment(consortium=consortium, coop=coop, user_id=user.id, text=text,
                                text_html=render_markdown(text))
    db.session.add(comment)
    db.session.flush()
    record("consortium.commented", consortium, actor=user, coop=coop, comment_id=comment.id)
    _tell(consortium, NotificationKind.TEAM_CHANGED,
          f"{user.name} ({coop.name}) commented on “{consortium.name}”.",
          [m.coop for m in consortium.participants if m.coop_id != coop.id], actor=user)
    return comment


# --- partner offers --------------------------------------------------------------------------

def offer_of(job: Job, coop: Coop) -> PartnerOffer | None:
    return db.session.scalar(select(PartnerOffer).where(PartnerOffer.job_id == job.id,
                                                        PartnerOffer.coop_id == coop.id))


def offer_partnership(job: Job, coop: Coop, user: User, message: str | None) -> PartnerOffer:
    """``coop`` offers itself as a partner on ``job``; a second offer changes the message."""
    bids.check_can_bid(coop, user, job)
    message = _text(message, MAX_OFFER, "message", "a short message", required=True)
    offer = offer_of(job, coop)
    action = "partner_offer.updated"
    if offer is None:
        offer = PartnerOffer(job=job, coop=coop, created_by_id=user.id)
        db.session.add(offer)
        action = "partner_offer.made"
    offer.message = message
    db.session.flush()
    record(action, offer, actor=user, coop=coop, job_id=job.id)
    leads = [c.lead_coop for c in job_consortia(job)]
    if leads:
        notify_coops(NotificationKind.TEAM_CHANGED, f"{coop.name} offers itself as a partner on “{job.title}”.",
                     url_for("jobs.show", job_id=job.id, _anchor="consortia"), leads, job=job, actor=user)
    return offer


def withdraw_offer(job: Job, coop: Coop, user: User) -> None:
    if not user.is_member_of(coop):
        raise ConsortiumRuleError("You can only act for a co-op you belong to.")
    offer = offer_of(job, coop)
    if offer is None:
        raise ConsortiumRuleError(f"{coop.name} has not offered itself as a partner on this job.")
    record("partner_offer.withdrawn", offer, actor=user, coop=coop, job_id=job.id)
    db.session.delete(offer)


def job_consortia(job: Job) -> Sequence[Consortium]:
    """The job's consortia that are not dissolved."""
    return db.session.scalars(select(Consortium).where(
        Consortium.job_id == job.id, Consortium.status == ConsortiumStatus.FORMING.value
    ).order_by(Consortium.id)).all()


def offers_on(job: Job, exclude_coop_ids: Iterable[int] = ()) -> Sequence[PartnerOffer]:
    return db.session.scalars(select(PartnerOffer).where(
        PartnerOffer.job_id == job.id, PartnerOffer.coop_id.not_in(sorted(exclude_coop_ids) or [0])
    ).order_by(PartnerOffer.created_at, PartnerOffer.id)).all()


# --- bidding as one --------------------------------------------------------------------------

def check_can_bid_together(consortium: Consortium, job: Job, user: User, submit: bool) -> None:
    """Before the consortium's bid is saved: it bids as one co-op, with every co-op of its
    team able to see the job, and (to submit) a split that every member accepted, of 100 %."""
    _check_lead(consortium, user)
    if consortium.job_id is not None and consortium.job_id != job.id:
        raise ConsortiumRuleError("This consortium was formed for another job.")
    for member in consortium.participants:
        if member.coop_id == job.coop_id:
            raise ConsortiumRuleError(f"{member.coop.name} posted this job: a co-op cannot bid on its own job.")
        reason = why_coop_cannot_act(member.coop, job)
        if reason:
            raise ConsortiumRuleError(reason + " Every co-op in a consortium must be able to see the job and bid.")
    for member in consortium.team:
        if (bids.live_bid(job, member.coop) is not None
                or bids.consortium_taking_part(member.coop, job, exclude=consortium) is not None):
            raise ConsortiumRuleError(
                "A co-op in this consortium already takes part in another bid on this job (alone or in "
                "another consortium): a co-op takes part in one bid per job."
            )
    if not submit:
        return
    waiting = [m for m in consortium.participants if m.status != MemberStatus.ACCEPTED]
    if waiting:
        names = ", ".join(m.coop.name for m in waiting)
        raise ConsortiumRuleError(f"Every co-op must accept the split before the consortium bids. Waiting for: {names}.")
    if len(consortium.team) < 2:
        raise ConsortiumRuleError("A consortium bids with at least two co-ops: invite a partner first.")
    work, money = consortium.totals()
    if (work, money) != (100, 100):
        raise ConsortiumRuleError(
            f"The shares add up to {work} % of the work and {money} % of the money: agree a split of "
            "100 % of each before submitting.")


def save_consortium_bid(consortium: Consortium, job: Job, user: User, values: BidValues, submit: bool = False,
                        bid_id: int | None = None) -> Bid:
    _lock_team(consortium)  # the bid is made with the team and split as they are now
    check_can_bid_together(consortium, job, user, submit)
    before = live_consortium_bid(consortium, job, lock=True)
    was = before.status if before is not None else None
    bid = bids.save_bid(job, consortium.lead_coop, user, values, submit=submit, bid_id=bid_id,
                        consortium=consortium)
    if bid.status == BidStatus.SUBMITTED and was != BidStatus.SUBMITTED:
        record("consortium.bid_submitted", consortium, actor=user, coop=consortium.lead_coop,
               job_id=job.id, bid_id=bid.id)
        _tell(consortium, NotificationKind.TEAM_CHANGED,
              f"{consortium.lead_coop.name} submitted the bid of “{consortium.name}” on “{job.title}”.",
              _team_coops(consortium), actor=user)
    return bid


def consortia_of(viewer: Viewer, page: int, per_page: int = 20) -> Page:
    """The consortia the viewer's co-ops take part in (or are invited to), newest first."""
    from ..core.pagination import paginate
    from .policy import visible_consortia

    stmt = visible_consortia(select(Consortium), viewer).order_by(Consortium.id.desc())
    return paginate(stmt, page, per_page)
