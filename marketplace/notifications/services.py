"""Notifying people: in-app notifications and their emails.

``notify`` is the one way in. It decides the recipients through the federation module
(a person who may not see the job — any more — is never told about it), writes the
notifications in the caller's transaction, and queues the emails, which leave only once
that transaction commits (a rolled-back change sends nothing).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import logging

from flask import current_app, url_for
from sqlalchemy import event, func, insert, select, update
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..audit.services import record
from ..core.cache import request_cached
from ..core.fragments import remembered
from ..core.pagination import paginate
from ..core.time import utcnow
from ..coops.models import CoopMember
from ..extensions import db
from ..federation import audience_key, can_view_job, job_visibility_clause, viewer_for
from ..jobs.models import Job
from ..mail import MailError, send_mail
from .models import SETTABLE_KINDS, Notification, NotificationKind, NotificationSetting

if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Iterable, Sequence
    from sqlalchemy import Select
    from ..coops.models import Coop
    from ..core.pagination import Page
    from ..federation.policy import Viewer

log = logging.getLogger(__name__)

_QUEUE = "notification_mail"


def notify(kind: NotificationKind, job: Job, message: str, url: str, coops: Iterable[Coop | int] = (),
           users: Iterable[User | int] = (), actor: User | None = None) -> list[Notification]:
    """Tell the members of ``coops`` and ``users`` that ``message`` happened on ``job``.

    ``url`` is a path on this site. The ``actor`` is not told about their own action.
    Returns the notifications written.
    """
    kind = NotificationKind(kind)
    coop_ids = {getattr(c, "id", c) for c in coops}
    user_ids = {getattr(u, "id", u) for u in users}
    if coop_ids:
        user_ids |= set(db.session.scalars(
            select(CoopMember.user_id).where(CoopMember.coop_id.in_(sorted(coop_ids)))
        ))
    user_ids.discard(getattr(actor, "id", None))
    if not user_ids:
        return []
    recipients = db.session.scalars(
        select(User).where(User.id.in_(sorted(user_ids)), User.active.is_(True)).order_by(User.id)
    ).all()
    recipients = [u for u in recipients if can_view_job(viewer_for(u), job)]
    muted = _email_muted(recipients, kind)
    written = []
    for user in recipients:
        notification = Notification(user_id=user.id, kind=kind.value, job_id=job.id,
                                    message=message[:500], url=url)
        db.session.add(notification)
        written.append(notification)
        if user.id not in muted:
            _queue_mail(user, kind, message, url, job)
    return written


def notify_coops(kind: NotificationKind, message: str, url: str, coops: Iterable[Coop | int], job: Job | None = None,
                 actor: User | None = None) -> list[Notification]:
    """Tell the members of ``coops`` about something that may concern no job (a standing
    consortium). With a ``job``, the same as ``notify``: its visibility rule applies."""
    if job is not None:
        return notify(kind, job, message, url, coops=coops, actor=actor)
    kind = NotificationKind(kind)
    coop_ids = sorted({getattr(c, "id", c) for c in coops})
    if not coop_ids:
        return []
    recipients = db.session.scalars(
        select(User).join(CoopMember, CoopMember.user_id == User.id)
        .where(CoopMember.coop_id.in_(coop_ids), User.active.is_(True), User.id != getattr(actor, "id", None))
        .distinct().order_by(User.id)
    ).all()
    muted = _email_muted(recipients, kind)
    written = []
    for user in recipients:
        notification = Notification(user_id=user.id, kind=kind.value, message=message[:500], url=url)
        db.session.add(notification)
        written.append(notification)
        if user.id not in muted:
            _queue_mail(user, kind, message, url, None)
    return written


def add_notices(notices: Iterable[tuple[int, str, Job, str, str]]) -> int:
    """Write in-app notices of alerts whose email goes separately (saved searches, digests):
    ``notices`` are (user id, kind, job, message, url) of jobs the caller checked the user
    may see (reading them checks again). One statement, however many."""
    rows = [{"user_id": user_id, "kind": NotificationKind(kind).value, "job_id": job.id, "message": message[:500],
             "url": url, "created_at": utcnow()} for user_id, kind, job, message, url in notices]
    if rows:
        db.session.execute(insert(Notification), rows)
    return len(rows)


def _email_muted(users: Sequence[User], kind: NotificationKind) -> set[int]:
    if not users:
        return set()
    return set(db.session.scalars(
        select(NotificationSetting.user_id).where(
            NotificationSetting.user_id.in_([u.id for u in users]),
            NotificationSetting.kind == kind.value, NotificationSetting.email.is_(False),
        )
    ))


def _queue_mail(user: User, kind: NotificationKind, message: str, url: str, job: Job | None) -> None:
    # Everything the email needs, as plain values: after the commit, nothing may be loaded.
    site = current_app.config["SITE_NAME"]
    db.session.info.setdefault(_QUEUE, []).append(dict(
        to=user.email, zone=user.time_zone,
        subject=f"[{site}] {message}"[:200],
        template="notification_email",
        name=user.name, message=message, job_title=job.title if job is not None else "", site_name=site,
        link=_absolute(url), settings_link=_absolute(url_for("notifications.settings")),
    ))


def _absolute(path: str) -> str:
    return current_app.config["SITE_URL"].rstrip("/") + path


@event.listens_for(Session, "after_commit")
def _send_queued_mail(session: Session) -> None:
    for mail in session.info.pop(_QUEUE, []):
        try:
            send_mail(**mail)
        except MailError:
            # The notification is in the app either way; a mail server that is down
            # must not undo what was just committed.
            log.exception("Could not send a notification email to %s", mail["to"])


@event.listens_for(Session, "after_rollback")
def _drop_queued_mail(session: Session) -> None:
    session.info.pop(_QUEUE, None)


# --- reading ---------------------------------------------------------------------------------

def _visible(stmt: Select[Any], viewer: Viewer) -> Select[Any]:
    """Only notifications about jobs the viewer may still see."""
    return stmt.outerjoin(Job, Job.id == Notification.job_id).where(
        (Notification.job_id.is_(None)) | job_visibility_clause(viewer)
    )


def notifications_page(user: User, viewer: Viewer, page: int, per_page: int = 20) -> Page:
    stmt = _visible(select(Notification).where(Notification.user_id == user.id), viewer)
    return paginate(stmt.order_by(Notification.id.desc()), page, per_page)


def unread_count(user: User, viewer: Viewer) -> int:
    """One statement: the bell in every page's header."""
    stmt = _visible(
        select(func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        ), viewer,
    )
    return db.session.scalar(stmt)


def cached_unread_count(user: User, viewer: Viewer) -> int:
    """The bell's count, kept until the next write (a notification is one)."""
    return request_cached("unread_notifications", lambda: remembered(
        ("unread notifications", user.id, audience_key(viewer)), lambda: unread_count(user, viewer)))


def mark_read(user: User, notification_id: int) -> bool:
    """Mark one of the user's notifications read; False if it is not theirs."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        return False
    if notification.read_at is None:
        notification.read_at = utcnow()
        record("notification.read", notification, actor=user)
    return True


def mark_all_read(user: User) -> int:
    count = db.session.execute(  # type: ignore[attr-defined]  # an UPDATE's result has rowcount
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    ).rowcount
    if count:
        record("notification.read_all", user, actor=user, count=count)
    return count


# --- email settings --------------------------------------------------------------------------

def email_settings(user: User) -> dict[Any, Any]:
    """{kind: wants email} for every kind (email is on unless the user turned it off)."""
    stored = dict(db.session.execute(
        select(NotificationSetting.kind, NotificationSetting.email)
        .where(NotificationSetting.user_id == user.id)
    ).all())
    return {kind: stored.get(kind.value, True) for kind in SETTABLE_KINDS}


def save_email_settings(user: User, wanted: Iterable[str]) -> list[str]:
    """``wanted``: the kinds to receive by email; every other kind is turned off."""
    wanted = {NotificationKind(k) for k in wanted}
    before = email_settings(user)
    rows = {s.kind: s for s in db.session.scalars(
        select(NotificationSetting).where(NotificationSetting.user_id == user.id)
    )}
    for kind in SETTABLE_KINDS:
        row = rows.get(kind.value)
        if row is None:
            row = NotificationSetting(user_id=user.id, kind=kind.value)
            db.session.add(row)
        row.email = kind in wanted
    changed = sorted(k.value for k in SETTABLE_KINDS if before[k] != (k in wanted))
    if changed:
        record("notification_settings.updated", user, actor=user, changed=changed)
    return changed
