"""Stored Markdown HTML with headings rendered again: headings start at h3 and never skip a level

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 12:00:00

Data only. Text written before this rule had ``## Heading`` stored as h4 straight under the
page's h2 section. Only rows whose stored HTML holds a heading are read; their Markdown source is
rendered again with the site's own renderer. Imported jobs keep theirs: their HTML is the source
feed's, not Markdown. Downgrading leaves the HTML as it is (both are valid).
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

# (table, Markdown source column, HTML column)
RENDERED = (
    ("job", "description", "description_html"),
    ("coop", "description", "description_html"),
    ("question", "answer", "answer_html"),
    ("bid", "proposal", "proposal_html"),
    ("consortium_comment", "text", "text_html"),
)
BATCH = 500


def upgrade():
    from marketplace.core.markdown import render_markdown

    bind = op.get_bind()
    for table, source, html in RENDERED:
        rows = sa.table(table, sa.column("id", sa.Integer), sa.column(source, sa.Text), sa.column(html, sa.Text))
        query = sa.select(rows.c.id, rows.c[source]).where(rows.c[html].like("%<h%")).order_by(rows.c.id)
        if table == "job":
            imported = sa.table("imported_entry", sa.column("job_id", sa.Integer))
            query = query.where(rows.c.id.not_in(sa.select(imported.c.job_id)))
        last = 0
        while True:
            found = bind.execute(query.where(rows.c.id > last).limit(BATCH)).all()
            if not found:
                break
            for row_id, text in found:
                bind.execute(sa.update(rows).where(rows.c.id == row_id).values({html: render_markdown(text)}))
            last = found[-1][0]


def downgrade():
    pass
