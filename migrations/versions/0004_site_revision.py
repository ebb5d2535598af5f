"""Site revision: a token every write changes, under which shared page parts are cached

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 01:20:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    site_revision = op.create_table(
        'site_revision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_site_revision')),
    )
    op.bulk_insert(site_revision, [{'id': 1, 'token': secrets.token_hex(16)}])


def downgrade():
    op.drop_table('site_revision')
