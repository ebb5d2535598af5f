"""User time zone: dates are shown and typed in each user's own zone

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 02:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user') as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=False,
                                      server_default='Europe/London'))


def downgrade():
    with op.batch_alter_table('user') as batch_op:
        batch_op.drop_column('time_zone')
