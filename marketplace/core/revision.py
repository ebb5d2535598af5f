"""The site revision: a token that changes in the same transaction as every write.

Page parts shared between viewers (``core.fragments``) are cached under the revision they were
rendered at. A write commits a new token together with its changes, so once a change can be
seen no page rendered before it is served again, in any process on any server: the token
lives in the database. It is random rather than a counter, so that a rolled-back transaction
or a database emptied and filled again never brings back a token that pages were cached under.

The token is set as the last statement before the commit, when the session has nothing left
to flush: on PostgreSQL its row lock is held only for the commit itself, and a transaction
holding it waits for no other lock (so two writers cannot deadlock on it).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from flask import has_app_context, has_request_context
from flask_login import current_user
from sqlalchemy import String, bindparam, event, inspect, select, update
from sqlalchemy.orm import Mapped, Session, make_transient_to_detached, mapped_column
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from ..extensions import db
from .cache import forget, has_cached, remember, request_cached

M = TypeVar("M")

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import InstanceState
    from sqlalchemy.orm import ORMExecuteState
    from sqlalchemy.orm import SessionTransaction

WROTE = "site_revision_wrote"  # session.info: this transaction changed something pages show
CURRENT = "site_revision"  # the request cache: the token this request reads at
# Tables that no shared page shows: writing them leaves cached pages valid (an API or feed
# token's "last used" is written by every API call and feed reader; the search queue by every
# index update; an idempotency claim by every API write, which writes what pages show anyway).
UNSHOWN = frozenset({"api_token", "feed_token", "idempotent_request", "login_failure", "search_queue",
                     "search_document", "saved_search", "alert_opt_out", "alert_delivery", "reminder_sent"})
# Columns no shared page shows, in tables that pages do show: an update of these alone keeps
# the token (every sign-in sets the user's last sign-in time, every sign-out its session token,
# every registration attempt on a taken address when its owner was last told).
UNSHOWN_COLUMNS = {
    "user": frozenset({"last_login_at", "session_token", "verification_sent_at"}),
    # A feed source's fetch bookkeeping (no shared part shows it): a fetch that finds
    # nothing new keeps every cached page.
    "feed_source": frozenset({"last_fetched_at", "last_success_at", "etag", "last_modified", "body_hash"}),
    # What a source last sent of an entry, as a digest: a refetch whose feed changed only
    # around its entries stores nothing else.
    "imported_entry": frozenset({"raw_hash"}),
}


class SiteRevision(db.Model):
    __tablename__ = "site_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


def new_token() -> str:
    return secrets.token_hex(16)


@event.listens_for(SiteRevision.__table__, "after_create")
def _first_revision(table: Table, connection: Connection, **_: Any) -> None:
    connection.execute(table.insert().values(id=1, token=new_token()))


# Read by nearly every request: built once (building a statement costs more than running it).
_READ_TOKEN = select(SiteRevision.token).where(SiteRevision.id == 1)


def current() -> str | None:
    """The revision this request reads at (once per request, and again after the request's
    own write), or None when the database has none: then nothing is cached. Views with a
    shared part call it before reading anything the part shows."""
    if not has_cached(CURRENT) and has_request_context():
        # A signed-in user's row is read together with the token (``get_with_token``): load it
        # first, so that the token costs no statement of its own.
        getattr(current_user, "is_authenticated", False)
    return request_cached(CURRENT, _read_token)


@contextmanager
def _first_read() -> Iterator[Connection]:
    """The connection for a request's first read. On PostgreSQL, while the session has begun no
    transaction, one of its own in autocommit: a single round trip, where the session's BEGIN,
    SELECT and ROLLBACK take three. What the request reads later is as new or newer (READ
    COMMITTED), which is all a part cached under the token needs. Elsewhere the session's."""
    session = db.session()
    if db.engine.dialect.name == "postgresql" and not session.in_transaction():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            yield connection
    else:
        yield session.connection()


def _read_token() -> str | None:
    with _first_read() as connection:
        return connection.scalar(_READ_TOKEN)


_WITH_TOKEN: dict[Any, Any] = {}  # model → its row by primary key, with the token (built once)


def get_with_token(model: type[M], ident: int) -> M | None:
    """``db.session.get(model, ident)``, reading the site revision in the same statement when the
    request has not read it yet; the row joins the session as loaded. A page served from the
    cache to a signed-in member then costs one statement (on PostgreSQL one round trip, not five)."""
    session = db.session()
    if has_cached(CURRENT) or session.identity_map.get(identity_key(model, ident)) is not None:
        return session.get(model, ident)
    mapper = inspect(model)
    stmt = _WITH_TOKEN.get(model)
    if stmt is None:
        token = _READ_TOKEN.scalar_subquery().label("site_revision_token")
        stmt = _WITH_TOKEN[model] = select(mapper.local_table, token).where(
            mapper.primary_key[0] == bindparam("ident"))
    with _first_read() as connection:
        row = connection.execute(stmt, {"ident": ident}).mappings().first()
    if row is None:
        return None
    remember(CURRENT, row["site_revision_token"])
    instance = mapper.class_manager.new_instance()
    for attribute in mapper.column_attrs:
        set_committed_value(instance, attribute.key, row[attribute.columns[0].name])
    make_transient_to_detached(instance)
    session.add(instance)
    return instance


def has_pending_writes() -> bool:
    """Has this transaction changed something not yet committed? Its pages must not be
    cached: they show what may yet be rolled back."""
    session = db.session()
    return bool(session.info.get(WROTE) or session.new or session.dirty or session.deleted)


# --- the session events ------------------------------------------------------------------------

def _shown(table_name: str) -> bool:
    return table_name not in UNSHOWN


def _flush_shows(session: Session, state: InstanceState[Any]) -> bool:
    """Does flushing ``state`` change something pages show? (Its history is still there
    after the flush.)"""
    name = getattr(state.mapper.persist_selectable, "name", None)
    if name is None:
        return True
    unshown = UNSHOWN_COLUMNS.get(name)
    if unshown is None or state.obj() in session.new or state.obj() in session.deleted:
        return _shown(name)
    return any(attr.history.has_changes() for attr in state.attrs if attr.key not in unshown)


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, flush_context: Any) -> None:
    if any(_flush_shows(session, state) for state in flush_context.states):
        session.info[WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    """UPDATE, DELETE or INSERT statements run through the session (not seen by a flush)."""
    if state.is_select:
        return
    table = getattr(state.statement, "table", None)
    if table is None or _shown(getattr(table, "name", "")):
        state.session.info[WROTE] = True


@event.listens_for(Session, "before_commit")
def _new_token_with_the_commit(session: Session) -> None:
    """Must stay the last thing before the commit (no other before_commit listener may write
    after it): PostgreSQL then holds the token's row lock only for the commit itself."""
    if session.in_nested_transaction():
        return
    session.flush()  # everything else first: the token's row lock is taken last
    if session.info.get(WROTE):
        session.execute(update(SiteRevision.__table__).where(SiteRevision.id == 1).values(token=new_token()))
        if has_app_context():
            forget(CURRENT)  # this request reads on after its own write: read the new token


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(WROTE, None)
