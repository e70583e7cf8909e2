"""search filters: each indexed thing's organisation and NHS IMPACT components

On SQLite, Alembic's batch mode rebuilds search_documents by copying it, which drops the
triggers that keep the FTS5 table in step (see b6e2d4f8a130): they are read before and made
again after, unchanged. Row ids survive the copy, so the FTS5 table stays right. Existing rows
get no organisation and no components until ``flask search-reindex`` refreshes them.

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


def upgrade():
    with triggers_kept(), op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('components', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_search_documents_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_search_documents_organisation_id_organisations'), 'organisations', ['organisation_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with triggers_kept(), op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_search_documents_organisation_id_organisations'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_search_documents_organisation_id'))
        batch_op.drop_column('components')
        batch_op.drop_column('organisation_id')
