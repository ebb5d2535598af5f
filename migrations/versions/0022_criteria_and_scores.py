"""Evaluation criteria of jobs, essential and nice-to-have requirements, scores of bids

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 11:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    # Every requirement so far was essential: the server default fills the existing rows.
    with op.batch_alter_table('job_requirement') as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=12), server_default='essential', nullable=False))
        batch_op.create_check_constraint(op.f('ck_job_requirement_kind_valid'),
                                         "kind IN ('essential', 'nice_to_have')")
    op.create_table(
        'job_criterion',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('weight', sa.Integer(), nullable=False),
        sa.CheckConstraint('weight BETWEEN 1 AND 100', name=op.f('ck_job_criterion_weight_range')),
        sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_job_criterion_job_id_job'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job_criterion')),
    )
    op.create_index('ix_job_criterion_job_id_position', 'job_criterion', ['job_id', 'position'], unique=False)
    op.create_table(
        'bid_score',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('bid_id', sa.Integer(), nullable=False),
        sa.Column('criterion_id', sa.Integer(), nullable=False),
        sa.Column('scorer_id', sa.Integer(), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('comment', sa.Text(), server_default='', nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('score BETWEEN 0 AND 10', name=op.f('ck_bid_score_score_range')),
        sa.ForeignKeyConstraint(['bid_id'], ['bid.id'], name=op.f('fk_bid_score_bid_id_bid'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['criterion_id'], ['job_criterion.id'],
                                name=op.f('fk_bid_score_criterion_id_job_criterion'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['scorer_id'], ['user.id'], name=op.f('fk_bid_score_scorer_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_score')),
        sa.UniqueConstraint('bid_id', 'scorer_id', 'criterion_id',
                            name=op.f('uq_bid_score_bid_id_scorer_id_criterion_id')),
    )
    op.create_index('ix_bid_score_criterion_id', 'bid_score', ['criterion_id'], unique=False)
    op.create_index('ix_bid_score_scorer_id', 'bid_score', ['scorer_id'], unique=False)


def downgrade():
    op.drop_index('ix_bid_score_scorer_id', table_name='bid_score')
    op.drop_index('ix_bid_score_criterion_id', table_name='bid_score')
    op.drop_table('bid_score')
    op.drop_index('ix_job_criterion_job_id_position', table_name='job_criterion')
    op.drop_table('job_criterion')
    with op.batch_alter_table('job_requirement') as batch_op:
        batch_op.drop_constraint(op.f('ck_job_requirement_kind_valid'), type_='check')
        batch_op.drop_column('kind')
