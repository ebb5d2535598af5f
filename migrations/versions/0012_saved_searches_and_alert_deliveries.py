"""Saved searches, opt-outs from a co-op's saved search, and what each alert has sent

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 00:35:11

"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('saved_search',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('coop_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('query', sa.String(length=1000), nullable=False),
    sa.Column('delivery', sa.String(length=10), nullable=False),
    sa.Column('paused', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('match_skills', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_up_to', sa.DateTime(), nullable=False),
    sa.CheckConstraint("delivery IN ('instant', 'daily', 'weekly', 'feed')", name=op.f('ck_saved_search_delivery_valid')),
    sa.ForeignKeyConstraint(['coop_id'], ['coop.id'], name=op.f('fk_saved_search_coop_id_coop'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_saved_search_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_search'))
    )
    with op.batch_alter_table('saved_search', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_search_coop_id'), ['coop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_saved_search_user_id'), ['user_id'], unique=False)

    op.create_table('alert_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('saved_search_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_alert_delivery_job_id_job'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['saved_search_id'], ['saved_search.id'], name=op.f('fk_alert_delivery_saved_search_id_saved_search'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_alert_delivery_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_delivery')),
    sa.UniqueConstraint('saved_search_id', 'user_id', 'job_id', name='uq_alert_delivery')
    )
    with op.batch_alter_table('alert_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_delivery_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_delivery_user_id'), ['user_id'], unique=False)

    op.create_table('alert_opt_out',
    sa.Column('saved_search_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['saved_search_id'], ['saved_search.id'], name=op.f('fk_alert_opt_out_saved_search_id_saved_search'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_alert_opt_out_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('saved_search_id', 'user_id', name=op.f('pk_alert_opt_out'))
    )


def downgrade():
    op.drop_table('alert_opt_out')
    with op.batch_alter_table('alert_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_delivery_user_id'))
        batch_op.drop_index(batch_op.f('ix_alert_delivery_job_id'))

    op.drop_table('alert_delivery')
    with op.batch_alter_table('saved_search', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_search_user_id'))
        batch_op.drop_index(batch_op.f('ix_saved_search_coop_id'))

    op.drop_table('saved_search')
