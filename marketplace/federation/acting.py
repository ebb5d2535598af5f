"""Who may act: post a job, register interest, ask questions, bid, join a consortium.

Narrower than who may see it (``policy``, the visibility rule these build on): acting takes a
current active or guest membership of some network (any visibility, public included). A
self-registered co-op, or one whose memberships are pending or lapsed, may only look.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, select

from ..core.time import site_today
from .models import NetworkMembership
from .policy import (ACTING_STATUSES, _membership_counts, coop_visibilities, membership_counts_clause,
                     why_coop_cannot_view)

if TYPE_CHECKING:
    from ..coops.models import Coop
    from ..jobs.models import Job

NOT_VETTED = ("{name} cannot register interest, ask questions or bid until one of its network "
              "memberships is active or guest. Ask a network coordinator.")


def may_act(coop: Coop, today: date | None = None) -> bool:
    """Has ``coop`` a current active or guest membership of some network?"""
    today = today or site_today()
    return any(m.status in ACTING_STATUSES and _membership_counts(m, today) for m in coop.memberships)


def acting_coops_clause(network_ids: Iterable[int] | None = None, today: date | None = None) -> ColumnElement[bool]:
    """The SQL condition on ``Coop`` equivalent to ``may_act`` (through a membership of one
    of ``network_ids``, when given)."""
    from ..coops.models import Coop

    stmt = select(NetworkMembership.coop_id).where(
        NetworkMembership.status.in_(sorted(s.value for s in ACTING_STATUSES)), membership_counts_clause(today))
    if network_ids is not None:
        stmt = stmt.where(NetworkMembership.network_id.in_(sorted(network_ids)))
    return Coop.id.in_(stmt)


def why_coop_cannot_act(coop: Coop, job: Job) -> str | None:
    """None if ``coop`` may act on ``job`` (it sees the job and is vetted); otherwise why not."""
    return why_coop_cannot_view(coop, job) or (None if may_act(coop) else NOT_VETTED.format(name=coop.name))


def posting_visibilities(coop: Coop) -> frozenset[str]:
    """The visibilities a co-op may post with: only audiences it belongs to, and nothing at
    all until one of its network memberships is active or guest (so a new, unvetted
    organisation cannot post to the network's members or in its name): ``may_act``."""
    return coop_visibilities(coop) if may_act(coop) else frozenset()
