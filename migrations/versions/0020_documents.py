"""Documents: files attached to jobs, questions, answers and bids

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 06:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'document',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_kind', sa.String(length=10), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=160), nullable=False),
        sa.Column('media_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('storage_key', sa.String(length=64), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('coop_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("owner_kind IN ('pending', 'job', 'question', 'answer', 'bid')",
                           name=op.f('ck_document_owner_kind_valid')),
        sa.ForeignKeyConstraint(['coop_id'], ['coop.id'], name=op.f('fk_document_coop_id_coop'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_document_uploaded_by_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document')),
        sa.UniqueConstraint('storage_key', name=op.f('uq_document_storage_key')),
    )
    op.create_index('ix_document_owner', 'document', ['owner_kind', 'owner_id'], unique=False)


def downgrade():
    op.drop_index('ix_document_owner', table_name='document')
    op.drop_table('document')
