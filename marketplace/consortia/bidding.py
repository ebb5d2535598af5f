"""A consortium bidding as one: the split of the work and money its co-ops agree, and the
checks and save of the bid the lead makes for the team (callers commit). Apart from forming
the team (``services``): these rules change with bidding, not with membership."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..audit.services import record
from ..bids import services as bids
from ..bids.models import Bid, BidStatus
from ..federation import why_coop_cannot_act
from ..notifications.models import NotificationKind
from .models import Consortium, MemberStatus
from .rules import (MAX_ROLE, ConsortiumRuleError, check_job_open, check_lead, check_not_frozen,
                    live_consortium_bid, lock_team, team_coops, tell)

if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Mapping
    from ..bids.services import BidValues
    from ..accounts.models import User
    from ..jobs.models import Job


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
    lock_team(consortium)
    check_lead(consortium, user)
    check_job_open(consortium)
    check_not_frozen(consortium, "the split cannot change")
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
    tell(consortium, NotificationKind.TEAM_CHANGED,
          f"The split of the work and money in “{consortium.name}” changed: see it, and accept it if "
          "your co-op's share changed.", [m.coop for m in changed if not m.is_lead], actor=user)
    return changed


# --- bidding as one --------------------------------------------------------------------------

def check_can_bid_together(consortium: Consortium, job: Job, user: User, submit: bool) -> None:
    """Before the consortium's bid is saved: it bids as one co-op, with every co-op of its
    team able to see the job, and (to submit) a split that every member accepted, of 100 %."""
    check_lead(consortium, user)
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
    lock_team(consortium)  # the bid is made with the team and split as they are now
    check_can_bid_together(consortium, job, user, submit)
    before = live_consortium_bid(consortium, job, lock=True)
    was = before.status if before is not None else None
    bid = bids.save_bid(job, consortium.lead_coop, user, values, submit=submit, bid_id=bid_id,
                        consortium=consortium)
    if bid.status == BidStatus.SUBMITTED and was != BidStatus.SUBMITTED:
        record("consortium.bid_submitted", consortium, actor=user, coop=consortium.lead_coop,
               job_id=job.id, bid_id=bid.id)
        tell(consortium, NotificationKind.TEAM_CHANGED,
              f"{consortium.lead_coop.name} submitted the bid of “{consortium.name}” on “{job.title}”.",
              team_coops(consortium), actor=user)
    return bid
