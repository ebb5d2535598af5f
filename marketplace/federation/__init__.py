"""The federation module: networks, memberships and the one visibility rule."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .policy import (ANONYMOUS, Viewer, audience_key, audience_of, can_see_outcome, can_view_job,  # noqa: F401
                     current_viewer,
                     forget_current_viewer, get_job_or_404, job_visibility_clause,
                     networks_in_audience, viewer_for, viewers_for, visible_jobs)
from .acting import (NOT_VETTED, acting_coops_clause, may_act, posting_visibilities,  # noqa: F401
                     why_coop_cannot_act)

if TYPE_CHECKING:
    from typing import Any
    from flask import Flask


def init_app(app: Flask) -> None:
    @app.context_processor
    def inject_viewer() -> dict[Any, Any]:
        # Every template knows who is asking, for what it shows (see ``policy``).
        return {"viewer": current_viewer()}
