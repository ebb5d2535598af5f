"""Search tables: the queue of objects waiting to be (re)indexed, and PostgreSQL's documents."""
from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from ..core.models import created_column
from ..extensions import db

# tsvector on PostgreSQL; the table exists but stays empty elsewhere (the Whoosh backend).
TsVector = Text().with_variant(TSVECTOR(), "postgresql")


class SearchQueue(db.Model):
    """An object whose index document must be brought up to date.

    Written in the same transaction as the change (so a commit can never lose it) and
    deleted once the index holds the object's current state; the document is always
    rebuilt from the database, so the order in which rows are applied does not matter.
    """

    __tablename__ = "search_queue"
    __table_args__ = (
        Index("ix_search_queue_kind_object_id", "kind", "object_id"),
        # A drain deletes the rows it applied by id. SQLite would otherwise hand a deleted row's
        # id to the next row queued, which a slower drain then deletes unapplied (a lost update).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    object_id: Mapped[int] = mapped_column(Integer)
    queued_at = created_column()

    def __repr__(self):
        return f"<SearchQueue {self.kind}:{self.object_id}>"


class SearchDocument(db.Model):
    """The PostgreSQL backend's full-text document of a job or co-op profile.

    Filters and facets are read from the job and co-op tables themselves, through the
    federation module's visibility clause, so only the text lives here.
    """

    __tablename__ = "search_document"
    __table_args__ = (
        Index("ix_search_document_everything", "everything", postgresql_using="gin"),
    )

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    object_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Every field, weighted (title A, skills B, summary C, the rest D); and the title and
    # skills alone, for ranking a match there above a match in the description.
    everything = mapped_column(TsVector, nullable=False)
    title = mapped_column(TsVector, nullable=False)
    skills = mapped_column(TsVector, nullable=False)
    # The summary and the start of the description, for snippets.
    excerpt: Mapped[str] = mapped_column(Text, default="")
    # The object's updated_at when the document was written (``search check`` compares it).
    source_updated_at: Mapped[datetime] = mapped_column(DateTime)
