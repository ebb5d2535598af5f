"""Writing and reading audit events."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import insert, select

from ..extensions import db
from .models import AuditEvent

if TYPE_CHECKING:
    from typing import Any
    from typing import Sequence
    from ..accounts.models import User
    from ..coops.models import Coop


def record(action: str, target: Any, actor: User | None = None, coop: Coop | None = None, public: bool = False,
           **data: Any) -> AuditEvent:
    """Add an audit event to the current session: it commits or rolls back with the change.

    ``target`` must already have an id (the session is flushed to get one if needed).
    """
    if target.id is None:
        db.session.flush()
    event = AuditEvent(**event_values(action, target, actor, coop, public, **data))
    db.session.add(event)
    return event


def event_values(action: str, target: Any, actor: User | None = None, coop: Coop | None = None,
                 public: bool = False, **data: Any) -> dict[str, Any]:
    """The columns of the event ``record`` would add, for ``record_many``; ``target`` has an id."""
    return {
        "action": action,
        "target_type": target.__tablename__,
        "target_id": target.id,
        "actor_id": getattr(actor, "id", None),
        "coop_id": getattr(coop, "id", None),
        "public": public,
        "data": {k: v for k, v in data.items() if v is not None},
    }


def record_many(events: list[dict[str, Any]]) -> None:
    """Write many events (``event_values``) in one statement, in the current transaction: an
    import of a thousand jobs would otherwise build and flush two thousand objects one by one."""
    if events:
        db.session.execute(insert(AuditEvent), events)


def history(target: Any, public_only: bool = True) -> Sequence[AuditEvent]:
    stmt = select(AuditEvent).where(
        AuditEvent.target_type == target.__tablename__, AuditEvent.target_id == target.id
    )
    if public_only:
        stmt = stmt.where(AuditEvent.public.is_(True))
    return db.session.scalars(stmt.order_by(AuditEvent.id)).all()
