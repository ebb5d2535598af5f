"""Awards as in a tender: the outcome published on request, feedback asked during standstill

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 06:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

OLD_KINDS = ('question_asked', 'question_answered', 'bid_received', 'bids_closed', 'bid_shortlisted', 'bid_awarded',
             'bid_unsuccessful', 'job_changed', 'job_withdrawn', 'team_invited', 'team_changed', 'invited_to_bid',
             'interest_lapsing', 'deadline_near', 'questions_waiting', 'award_due', 'saved_search', 'weekly_digest')
NEW_KINDS = OLD_KINDS + ('feedback_requested',)


def _kinds(kinds):
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def _replace_checks(kinds):
    # The column is as long as the longest kind.
    length = max(len(k) for k in kinds)
    for table in ('notification', 'notification_setting'):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_kind_valid'), type_='check')
            batch_op.alter_column('kind', type_=sa.String(length=length), existing_nullable=False)
            batch_op.create_check_constraint(op.f(f'ck_{table}_kind_valid'), _kinds(kinds))


def upgrade():
    with op.batch_alter_table('job') as batch_op:
        batch_op.add_column(sa.Column('outcome_public', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('bid') as batch_op:
        batch_op.add_column(sa.Column('feedback_request', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('feedback_requested_at', sa.DateTime(), nullable=True))
    _replace_checks(NEW_KINDS)


def downgrade():
    op.execute("DELETE FROM notification WHERE kind = 'feedback_requested'")
    op.execute("DELETE FROM notification_setting WHERE kind = 'feedback_requested'")
    _replace_checks(OLD_KINDS)
    with op.batch_alter_table('bid') as batch_op:
        batch_op.drop_column('feedback_requested_at')
        batch_op.drop_column('feedback_request')
    with op.batch_alter_table('job') as batch_op:
        batch_op.drop_column('outcome_public')
