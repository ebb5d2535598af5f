"""Failed sign-ins remember the device cookie they came with (counted against it alone)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 10:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('login_failure') as batch_op:
        batch_op.add_column(sa.Column('device', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('login_failure') as batch_op:
        batch_op.drop_column('device')
