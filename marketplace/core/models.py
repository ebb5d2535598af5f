"""Column helpers shared by the models."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, String, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import mapped_column

from ..extensions import db
from .time import utcnow

if TYPE_CHECKING:
    from collections.abc import Sequence
    from sqlalchemy import ColumnElement
    from sqlalchemy import Row

# Row ids are 32-bit integers on every database the site runs on (SQLite and PostgreSQL).
MAX_ROW_ID = 2**31 - 1


M = TypeVar("M")


def choice_column(enum_cls: type[StrEnum], default: StrEnum | None=None, **kwargs: Any) -> Any:
    """A short string column holding one value of ``enum_cls`` (checked by ``choice_check``)."""
    if default is not None:
        kwargs["default"] = default.value if isinstance(default, StrEnum) else default
    length = max(len(m.value) for m in enum_cls)
    return mapped_column(String(max(length, 10)), **kwargs)


def choice_check(column_name: str, enum_cls: type[StrEnum], name: str | None = None) -> CheckConstraint:
    """A CHECK constraint that keeps ``column_name`` inside ``enum_cls``."""
    values = ", ".join(f"'{m.value}'" for m in enum_cls)
    return CheckConstraint(f"{column_name} IN ({values})", name=name or f"{column_name}_valid")


def created_column() -> Any:
    return mapped_column(DateTime, default=utcnow, nullable=False)


def updated_column() -> Any:
    return mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)


def lock_row(obj: M) -> M:
    """Take ``obj``'s row lock for the rest of the transaction and read the row again under it.

    A rule decided on a copy read before the lock could act on a state another request has
    just changed; read afresh, it decides on what is there now. (SELECT … FOR UPDATE on
    PostgreSQL; SQLite lets one writer in at a time anyway.)
    """
    model: Any = type(obj)
    return cast(M, db.session.scalar(select(model).where(model.id == cast(Any, obj).id).with_for_update()
                                     .execution_options(populate_existing=True)))


def compare_and_set(obj: Any, *still: ColumnElement[bool], **values: Any) -> bool:
    """Write ``values`` to ``obj``'s row only while the conditions ``still`` hold there, in one
    UPDATE: of requests doing the same change at once, exactly one does it (and writes its audit
    event, sends its notice), whatever each read before. True if this call did; ``obj`` then
    holds ``values``, else it is read again to show what another request did."""
    model: Any = type(obj)
    done = db.session.execute(
        update(model).where(model.id == obj.id, *still).values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount == 1  # type: ignore[attr-defined]  # an UPDATE's result has it (CursorResult)
    if done:
        # Set through the ORM as well (the same values again, at the next flush): the session's
        # hooks then see the change, so the search index and the site revision follow it.
        for name, value in values.items():
            setattr(obj, name, value)
    else:
        db.session.refresh(obj, list(values))
    return done


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` holds ``text``, any case, with LIKE's wildcards in ``text`` taken literally
    (ILIKE on PostgreSQL, lower() LIKE lower() elsewhere)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


CLAIM_BATCH = 1000  # rows per statement: within SQLite's limit of bound values


def claim_new(model: Any, rows: list[dict[str, Any]], unique: Sequence[str],
              returning: Sequence[Any]) -> list[Row[Any]]:
    """Insert the ``rows`` (dicts) of ``model`` whose ``unique`` columns are not there yet, and
    return the ``returning`` columns of those this call inserted: of callers claiming the same
    rows at once, each row goes to one of them (the unique index decides, PostgreSQL or SQLite)."""
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    claimed: list[Row[Any]] = []
    for start in range(0, len(rows), CLAIM_BATCH):
        claimed += db.session.execute(  # type: ignore[arg-type]  # its rows: Row, typed as tuples
            insert(model).values(rows[start:start + CLAIM_BATCH])
            .on_conflict_do_nothing(index_elements=list(unique)).returning(*returning)
        ).tuples().all()
    return claimed


def reserve_ids(model: Any, count: int) -> list[int] | None:
    """``count`` new ids of ``model``'s table on PostgreSQL, taken from its sequence, or None
    elsewhere (SQLite hands them out as rows go in). Rows whose ids are set go in as one
    executemany; a thousand rows left to ``INSERT … RETURNING`` make one huge statement, which
    psycopg spends a third of a second taking apart for its placeholders."""
    if count <= 0 or db.session.get_bind().dialect.name != "postgresql":
        return None
    table = model.__table__
    sequence = func.pg_get_serial_sequence(table.name, table.primary_key.columns[0].name)
    return list(db.session.scalars(select(func.nextval(sequence)).select_from(func.generate_series(1, count))))
