"""search_documents.helpful: each reply's helpful marks, copied for ranking

Ranking read every matching reply's helpful_count from posts (twice per match); the index row
now carries it, filled in here from posts, so no reindex is needed after upgrading.

On SQLite the trigger that keeps the FTS5 table in step on updates now fires only when the
title or body is written: updating a row's helpful marks, space or organisation no longer
rewrites its full-text entry (it is made again first, so the fill below does not).

Revision ID: e5c9a7b1d463
Revises: d4b8f6a0c352
Create Date: 2026-11-24 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5c9a7b1d463'
down_revision = 'd4b8f6a0c352'
branch_labels = None
depends_on = None

UPDATE_TRIGGER = (
    "CREATE TRIGGER search_documents_au AFTER UPDATE {columns}ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END"
)


def _update_trigger(columns):
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS search_documents_au")
        op.execute(UPDATE_TRIGGER.format(columns=columns))


def upgrade():
    _update_trigger("OF title, body ")
    op.add_column(
        "search_documents", sa.Column("helpful", sa.Integer(), server_default="0", nullable=False)
    )
    op.execute(
        "UPDATE search_documents SET helpful = (SELECT helpful_count FROM posts"
        " WHERE posts.id = search_documents.object_id)"
        " WHERE kind = 'post' AND object_id IN (SELECT id FROM posts WHERE helpful_count > 0)"
    )


def downgrade():
    # Batch mode copies the table on SQLite, which drops its triggers: keep them across it.
    bind = op.get_bind()
    saved = []
    if bind.dialect.name == "sqlite":
        saved = bind.execute(sa.text(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'search_documents'"
        )).scalars().all()
    with op.batch_alter_table("search_documents") as batch_op:
        batch_op.drop_column("helpful")
    for statement in saved:
        op.execute(statement)
    _update_trigger("")
