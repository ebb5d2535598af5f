"""User time zone: dates are shown and typed in each user's own zone

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 02:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user') as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=False,
                                      server_default='Europe/London'))


def downgrade():
    with op.batch_alter_table('user') as batch_op:
        batch_op.drop_column('time_zone')
