"""Indexes for the list pages: visitors' jobs read newest first, open-job counts from indexes alone

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 21:20:00

"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index('ix_job_visibility_status')
        batch_op.drop_index('ix_job_bids_deadline')
        batch_op.create_index('ix_job_visibility_status_deadline', ['visibility', 'status', 'bids_deadline'],
                              unique=False)
        batch_op.create_index('ix_job_deadline_audience', ['bids_deadline', 'status', 'visibility', 'coop_id'],
                              unique=False)
        batch_op.create_index('ix_job_visibility_status_published', ['visibility', 'status', 'published_at', 'id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index('ix_job_visibility_status_published')
        batch_op.drop_index('ix_job_deadline_audience')
        batch_op.drop_index('ix_job_visibility_status_deadline')
        batch_op.create_index('ix_job_bids_deadline', ['bids_deadline'], unique=False)
        batch_op.create_index('ix_job_visibility_status', ['visibility', 'status'], unique=False)
