"""Clarification questions: asked by a co-op, answered by the poster for everyone to read."""
from __future__ import annotations

from typing import TYPE_CHECKING
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import created_column
from ..extensions import db

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement


class Question(db.Model):
    """A question and, once the poster answers, its published answer.

    ``coop_id`` is the asking co-op, shown to the poster's co-op alone; it is empty for an
    answer the poster published to a question nobody asked.
    """

    __tablename__ = "question"
    __table_args__ = (Index("ix_question_job_id_answered_at", "job_id", "answered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    coop_id: Mapped[int | None] = mapped_column(ForeignKey("coop.id", ondelete="CASCADE"), index=True)
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text, default="")
    answer_html: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at = created_column()

    job: Mapped["Job"] = relationship()  # noqa: F821
    coop: Mapped["Coop | None"] = relationship()  # noqa: F821
    answered_by: Mapped["User | None"] = relationship(foreign_keys=[answered_by_id])  # noqa: F821

    @hybrid_property
    def is_answered(self) -> bool:
        return self.answered_at is not None

    @is_answered.inplace.expression
    @classmethod
    def _is_answered_expression(cls) -> ColumnElement[bool]:
        return cls.answered_at.is_not(None)

    def __repr__(self) -> str:
        return f"<Question {self.id} job={self.job_id}>"
