"""Session hooks that keep the index in step with the database.

In ``after_flush`` every new, changed or deleted job or co-op gets a row in the search queue,
written on the flush's own connection: the row commits or rolls back with the change, so there
is no moment where a commit has happened and its index update is lost. After the commit the
process applies the queue (``drain``) if it can take the index's writer lock quickly; on
rollback the rows vanish with the transaction and nothing reaches the index.
"""
from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from ..coops.models import Coop
from ..core.time import utcnow
from ..extensions import db
from ..jobs.models import Job
from ..skills.models import Skill
from .documents import COOP, JOB

PENDING = "search_pending"  # (kind, id) already queued in this transaction
QUEUED = "search_queued"  # something was queued: apply the queue after the commit
DOOMED = "search_doomed_jobs"  # jobs of co-ops being deleted (the database cascade removes them)
KIND_OF: dict[type, str] = {Job: JOB, Coop: COOP}


def _active() -> bool:
    return has_app_context() and "search" in current_app.extensions


def before_flush(session: Session, _flush_context: UOWTransaction, _instances: Any) -> None:
    if not _active():
        return
    coop_ids = [o.id for o in session.deleted if isinstance(o, Coop) and o.id is not None]
    if coop_ids:
        with session.no_autoflush:
            job_ids = session.scalars(select(Job.id).where(Job.coop_id.in_(coop_ids))).all()
        session.info.setdefault(DOOMED, set()).update(job_ids)


def after_flush(session: Session, _flush_context: UOWTransaction) -> None:
    if not _active():
        return
    changed: set[tuple[str, int]] = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Skill):
            from . import forget_skills

            forget_skills()
            continue
        kind = KIND_OF.get(type(obj))
        if kind is None or obj.id is None:
            continue
        if obj in session.dirty and not session.is_modified(obj):
            continue
        changed.add((kind, obj.id))
    changed.update((JOB, job_id) for job_id in session.info.pop(DOOMED, ()))
    pending = session.info.setdefault(PENDING, set())
    new = sorted(changed - pending)
    if not new:
        return
    from .models import SearchQueue

    now = utcnow()
    session.connection().execute(
        insert(SearchQueue.__table__), [{"kind": kind, "object_id": oid, "queued_at": now} for kind, oid in new]
    )
    pending.update(new)
    session.info[QUEUED] = True


def after_commit(session: Session) -> None:
    # A savepoint's release is reported as a commit too: the transaction goes on, and its
    # queued rows are neither committed nor visible to the drain's own connection yet.
    if session.in_nested_transaction():
        return
    session.info.pop(PENDING, None)
    if session.info.pop(QUEUED, False) and _active():
        from . import drain_quietly

        drain_quietly()


def after_soft_rollback(session: Session, _previous_transaction: SessionTransaction) -> None:
    # Rows queued in the rolled-back part are gone: let later flushes queue them again.
    session.info.pop(PENDING, None)
    session.info.pop(DOOMED, None)


def after_rollback(session: Session) -> None:
    session.info.pop(QUEUED, None)


HOOKS: dict[str, Callable[..., None]] = {
    "before_flush": before_flush,
    "after_flush": after_flush,
    "after_commit": after_commit,
    "after_soft_rollback": after_soft_rollback,
    "after_rollback": after_rollback,
}


def register() -> None:
    """Listen on the app's session (once per process, whatever the number of apps)."""
    for name, hook in HOOKS.items():
        if not event.contains(db.session, name, hook):
            event.listen(db.session, name, hook)
