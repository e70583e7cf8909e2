"""indexes of hidden threads and of hidden and removed posts

Partial indexes holding only the few hidden threads and hidden or removed posts: search asks the
permission policy about each match through the index's copy of its space, and looks these up
once per search instead of reading every matching post and thread. On PostgreSQL they are built
CONCURRENTLY, so a large network keeps taking posts while they are made.

Revision ID: d4b8f6a0c352
Revises: c3a7e5f9b241
Create Date: 2026-11-24 13:20:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "d4b8f6a0c352"
down_revision = "c3a7e5f9b241"
branch_labels = None
depends_on = None


def upgrade():
    # On PostgreSQL, built without blocking writes to posts and threads (the largest tables),
    # which CREATE INDEX CONCURRENTLY allows only outside a transaction.
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_threads_hidden", "threads", ["id"],
            sqlite_where=sa.text("hidden = 1"), postgresql_where=sa.text("hidden"),
            postgresql_concurrently=True,
        )
        for name, column in (("ix_posts_hidden", "hidden_at"), ("ix_posts_removed", "deleted_at")):
            condition = sa.text(f"{column} IS NOT NULL")
            op.create_index(
                name, "posts", ["id"], sqlite_where=condition, postgresql_where=condition,
                postgresql_concurrently=True,
            )


def downgrade():
    op.drop_index("ix_posts_removed", table_name="posts")
    op.drop_index("ix_posts_hidden", table_name="posts")
    op.drop_index("ix_threads_hidden", table_name="threads")
