"""Feed source fetch requests: "Fetch now" queues the source for the fetch worker

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 21:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('feed_source') as batch_op:
        batch_op.add_column(sa.Column('fetch_requested_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('feed_source') as batch_op:
        batch_op.drop_column('fetch_requested_at')
