"""What every rule of consortia shares: the limits of their texts, their error, and the
checks and notices that forming, the split, comments and bidding as one all use. Apart so
that each of those can live in a module of its own without reaching into another."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import url_for
from sqlalchemy import select

from ..bids import services as bids
from ..bids.models import Bid, BidStatus, status_values
from ..core.models import lock_row
from ..core.rules import checked_text
from ..coops.models import Coop
from ..extensions import db
from ..jobs.models import JobState
from ..notifications.models import NotificationKind
from ..notifications.services import notify_coops
from .models import Consortium, ConsortiumMember

if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Iterable
    from ..accounts.models import User
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


def consortium_url(consortium: Consortium) -> str:
    return url_for("consortia.show", consortium_id=consortium.id)


def tell(consortium: Consortium, kind: NotificationKind, message: str, coops: Iterable[Coop | int],
          actor: User | None = None) -> None:
    notify_coops(kind, message, consortium_url(consortium), coops, job=consortium.job, actor=actor)


def team_coops(consortium: Consortium) -> list[Any]:
    return [m.coop for m in consortium.team]


def lock_team(consortium: Consortium) -> None:
    """Changes to a consortium's team and split take turns, each deciding on the team as it is
    now rather than as the page showed it: two saves of the split read at once could otherwise
    each write the shares they changed over the other's, leaving a split that is not 100 %."""
    lock_row(consortium)
    db.session.expire(consortium, ["members"])
    db.session.scalars(select(ConsortiumMember).where(ConsortiumMember.consortium_id == consortium.id)
                       .execution_options(populate_existing=True)).all()


def check_lead(consortium: Consortium, user: User) -> None:
    if not user.is_member_of(consortium.lead_coop):
        raise ConsortiumRuleError(f"Only the lead co-op, {consortium.lead_coop.name}, can do this.")
    check_not_dissolved(consortium)


def check_not_dissolved(consortium: Consortium) -> None:
    if consortium.is_dissolved:
        raise ConsortiumRuleError("This consortium was dissolved.")


def check_job_open(consortium: Consortium) -> None:
    job = consortium.job
    if job is not None and job.state != JobState.OPEN:
        raise ConsortiumRuleError(bids.closed_message(job) + " The consortium can no longer change.")


def frozen_bid(consortium: Consortium) -> Bid | None:
    """The consortium's bid that fixes its team and split (submitted, shortlisted or won)."""
    return db.session.scalar(select(Bid).where(
        Bid.consortium_id == consortium.id, Bid.status.in_(status_values(FROZEN_STATUSES))))


def check_not_frozen(consortium: Consortium, what: str) -> None:
    bid = frozen_bid(consortium)
    if bid is not None:
        raise ConsortiumRuleError(
            f"The consortium's bid on “{bid.job.title}” is {bid.status}: {what} once the bid is "
            "submitted. The lead can withdraw the bid while bids are open, and then change it."
        )


def live_consortium_bid(consortium: Consortium, job: Job, lock: bool = False) -> Bid | None:
    return bids.live_bid(job, consortium.lead_coop, lock=lock, consortium=consortium)


def check_free_to_join(coop: Coop, job: Job | None, consortium: Consortium | None = None) -> None:
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


def checked_field(value: str | None, limit: int, name: str, label: str, required: bool = False) -> str:
    return checked_text(value, limit, name, ConsortiumRuleError, f"Give {label}." if required else None,
                        label[0].upper() + label[1:])
