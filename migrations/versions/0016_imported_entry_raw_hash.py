"""Imported entry raw hash: the entry as the source last sent it, skipped unread when sent again

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 03:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('imported_entry') as batch_op:
        batch_op.add_column(sa.Column('raw_hash', sa.String(length=64), nullable=True))
    # Entries without one are read in full at the next fetch, which fills it in.


def downgrade():
    with op.batch_alter_table('imported_entry') as batch_op:
        batch_op.drop_column('raw_hash')
