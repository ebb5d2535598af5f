"""Who sees and gives scores: the federation module's rule, narrowed to the poster's members.

Scores are the posting co-op's own deliberation: bidders, other co-ops, coordinators, site
admins and visitors never see them (404, as for sealed things), and nobody does before bids
close. Built on ``federation.can_view_job`` so there is still one rule for the job itself."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..federation import can_view_job

if TYPE_CHECKING:
    from ..federation import Viewer
    from ..jobs.models import Job


def can_see_scores(viewer: Viewer, job: Job) -> bool:
    """The scoring and ranking pages and the API's scores: the poster's members, once bids close."""
    return can_view_job(viewer, job) and job.bids_closed and job.coop_id in viewer.coop_ids
