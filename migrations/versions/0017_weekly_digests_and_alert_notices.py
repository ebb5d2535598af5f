"""Weekly co-op digests (opt-outs and what was sent), and the two alert kinds of notification

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 03:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

OLD_KINDS = ('question_asked', 'question_answered', 'bid_received', 'bids_closed', 'bid_shortlisted', 'bid_awarded',
             'bid_unsuccessful', 'job_changed', 'job_withdrawn', 'team_invited', 'team_changed', 'invited_to_bid',
             'interest_lapsing', 'deadline_near', 'questions_waiting', 'award_due')
NEW_KINDS = OLD_KINDS + ('saved_search', 'weekly_digest')


def _kinds(kinds):
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def _replace_checks(kinds):
    for table in ('notification', 'notification_setting'):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_kind_valid'), type_='check')
            batch_op.create_check_constraint(op.f(f'ck_{table}_kind_valid'), _kinds(kinds))


def upgrade():
    op.create_table('weekly_digest_opt_out',
    sa.Column('coop_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['coop_id'], ['coop.id'], name=op.f('fk_weekly_digest_opt_out_coop_id_coop'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_weekly_digest_opt_out_user_id_user'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('coop_id', 'user_id', name=op.f('pk_weekly_digest_opt_out'))
    )
    op.create_table('weekly_digest_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('coop_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=10), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['coop_id'], ['coop.id'], name=op.f('fk_weekly_digest_sent_coop_id_coop'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_weekly_digest_sent_user_id_user'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_weekly_digest_sent')),
    sa.UniqueConstraint('coop_id', 'user_id', 'week', name='uq_weekly_digest_sent')
    )
    with op.batch_alter_table('weekly_digest_sent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_weekly_digest_sent_user_id'), ['user_id'], unique=False)
    _replace_checks(NEW_KINDS)


def downgrade():
    op.execute("DELETE FROM notification WHERE kind IN ('saved_search', 'weekly_digest')")
    op.execute("DELETE FROM notification_setting WHERE kind IN ('saved_search', 'weekly_digest')")
    _replace_checks(OLD_KINDS)
    with op.batch_alter_table('weekly_digest_sent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_weekly_digest_sent_user_id'))
    op.drop_table('weekly_digest_sent')
    op.drop_table('weekly_digest_opt_out')
