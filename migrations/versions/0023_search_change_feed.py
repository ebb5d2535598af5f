"""The PostgreSQL search documents' change feed: each row stamped with the id of the transaction
that last wrote it, a tombstone for each deleted row (search.models.CHANGE_FEED)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 17:00:00

"""
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

# A copy of search.models at this revision. The column's first default is a constant, so that
# adding it rewrites no row (every process loads the documents afresh when it starts).
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


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(CHANGE_FEED)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(DROP_CHANGE_FEED)
        op.execute("DROP INDEX IF EXISTS ix_search_document_changed_xid")
        op.execute("ALTER TABLE search_document DROP COLUMN IF EXISTS changed_xid")
