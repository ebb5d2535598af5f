"""Search tables: the queue of objects waiting to be (re)indexed, and PostgreSQL's documents."""
from datetime import datetime

from sqlalchemy import (BigInteger, DDL, DateTime, Index, Integer, LargeBinary, PrimaryKeyConstraint, String, Text, event,
                        text)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.dialects.postgresql import base as pg_types
from sqlalchemy.orm import Mapped, mapped_column

from ..core.models import created_column
from ..extensions import db

# tsvector on PostgreSQL; the table exists but stays empty elsewhere (the Whoosh backend).
TsVector = Text().with_variant(TSVECTOR(), "postgresql")
TextArray = Text().with_variant(ARRAY(Text), "postgresql")


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

    def __repr__(self) -> str:
        return f"<SearchQueue {self.kind}:{self.object_id}>"


class SearchDocument(db.Model):
    """The PostgreSQL backend's document of a job or co-op profile: its words, audience and
    facet values in one narrow row, so that a search, its counts and its facets read this
    table alone.

    The words are analysed in Python exactly as the Whoosh backend analyses them (its stems,
    stop words and positions), so both backends find the same documents for the same query.
    The audience is kept in step with the job table by a trigger (``AUDIENCE_TRIGGER``) in the
    transaction that changes the job, so a search never counts a job its viewer may no longer
    see, even before the queue is applied.
    """

    __tablename__ = "search_document"
    __table_args__ = (
        # The id first: a search finds its rows through the words' index, never through the kind.
        PrimaryKeyConstraint("object_id", "kind", name="pk_search_document"),
        Index("ix_search_document_everything", "everything", postgresql_using="gin"),
        # Co-op profiles are few: their own index, or their count would read every profile's words.
        Index("ix_search_document_coop_everything", "everything", postgresql_using="gin",
              postgresql_where=text("kind = 'coop'")),
    )

    kind: Mapped[str] = mapped_column(String(10))
    object_id: Mapped[int] = mapped_column(Integer)
    # Every field's words and runs of words (postgres_query.runs: the GIN index), the same
    # words with their positions (for phrases longer than the runs), and the title's words.
    everything = mapped_column(TsVector, nullable=False)
    positions = mapped_column(TsVector, nullable=False)
    title = mapped_column(TsVector, nullable=False)
    # ``federation.audience_of``: "visibility:public", "coop:12" …
    audience = mapped_column(TextArray, nullable=False)
    skills = mapped_column(TextArray, nullable=False)  # slugs
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    bids_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    # Facet values (jobs only): the job's own, and its budget band and place.
    status: Mapped[str | None] = mapped_column(String(20))
    job_kind: Mapped[str | None] = mapped_column(String(20))
    visibility: Mapped[str | None] = mapped_column(String(20))
    budget: Mapped[str | None] = mapped_column(String(20))
    mode: Mapped[str | None] = mapped_column(String(20))
    coop_id: Mapped[int | None] = mapped_column(Integer)
    place: Mapped[str | None] = mapped_column(Text)  # documents.place_key of the location
    location: Mapped[str | None] = mapped_column(Text)  # as written
    # The object's updated_at when the document was written (``search check`` compares it).
    source_updated_at: Mapped[datetime] = mapped_column(DateTime)
    # PADDING: PostgreSQL moves values out of a row only when the row is longer than 2 KB; this
    # makes every row so (it compresses to a few bytes), so that the words go out (NARROW_ROWS).
    pad = mapped_column(LargeBinary)


PADDING = b" " * 2100

# A search that matches half the jobs reads half the table: its rows must be narrow. The words
# (the one large value) go out of line to TOAST in every row (``pad`` makes PostgreSQL try, and
# toast_tuple_target at its least makes it move them); every other column stays in the row,
# uncompressed. The GIN index answers word, prefix and boolean queries exactly, so the words are
# read back only to check a phrase's candidates (and searches do not scan the table: see
# postgres_backend._time_limit).
NARROW_ROWS = "ALTER TABLE search_document SET (toast_tuple_target = 128);\n" \
    "ALTER TABLE search_document ALTER COLUMN everything SET STORAGE EXTERNAL;\n" \
    "ALTER TABLE search_document ALTER COLUMN positions SET STORAGE EXTERNAL;\n" + "".join(
        f"ALTER TABLE search_document ALTER COLUMN {column} SET STORAGE PLAIN;\n"
        for column in ("title", "audience", "skills", "place", "location"))

# The audience of a job (``federation.audience_of``) in SQL, kept in step by the job table's
# own trigger: a change of visibility or status, a publication or a deletion (a co-op's
# included, by its cascade) reaches the search in the same transaction. tests/search/
# test_backends_agree.py checks it against ``audience_of``.
AUDIENCE_TRIGGER = """
CREATE OR REPLACE FUNCTION search_document_audience() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM search_document WHERE kind = 'job' AND object_id = OLD.id;
        RETURN OLD;
    END IF;
    UPDATE search_document
       SET audience = ARRAY['coop:' || NEW.coop_id]
                      || CASE WHEN NEW.status <> 'draft' THEN ARRAY['visibility:' || NEW.visibility]
                              ELSE ARRAY[]::text[] END,
           status = NEW.status, visibility = NEW.visibility, coop_id = NEW.coop_id
     WHERE kind = 'job' AND object_id = NEW.id;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS search_document_audience ON job;
CREATE TRIGGER search_document_audience AFTER UPDATE OF status, visibility, coop_id OR DELETE ON job
    FOR EACH ROW EXECUTE FUNCTION search_document_audience();
"""
DROP_AUDIENCE_TRIGGER = """
DROP TRIGGER IF EXISTS search_document_audience ON job;
DROP FUNCTION IF EXISTS search_document_audience();
"""

# The change feed that keeps each process's view of the documents current (postgres_view): every
# written row is stamped with its transaction's id, a deleted row leaves a tombstone so stamped.
# A transaction id, not a sequence: a reader that has seen everything up to the oldest
# transaction still running (its snapshot's xmin) has missed nothing below it, however the
# transactions' commits were ordered. Tombstones outlive a day (``TOMBSTONE_DAYS``); a process
# idle for longer reloads (postgres_view.RELOAD_AFTER). Not a mapped table: the tests' cleanup
# empties the mapped tables, and must leave the tombstones of the documents it deletes.
CHANGE_FEED = """
ALTER TABLE search_document ADD COLUMN IF NOT EXISTS changed_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE search_document ALTER COLUMN changed_xid SET DEFAULT pg_current_xact_id();
CREATE INDEX IF NOT EXISTS ix_search_document_changed_xid ON search_document (changed_xid);
CREATE TABLE IF NOT EXISTS search_tombstone (
    kind varchar(10) NOT NULL,
    object_id integer NOT NULL,
    changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    deleted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ix_search_tombstone_changed_xid ON search_tombstone (changed_xid);
CREATE OR REPLACE FUNCTION search_document_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO search_tombstone (kind, object_id) VALUES (OLD.kind, OLD.object_id);
        RETURN OLD;
    END IF;
    NEW.changed_xid := pg_current_xact_id();
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS search_document_changed ON search_document;
CREATE TRIGGER search_document_changed BEFORE INSERT OR UPDATE ON search_document
    FOR EACH ROW EXECUTE FUNCTION search_document_changed();
DROP TRIGGER IF EXISTS search_document_deleted ON search_document;
CREATE TRIGGER search_document_deleted AFTER DELETE ON search_document
    FOR EACH ROW EXECUTE FUNCTION search_document_changed();
"""
DROP_CHANGE_FEED = """
DROP TABLE IF EXISTS search_tombstone;
DROP FUNCTION IF EXISTS search_document_changed() CASCADE;
"""
TOMBSTONE_DAYS = 1
CHANGE_FEED_NAMES = frozenset({"search_tombstone", "changed_xid", "ix_search_document_changed_xid",
                               "ix_search_tombstone_changed_xid"})


# SQLAlchemy does not know PostgreSQL's xid8 (the change feed's stamps): named here, so that
# reading the table back (Alembic comparing the models with a database) does not warn of it.
pg_types.ischema_names.setdefault("xid8", BigInteger)


def in_models(item: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """For Alembic's comparison of the models with the database (``include_object``): the change
    feed's table, column and indexes are made by their own SQL (``CHANGE_FEED``), not the models."""
    return not (reflected and compare_to is None and name in CHANGE_FEED_NAMES)

# Tables made by create_all (tests, benchmarks) get the trigger too; migrations add it themselves.
event.listen(SearchDocument.__table__, "after_create", DDL(NARROW_ROWS).execute_if(dialect="postgresql"))
event.listen(SearchDocument.__table__, "after_create", DDL(CHANGE_FEED).execute_if(dialect="postgresql"))
event.listen(SearchDocument.__table__, "before_drop", DDL(DROP_CHANGE_FEED).execute_if(dialect="postgresql"))
event.listen(db.metadata, "after_create", DDL(AUDIENCE_TRIGGER).execute_if(dialect="postgresql"))
event.listen(db.metadata, "before_drop", DDL(DROP_AUDIENCE_TRIGGER).execute_if(dialect="postgresql"))
