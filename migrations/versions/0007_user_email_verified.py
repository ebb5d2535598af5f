"""User email confirmation: when the address was confirmed, and when a link was last sent

Existing users are taken as confirmed (since their account was made): they keep working.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user') as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('verification_sent_at', sa.DateTime(), nullable=True))
    user = sa.table('user', sa.column('email_verified_at', sa.DateTime), sa.column('created_at', sa.DateTime))
    op.get_bind().execute(user.update().values(
        email_verified_at=sa.func.coalesce(user.c.created_at, sa.func.current_timestamp())))


def downgrade():
    with op.batch_alter_table('user') as batch_op:
        batch_op.drop_column('verification_sent_at')
        batch_op.drop_column('email_verified_at')
