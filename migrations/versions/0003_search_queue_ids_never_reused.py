"""Search queue ids are never reused (AUTOINCREMENT on SQLite; PostgreSQL's sequence never reuses)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 22:25:00

"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def _recreate(autoincrement):
    if op.get_bind().dialect.name != "sqlite":
        return
    # SQLite can only change this by copying the table (batch mode does the copy).
    with op.batch_alter_table('search_queue', recreate='always',
                              table_kwargs={'sqlite_autoincrement': autoincrement}):
        pass


def upgrade():
    _recreate(True)


def downgrade():
    _recreate(False)
