"""search: the index's rows by date, and by kind and date

A search ranks only the newest of its visible matches (a few thousand at most), so it reads them
newest first: through the date, or through the kind and date when one kind is chosen. A word
found in a quarter of everything then stops after a few thousand rows instead of ranking every
match. On PostgreSQL the indexes are built CONCURRENTLY, so search and indexing go on meanwhile.

Revision ID: 43d95cebc3ef
Revises: 4677cbe836bf
Create Date: 2026-11-25 14:15:00.000000

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "43d95cebc3ef"
down_revision = "4677cbe836bf"
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_search_documents_activity", "search_documents", ["activity_at", "id"],
            postgresql_concurrently=True,
        )
        op.create_index(
            "ix_search_documents_kind_activity", "search_documents",
            ["kind", "activity_at", "id"], postgresql_concurrently=True,
        )


def downgrade():
    op.drop_index("ix_search_documents_kind_activity", table_name="search_documents")
    op.drop_index("ix_search_documents_activity", table_name="search_documents")
