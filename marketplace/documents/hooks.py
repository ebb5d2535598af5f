"""Session hooks: documents go with what owns them, and files follow their rows.

Deleting a job (a draft), a question or a bid in the session deletes its documents' rows in
the same flush; their files are removed only after the commit succeeds (a rollback keeps
them). A file written in a transaction that rolls back is removed at once.
"""
from __future__ import annotations

from typing import TYPE_CHECKING
import logging
from collections.abc import Callable
from typing import Any

from flask import has_app_context
from sqlalchemy import event, or_, select

from ..extensions import db
from .models import Document, OwnerKind
from .services import DOOMED, WRITTEN
from .storage import storage

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def _owned_by(obj: object) -> ColumnElement[bool] | None:
    """The condition on ``Document`` for the documents that go with ``obj``, if any."""
    from ..bids.models import Bid
    from ..jobs.models import Job
    from ..questions.models import Question

    def of(kind: OwnerKind, ids: Any) -> ColumnElement[bool]:
        return (Document.owner_kind == kind.value) & Document.owner_id.in_(ids)

    if isinstance(obj, Job):
        # Its questions and bids go by the database's cascade: their documents with them.
        questions = select(Question.id).where(Question.job_id == obj.id)
        return or_(of(OwnerKind.JOB, [obj.id]), of(OwnerKind.QUESTION, questions),
                   of(OwnerKind.ANSWER, questions), of(OwnerKind.BID, select(Bid.id).where(Bid.job_id == obj.id)))
    if isinstance(obj, Question):
        return or_(of(OwnerKind.QUESTION, [obj.id]), of(OwnerKind.ANSWER, [obj.id]))
    if isinstance(obj, Bid):
        return of(OwnerKind.BID, [obj.id])
    return None


def before_flush(session: Session, _flush_context: Any, _instances: Any) -> None:
    # Not every model has an ``id`` (association rows): only owners are asked.
    conditions = [c for obj in list(session.deleted) if getattr(obj, "id", None) is not None
                  for c in (_owned_by(obj),) if c is not None]
    if conditions:
        with session.no_autoflush:
            for document in session.scalars(select(Document).where(or_(*conditions))):
                session.delete(document)
    doomed = [obj.storage_key for obj in session.deleted if isinstance(obj, Document)]
    if doomed:
        session.info.setdefault(DOOMED, set()).update(doomed)


def after_commit(session: Session) -> None:
    session.info.pop(WRITTEN, None)
    _remove(session.info.pop(DOOMED, ()))


def after_rollback(session: Session) -> None:
    session.info.pop(DOOMED, None)
    _remove(session.info.pop(WRITTEN, ()))


def _remove(keys: Iterable[str]) -> None:
    if not keys or not has_app_context():
        return
    for key in keys:
        try:
            storage().delete(key)
        except Exception:  # the row is gone already: prune finds the file later
            log.exception("could not remove document file %s", key)


HOOKS: dict[str, Callable[..., Any]] = {
    "before_flush": before_flush, "after_commit": after_commit, "after_rollback": after_rollback,
}


def register() -> None:
    for name, hook in HOOKS.items():
        if not event.contains(db.session, name, hook):
            event.listen(db.session, name, hook)
