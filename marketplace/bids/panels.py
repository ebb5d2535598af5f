"""What bidding shows on other features' pages: the "check your answers" step before a bid is
submitted, which a consortium's bid goes through too."""
from flask import render_template, request

from ..core.check import carried_fields, needs_check
from . import services


def check_before_submitting(job, form, bid, **context):
    """The "check your answers" page when a new or draft bid is being submitted (not yet
    confirmed on that page), else None; an incomplete bid goes on to the save, which says why."""
    if ((bid is None or bid.status == "draft") and needs_check(form.submit.data)
            and services.would_submit(job, form.values())):
        return render_template("bids/check.html", job=job, form=form, action=request.full_path.rstrip("?"),
                               carried=form.carried_with_documents(carried_fields()), **context)
    return None
