"""resources: the sharing form's one-time key

The same form sent twice (a double click on "Share", a link or case study form posted twice)
shares one resource: the key is unique per sharer. Existing resources have none.

Revision ID: c4f2b8d6e913
Revises: c7d41a9e2f05
Create Date: 2026-11-25 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c4f2b8d6e913"
down_revision = "c7d41a9e2f05"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_resources_created_by_id"), ["created_by_id", "submission_key"]
        )


def downgrade():
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_resources_created_by_id"), type_="unique")
        batch_op.drop_column("submission_key")
