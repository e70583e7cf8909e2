"""search filters: each indexed thing's organisation and NHS IMPACT components

On SQLite, Alembic's batch mode rebuilds search_documents by copying it, which drops the
triggers that keep the FTS5 table in step (see b6e2d4f8a130): they are read before and made
again after, unchanged. Row ids survive the copy, so the FTS5 table stays right.

Existing rows are filled in by SQL from the tables they index, as the app would file them
(peerlearn.search.kinds): no reindex is needed after upgrading.

Revision ID: c3a7e5f9b241
Revises: b6e2d4f8a130
Create Date: 2026-11-24 09:10:00.000000

"""
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a7e5f9b241'
down_revision = 'b6e2d4f8a130'
branch_labels = None
depends_on = None


@contextmanager
def triggers_kept():
    """Keep search_documents' triggers across a batch-mode rebuild of the table (SQLite)."""
    bind = op.get_bind()
    saved = []
    if bind.dialect.name == "sqlite":
        saved = bind.execute(sa.text(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'search_documents'"
        )).scalars().all()
    yield
    for statement in saved:
        op.execute(statement)


#: Each NHS IMPACT component's bit (peerlearn.search.models.component_bit), by stored value.
COMPONENT_BITS = {
    "shared-purpose": 1,
    "people-and-culture": 2,
    "leadership-behaviours": 4,
    "capability-and-capacity": 8,
    "management-systems": 16,
}

#: kind -> (the organisation of the indexed thing, its components' table and key), as SQL on
#: the thing's id, ``search_documents.object_id``.
ORIGINS = {
    "person": "SELECT organisation_id FROM users WHERE id = search_documents.object_id",
    "thread": "SELECT u.organisation_id FROM threads t JOIN users u ON u.id = t.author_id"
              " WHERE t.id = search_documents.object_id",
    "post": "SELECT u.organisation_id FROM posts p JOIN users u ON u.id = p.author_id"
            " WHERE p.id = search_documents.object_id",
    "event": "SELECT u.organisation_id FROM events e JOIN users u ON u.id = e.created_by_id"
             " WHERE e.id = search_documents.object_id",
    "resource": "SELECT organisation_id FROM resources WHERE id = search_documents.object_id",
}
COMPONENTS = {
    "thread": ("thread_components", "thread_id = search_documents.object_id"),
    "post": ("thread_components", "thread_id = (SELECT thread_id FROM posts"
                                  " WHERE id = search_documents.object_id)"),
    "event": ("event_components", "event_id = search_documents.object_id"),
    "resource": ("resource_components", "resource_id = search_documents.object_id"),
}


def upgrade():
    with triggers_kept(), op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('components', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_search_documents_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_search_documents_organisation_id_organisations'), 'organisations', ['organisation_id'], ['id'], ondelete='SET NULL')

    # The index's own columns are not touched, so neither the FTS5 table nor the tsvector moves.
    bit = " ".join(f"WHEN '{value}' THEN {bit}" for value, bit in COMPONENT_BITS.items())
    for kind, origin in ORIGINS.items():
        op.execute(f"UPDATE search_documents SET organisation_id = ({origin}) WHERE kind = '{kind}'")
    for kind, (table, where) in COMPONENTS.items():
        op.execute(
            f"UPDATE search_documents SET components = (SELECT COALESCE(SUM(CASE component {bit}"
            f" ELSE 0 END), 0) FROM {table} WHERE {where}) WHERE kind = '{kind}'"
        )


def downgrade():
    with triggers_kept(), op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_search_documents_organisation_id_organisations'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_search_documents_organisation_id'))
        batch_op.drop_column('components')
        batch_op.drop_column('organisation_id')
