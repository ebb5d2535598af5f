"""What bidding shows on other features' pages: the "check your answers" step before a bid is
submitted, which a consortium's bid goes through too."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import render_template, request

from ..core.check import carried_fields, needs_check
from . import services

if TYPE_CHECKING:
    from ..jobs.models import Job
    from .forms import BidForm
    from .models import Bid


def check_before_submitting(job: Job, form: BidForm, bid: Bid | None, **context: Any) -> str | None:
    """The "check your answers" page when a new or draft bid is being submitted (not yet
    confirmed on that page), else None; an incomplete bid goes on to the save, which says why."""
    if ((bid is None or bid.status == "draft") and needs_check(form.submit.data)
            and services.would_submit(job, form.values())):
        return render_template("bids/check.html", job=job, form=form, action=request.full_path.rstrip("?"),
                               carried=form.carried_with_documents(carried_fields()), **context)
    return None
