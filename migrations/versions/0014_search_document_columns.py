"""Search documents carry their audience and facet values, and the job table's trigger keeps the audience in step

The PostgreSQL backend's documents become one narrow row each (words analysed as the Whoosh
backend analyses them, audience tokens, facet values), so a search reads this table alone. The
documents of the old shape cannot be converted: the table is made anew and, on a database that
held documents (the PostgreSQL backend in use), every one of them is queued to be written again.
Run `flask --app marketplace search reindex` after upgrading to do it at once.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 00:10:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

TSVECTOR = sa.Text().with_variant(postgresql.TSVECTOR(), 'postgresql')
TEXT_ARRAY = sa.Text().with_variant(postgresql.ARRAY(sa.Text()), 'postgresql')

# As in marketplace/search/models.py at this revision (a migration keeps its own copy).
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
NARROW_ROWS = "ALTER TABLE search_document SET (toast_tuple_target = 128);\n" \
    "ALTER TABLE search_document ALTER COLUMN everything SET STORAGE EXTERNAL;\n" \
    "ALTER TABLE search_document ALTER COLUMN positions SET STORAGE EXTERNAL;\n" + "".join(
        f"ALTER TABLE search_document ALTER COLUMN {column} SET STORAGE PLAIN;\n"
        for column in ("title", "audience", "skills", "place", "location"))
DROP_AUDIENCE_TRIGGER = """
DROP TRIGGER IF EXISTS search_document_audience ON job;
DROP FUNCTION IF EXISTS search_document_audience();
"""


def _requeue_documents():
    """Queue every indexed object, so that its document is written again in the new shape."""
    op.execute("INSERT INTO search_queue (kind, object_id, queued_at) "
               "SELECT kind, object_id, timezone('utc', now()) FROM search_document")


def _drop_documents(coop_index=False):
    with op.batch_alter_table('search_document', schema=None) as batch_op:
        if coop_index:
            batch_op.drop_index('ix_search_document_coop_everything', postgresql_using='gin')
        batch_op.drop_index('ix_search_document_everything', postgresql_using='gin')
    op.drop_table('search_document')


def _create_index():
    with op.batch_alter_table('search_document', schema=None) as batch_op:
        batch_op.create_index('ix_search_document_everything', ['everything'], unique=False, postgresql_using='gin')


def _create_coop_index():
    with op.batch_alter_table('search_document', schema=None) as batch_op:
        batch_op.create_index('ix_search_document_coop_everything', ['everything'], unique=False,
                              postgresql_using='gin', postgresql_where=sa.text("kind = 'coop'"))


def upgrade():
    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:
        _requeue_documents()
    _drop_documents()
    op.create_table('search_document',
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('everything', TSVECTOR, nullable=False),
    sa.Column('positions', TSVECTOR, nullable=False),
    sa.Column('title', TSVECTOR, nullable=False),
    sa.Column('audience', TEXT_ARRAY, nullable=False),
    sa.Column('skills', TEXT_ARRAY, nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('bids_deadline', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('job_kind', sa.String(length=20), nullable=True),
    sa.Column('visibility', sa.String(length=20), nullable=True),
    sa.Column('budget', sa.String(length=20), nullable=True),
    sa.Column('mode', sa.String(length=20), nullable=True),
    sa.Column('coop_id', sa.Integer(), nullable=True),
    sa.Column('place', sa.Text(), nullable=True),
    sa.Column('location', sa.Text(), nullable=True),
    sa.Column('source_updated_at', sa.DateTime(), nullable=False),
    sa.Column('pad', sa.LargeBinary(), nullable=True),
    sa.PrimaryKeyConstraint('object_id', 'kind', name=op.f('pk_search_document'))
    )
    _create_index()
    _create_coop_index()
    if postgres:
        op.execute(NARROW_ROWS)
        op.execute(AUDIENCE_TRIGGER)


def downgrade():
    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:
        op.execute(DROP_AUDIENCE_TRIGGER)
        _requeue_documents()
    _drop_documents(coop_index=True)
    op.create_table('search_document',
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('everything', TSVECTOR, nullable=False),
    sa.Column('title', TSVECTOR, nullable=False),
    sa.Column('skills', TSVECTOR, nullable=False),
    sa.Column('excerpt', sa.Text(), nullable=False),
    sa.Column('source_updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'object_id', name=op.f('pk_search_document'))
    )
    _create_index()
