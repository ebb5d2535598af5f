"""A document: one file attached to a job, a question, an answer or a bid."""
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.models import choice_check, choice_column, created_column
from ..extensions import db


class OwnerKind(StrEnum):
    # Uploaded with a form not yet saved (or on its "check your answers" step): ``owner_id`` is
    # the uploader's user id until the form is saved and the document is attached; nobody
    # downloads it, and `flask documents prune` removes it after a day.
    PENDING = "pending"
    JOB = "job"  # the job's specification files
    QUESTION = "question"  # owner_id: the question
    ANSWER = "answer"  # owner_id: the question it answers
    BID = "bid"


class Document(db.Model):
    __tablename__ = "document"
    __table_args__ = (
        choice_check("owner_kind", OwnerKind),
        Index("ix_document_owner", "owner_kind", "owner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: an owner is one of several tables. Documents go with their owner
    # (documents.hooks); rows left by a database cascade are removed by `documents prune`.
    owner_kind: Mapped[str] = choice_column(OwnerKind)
    owner_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(160))  # the uploaded file's name, cleaned
    media_type: Mapped[str] = mapped_column(String(100))  # told from the content
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)  # random, never the name
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    coop_id: Mapped[int | None] = mapped_column(ForeignKey("coop.id", ondelete="SET NULL"))
    created_at = created_column()

    @property
    def kind_label(self) -> str:
        from .kinds import BY_MEDIA_TYPE

        kind = BY_MEDIA_TYPE.get(self.media_type)
        return kind.label if kind else self.media_type

    @property
    def size_label(self) -> str:
        if self.size < 1024:
            return f"{self.size} bytes"
        if self.size < 1024 * 1024:
            return f"{self.size / 1024:.0f} KB"
        return f"{self.size / (1024 * 1024):.1f} MB"

    def __repr__(self) -> str:
        return f"<Document {self.id} {self.owner_kind}:{self.owner_id} {self.name!r}>"
