"""Writing and reading audit events."""
from sqlalchemy import select

from ..extensions import db
from .models import AuditEvent


def record(action, target, actor=None, coop=None, public=False, **data):
    """Add an audit event to the current session: it commits or rolls back with the change.

    ``target`` must already have an id (the session is flushed to get one if needed).
    """
    if target.id is None:
        db.session.flush()
    event = AuditEvent(
        action=action,
        target_type=target.__tablename__,
        target_id=target.id,
        actor_id=getattr(actor, "id", None),
        coop_id=getattr(coop, "id", None),
        public=public,
        data={k: v for k, v in data.items() if v is not None},
    )
    db.session.add(event)
    return event


def history(target, public_only=True):
    stmt = select(AuditEvent).where(
        AuditEvent.target_type == target.__tablename__, AuditEvent.target_id == target.id
    )
    if public_only:
        stmt = stmt.where(AuditEvent.public.is_(True))
    return db.session.scalars(stmt.order_by(AuditEvent.id)).all()
