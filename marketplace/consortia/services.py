"""Business rules of consortia, as plain functions: forming a team, inviting, answering,
agreeing the split, leaving, dissolving, commenting, partner offers, and bidding as one.

Callers commit (``core.work.save_change``, with ``retry`` for the changes that may race on a
unique index). Every change writes an audit event on the consortium in the same transaction.

One bid per co-op per job: a co-op takes part in one bid on a job, alone or in one
consortium. A co-op in the team of a consortium for a job may not also bid alone on it
(``bids.services.check_bidding_alone``), and a co-op with its own live bid on a job cannot
form or join a consortium for it (``rules.check_free_to_join``).

Here: forming the team, inviting, answering, leaving, dissolving and comments. The split and
bidding as one are in ``bidding``, partner offers in ``offers``, the limits, the error and
the shared checks in ``rules``; all are named here too.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from ..audit.services import record
from ..bids import services as bids
from ..bids.models import Bid, BidStatus, LIVE_STATUSES, status_values
from ..core.markdown import render_markdown
from ..core.models import compare_and_set
from ..core.time import utcnow
from ..coops.models import Coop
from ..extensions import db
from ..federation import acting_coops_clause, why_coop_cannot_act
from ..federation.policy import coops_seeing_job_clause
from ..notifications.models import NotificationKind
from .bidding import check_can_bid_together, save_consortium_bid, save_split, share_errors  # noqa: F401
from .models import (IN_TEAM, PARTICIPATING, Consortium, ConsortiumComment, ConsortiumMember,
                     ConsortiumStatus, MemberStatus)
from .offers import job_consortia, offer_of, offer_partnership, offers_on, withdraw_offer  # noqa: F401
from .rules import (MAX_COMMENT, MAX_DESCRIPTION, MAX_NAME, MAX_OFFER, MAX_ROLE,  # noqa: F401  (also the forms')
                    ConsortiumRuleError, check_free_to_join, check_job_open, check_lead, check_not_dissolved,
                    check_not_frozen, checked_field, frozen_bid, live_consortium_bid, lock_team, team_coops,
                    tell)

if TYPE_CHECKING:
    from ..core.pagination import Page
    from typing import Sequence
    from ..accounts.models import User
    from ..federation.policy import Viewer
    from ..jobs.models import Job


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
    name = checked_field(name, MAX_NAME, "name", "a name for the consortium", required=True)
    description = checked_field(description, MAX_DESCRIPTION, "description", "the description")
    role = checked_field(role, MAX_ROLE, "role", "your co-op's role")
    if job is not None:
        bids.check_can_bid(coop, user, job)
        check_free_to_join(coop, job)
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
    lock_team(consortium)
    check_lead(consortium, user)
    check_job_open(consortium)
    check_not_frozen(consortium, "the team cannot change")
    if coop is None:
        raise ConsortiumRuleError("There is no co-op by that name. Give its name or its short name "
                                  "(as in its page's address).", field="coop")
    role = checked_field(role, MAX_ROLE, "role", "the role")
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
    tell(consortium, NotificationKind.TEAM_INVITED,
          f"{consortium.lead_coop.name} invited {coop.name} to join the consortium “{consortium.name}”{about}.",
          [coop], actor=user)
    return member


def accept(consortium: Consortium, member: ConsortiumMember, user: User) -> ConsortiumMember:
    """The invited co-op accepts the invitation, or a member accepts the changed split."""
    lock_team(consortium)
    if not user.is_member_of(member.coop):
        raise ConsortiumRuleError("You can only answer for a co-op you belong to.")
    check_not_dissolved(consortium)
    if member.status not in (MemberStatus.INVITED, MemberStatus.REACCEPT):
        raise _nothing_to_accept(member)
    check_job_open(consortium)
    job = consortium.job
    if job is not None:
        reason = why_coop_cannot_act(member.coop, job)
        if reason:
            raise ConsortiumRuleError(reason)
        check_free_to_join(member.coop, job, consortium)
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
    tell(consortium, NotificationKind.TEAM_CHANGED, f"{member.coop.name} {what} in “{consortium.name}”.",
          [m.coop for m in consortium.team if m.id != member.id], actor=user)
    return member


def _nothing_to_accept(member: ConsortiumMember) -> ConsortiumRuleError:
    if member.status == MemberStatus.ACCEPTED:
        return ConsortiumRuleError(f"{member.coop.name} has already accepted.")
    return ConsortiumRuleError(f"{member.coop.name} has nothing to accept: it is {member.status_label.lower()}.")


def decline(consortium: Consortium, member: ConsortiumMember, user: User) -> ConsortiumMember:
    """The invited co-op declines (or a member turns the changed split down: it is then out)."""
    lock_team(consortium)
    if not user.is_member_of(member.coop):
        raise ConsortiumRuleError("You can only answer for a co-op you belong to.")
    check_not_dissolved(consortium)
    if member.status not in (MemberStatus.INVITED, MemberStatus.REACCEPT):
        raise ConsortiumRuleError(f"{member.coop.name} has nothing to decline: it is {member.status_label.lower()}.")
    if member.is_lead:
        raise ConsortiumRuleError("The lead co-op cannot decline its own consortium.")
    member.status = MemberStatus.DECLINED.value
    member.responded_at = utcnow()
    record("consortium.declined", consortium, actor=user, coop=member.coop, member=member.coop.name)
    tell(consortium, NotificationKind.TEAM_CHANGED,
          f"{member.coop.name} declined to take part in “{consortium.name}”.", team_coops(consortium), actor=user)
    return member


def leave(consortium: Consortium, member: ConsortiumMember, user: User) -> ConsortiumMember:
    """A member co-op leaves. Refused for the lead (it dissolves the consortium instead) and
    once the consortium's bid is submitted (the bid was made with that co-op's share)."""
    lock_team(consortium)
    if not user.is_member_of(member.coop):
        raise ConsortiumRuleError("You can only act for a co-op you belong to.")
    check_not_dissolved(consortium)
    if member.is_lead:
        raise ConsortiumRuleError(
            f"{member.coop.name} leads this consortium and cannot leave it: the lead bids in its name. "
            "Dissolve the consortium instead (before its bid is submitted)."
        )
    if member.status not in IN_TEAM:
        raise ConsortiumRuleError(f"{member.coop.name} is not a member of this consortium.")
    check_not_frozen(consortium, "no member can leave")
    member.status = MemberStatus.LEFT.value
    member.responded_at = utcnow()
    record("consortium.left", consortium, actor=user, coop=member.coop, member=member.coop.name,
           work_share=member.work_share, money_share=member.money_share)
    tell(consortium, NotificationKind.TEAM_CHANGED,
          f"{member.coop.name} left “{consortium.name}”: its share of the work and money must be agreed again.",
          team_coops(consortium), actor=user)
    return member


def check_dissolve(consortium: Consortium, user: User) -> None:
    """Raise ConsortiumRuleError if ``user`` may not dissolve ``consortium`` now (writes nothing)."""
    check_lead(consortium, user)
    check_not_frozen(consortium, "the consortium cannot be dissolved")


def live_bids(consortium: Consortium) -> Sequence[Bid]:
    """The consortium's bids that dissolving it withdraws."""
    return db.session.scalars(select(Bid).where(Bid.consortium_id == consortium.id,
                                                Bid.status.in_(status_values(LIVE_STATUSES)))).all()


def dissolve(consortium: Consortium, user: User) -> None:
    """The lead dissolves the consortium; its draft bid, if any, is discarded."""
    lock_team(consortium)
    check_dissolve(consortium, user)
    for bid in live_bids(consortium):
        bid.status = BidStatus.WITHDRAWN.value
        bid.withdrawn_at = utcnow()
        record("bid.withdrawn", bid, actor=user, coop=consortium.lead_coop, job_id=bid.job_id,
               was="draft", consortium_id=consortium.id)
    consortium.status = ConsortiumStatus.DISSOLVED.value
    consortium.dissolved_at = utcnow()
    record("consortium.dissolved", consortium, actor=user, coop=consortium.lead_coop)
    tell(consortium, NotificationKind.TEAM_CHANGED, f"{consortium.lead_coop.name} dissolved “{consortium.name}”.",
          [m.coop for m in consortium.participants], actor=user)


# --- comments --------------------------------------------------------------------------------

def add_comment(consortium: Consortium, user: User, coop: Coop, text: str) -> ConsortiumComment:
    if not user.is_member_of(coop):
        raise ConsortiumRuleError("You can only act for a co-op you belong to.")
    member = consortium.member_for(coop.id)
    if member is None or member.status not in PARTICIPATING:
        raise ConsortiumRuleError("Only the co-ops taking part in the consortium can comment.")
    text = checked_field(text, MAX_COMMENT, "text", "a comment", required=True)
    comment = ConsortiumComment(consortium=consortium, coop=coop, user_id=user.id, text=text,
                                text_html=render_markdown(text))
    db.session.add(comment)
    db.session.flush()
    record("consortium.commented", consortium, actor=user, coop=coop, comment_id=comment.id)
    tell(consortium, NotificationKind.TEAM_CHANGED,
          f"{user.name} ({coop.name}) commented on “{consortium.name}”.",
          [m.coop for m in consortium.participants if m.coop_id != coop.id], actor=user)
    return comment


def consortia_of(viewer: Viewer, page: int, per_page: int = 20) -> Page:
    """The consortia the viewer's co-ops take part in (or are invited to), newest first."""
    from ..core.pagination import paginate
    from .policy import visible_consortia

    stmt = visible_consortia(select(Consortium), viewer).order_by(Consortium.id.desc())
    return paginate(stmt, page, per_page)
