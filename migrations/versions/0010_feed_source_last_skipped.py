"""Feed source last_skipped: the entries the last import skipped, and why, for the source's page

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 22:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('feed_source') as batch_op:
        batch_op.add_column(sa.Column('last_skipped', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('feed_source') as batch_op:
        batch_op.drop_column('last_skipped')
