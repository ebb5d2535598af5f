"""Feed source bids_here: whether co-ops bid on an imported job here or at the original notice

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 22:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('feed_source') as batch_op:
        batch_op.add_column(sa.Column('bids_here', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('feed_source') as batch_op:
        batch_op.drop_column('bids_here')
