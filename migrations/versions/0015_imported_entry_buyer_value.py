"""Imported entry buyer and value: who buys, and the value as the source published it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 00:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('imported_entry') as batch_op:
        batch_op.add_column(sa.Column('buyer', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('value', sa.JSON(), nullable=True))
    # The next fetch of every source reads and compares all its entries, which fills these in.
    op.execute("UPDATE feed_source SET etag = NULL, last_modified = NULL, body_hash = NULL")


def downgrade():
    with op.batch_alter_table('imported_entry') as batch_op:
        batch_op.drop_column('value')
        batch_op.drop_column('buyer')
