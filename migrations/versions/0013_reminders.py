"""Reminders: the reminder_sent table, and the four reminder kinds of notification

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 00:55:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

OLD_KINDS = ('question_asked', 'question_answered', 'bid_received', 'bids_closed', 'bid_shortlisted', 'bid_awarded',
             'bid_unsuccessful', 'job_changed', 'job_withdrawn', 'team_invited', 'team_changed', 'invited_to_bid')
NEW_KINDS = OLD_KINDS + ('interest_lapsing', 'deadline_near', 'questions_waiting', 'award_due')


def _kinds(kinds):
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def _replace_checks(kinds):
    for table in ('notification', 'notification_setting'):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_kind_valid'), type_='check')
            batch_op.create_check_constraint(op.f(f'ck_{table}_kind_valid'), _kinds(kinds))


def upgrade():
    op.create_table('reminder_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('coop_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=40), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['coop_id'], ['coop.id'], name=op.f('fk_reminder_sent_coop_id_coop'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_reminder_sent_job_id_job'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_sent')),
    sa.UniqueConstraint('kind', 'job_id', 'coop_id', 'step', name='uq_reminder_sent')
    )
    with op.batch_alter_table('reminder_sent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_sent_job_id'), ['job_id'], unique=False)
    _replace_checks(NEW_KINDS)


def downgrade():
    op.execute("DELETE FROM notification WHERE kind IN ('interest_lapsing', 'deadline_near', 'questions_waiting', "
               "'award_due')")
    op.execute("DELETE FROM notification_setting WHERE kind IN ('interest_lapsing', 'deadline_near', "
               "'questions_waiting', 'award_due')")
    _replace_checks(OLD_KINDS)
    with op.batch_alter_table('reminder_sent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_sent_job_id'))
    op.drop_table('reminder_sent')
