"""What consortia show on other features' pages: the job page's section about consortia."""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import policy, services
from .forms import OfferForm
from .models import PARTICIPATING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from ..consortia.models import PartnerOffer
    from typing import Any
    from ..federation.policy import Viewer
    from ..coops.models import Coop
    from ..jobs.models import Job


def consortia_panel(job: Job, coops: Sequence[Coop], viewer: Viewer) -> dict[str, Any] | None:
    """What the job page shows about consortia to ``viewer``: their co-ops' consortia for the
    job, the partner offers (theirs; all of them for a lead). ``coops`` are the viewer's
    co-ops that may bid on it. None for a viewer without a co-op."""
    if not viewer.coop_ids:
        return None
    consortia = services.job_consortia(job)
    mine = [c for c in consortia if policy.taking_part(viewer, c)]
    leading = [c for c in mine if c.lead_coop_id in viewer.coop_ids]
    offers: Sequence[PartnerOffer] = []
    if leading and job.is_open:
        taken = {m.coop_id for c in leading for m in c.participants}
        offers = services.offers_on(job, taken)
    own_offers = [o for o in services.offers_on(job) if o.coop_id in viewer.coop_ids]
    return {
        "coops": coops, "mine": mine, "leading": leading, "offers": offers, "own_offers": own_offers,
        "offer_form": OfferForm(coops=coops, formdata=None) if coops and job.is_open else None,
        "can_form": bool(coops) and job.is_open,
        "members_in": {c.id: [m for m in c.members if m.coop_id in viewer.coop_ids and m.status in PARTICIPATING]
                       for c in mine},
    }
