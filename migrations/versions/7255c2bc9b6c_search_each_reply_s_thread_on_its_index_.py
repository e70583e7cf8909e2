"""search: each reply's thread on its index row

The permission policy's search filter keeps the replies of hidden threads from readers who do
not moderate the space. It found them by reading every reply of every hidden thread, a few
milliseconds on each search; with each reply's thread copied onto its row (a reply never
changes thread), it reads the hidden threads alone.

The copy is filled in here: on PostgreSQL this rewrites every reply's row (about 30 s for
500,000 rows), and autovacuum reuses the old row versions as usual.

Revision ID: 7255c2bc9b6c
Revises: 43d95cebc3ef
Create Date: 2026-11-25 16:55:00.000000

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "7255c2bc9b6c"
down_revision = "43d95cebc3ef"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN: SQLite's batch mode would copy the table and drop its FTS5 triggers.
    op.add_column("search_documents", sa.Column("thread_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE search_documents SET thread_id = ("
        "SELECT posts.thread_id FROM posts WHERE posts.id = search_documents.object_id"
        ") WHERE kind = 'post'"
    )


def downgrade():
    op.drop_column("search_documents", "thread_id")
