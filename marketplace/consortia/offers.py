"""Partner offers: a co-op saying on a job that it would join a consortium for it, and the
consortia a job has (callers commit). Apart from ``services`` because they belong to the job,
not to any one consortium."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import url_for
from sqlalchemy import select

from ..audit.services import record
from ..bids import services as bids
from ..coops.models import Coop
from ..extensions import db
from ..notifications.models import NotificationKind
from ..notifications.services import notify_coops
from .models import Consortium, ConsortiumStatus, PartnerOffer
from .rules import MAX_OFFER, ConsortiumRuleError, checked_field

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Sequence
    from ..accounts.models import User
    from ..jobs.models import Job


# --- partner offers --------------------------------------------------------------------------

def offer_of(job: Job, coop: Coop) -> PartnerOffer | None:
    return db.session.scalar(select(PartnerOffer).where(PartnerOffer.job_id == job.id,
                                                        PartnerOffer.coop_id == coop.id))


def offer_partnership(job: Job, coop: Coop, user: User, message: str | None) -> PartnerOffer:
    """``coop`` offers itself as a partner on ``job``; a second offer changes the message."""
    bids.check_can_bid(coop, user, job)
    message = checked_field(message, MAX_OFFER, "message", "a short message", required=True)
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
