"""Column helpers shared by the models."""
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, String
from sqlalchemy.orm import mapped_column

from .time import utcnow

# Row ids are 32-bit integers on every database the site runs on (SQLite and PostgreSQL).
MAX_ROW_ID = 2**31 - 1


def choice_column(enum_cls, default=None, **kwargs):
    """A short string column holding one value of ``enum_cls`` (checked by ``choice_check``)."""
    if default is not None:
        kwargs["default"] = default.value if isinstance(default, StrEnum) else default
    length = max(len(m.value) for m in enum_cls)
    return mapped_column(String(max(length, 10)), **kwargs)


def choice_check(column_name, enum_cls, name=None):
    """A CHECK constraint that keeps ``column_name`` inside ``enum_cls``."""
    values = ", ".join(f"'{m.value}'" for m in enum_cls)
    return CheckConstraint(f"{column_name} IN ({values})", name=name or f"{column_name}_valid")


def created_column():
    return mapped_column(DateTime, default=utcnow, nullable=False)


def updated_column():
    return mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)
