"""resources: the new-version form's one-time key

The same new-version form sent twice (a double click on "Upload version") uploads one version:
the key is unique per uploader. Existing versions have none.

Revision ID: 97f79a32be30
Revises: e7b4d0f2a635
Create Date: 2026-11-25 08:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "97f79a32be30"
down_revision = "e7b4d0f2a635"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("resource_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_resource_versions_created_by_id"), ["created_by_id", "submission_key"]
        )


def downgrade():
    with op.batch_alter_table("resource_versions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_resource_versions_created_by_id"), type_="unique")
        batch_op.drop_column("submission_key")
