"""Page-numbered lists whose cost does not grow with the page size or data size.

Each page runs two statements: the rows of the page, and a count capped at ``COUNT_CAP``
(counting every match of a broad filter over 100,000 jobs would cost more than the page).
"""
from __future__ import annotations

from typing import TYPE_CHECKING
from dataclasses import dataclass
from math import ceil

from flask_babel import format_decimal, gettext

from sqlalchemy import func, select

from ..extensions import db

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import Select
    from typing import Any

COUNT_CAP = 1000


@dataclass
class Page:
    items: Sequence[Any]
    page: int
    per_page: int
    total: int
    capped: bool

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        if self.capped:
            return len(self.items) == self.per_page
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.items) - 1

    @property
    def total_label(self) -> str:
        if self.capped:
            return gettext("more than %(cap)s", cap=format_decimal(COUNT_CAP))
        return format_decimal(self.total)


def count_capped(stmt: Select[Any], cap: int=COUNT_CAP) -> tuple[int, bool]:
    """Count the rows of ``stmt`` up to ``cap`` + 1; returns (count, capped)."""
    limited = stmt.with_only_columns(stmt.selected_columns[0]).order_by(None).limit(cap + 1)
    count = db.session.scalar(select(func.count()).select_from(limited.subquery())) or 0
    return (cap, True) if count > cap else (count, False)


def paginate(stmt: Select[Any], page: int, per_page: int, cap: int=COUNT_CAP, total: int | None = None) -> Page:
    """Run ``stmt`` (already ordered) for one page; a page past the known end shows the last.
    ``total``: the number of rows, when the caller has it from elsewhere (then it is not
    counted, and not capped)."""
    total, capped = count_capped(stmt, cap) if total is None else (total, False)
    page = max(1, page)
    if not capped:
        page = min(page, max(1, ceil(total / per_page)))
    items = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return Page(items=items, page=page, per_page=per_page, total=total, capped=capped)
