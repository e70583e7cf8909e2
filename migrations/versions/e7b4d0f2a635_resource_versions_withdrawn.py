"""resource versions: a moderator withdraws one version

A version a moderator withdraws (one found to hold patient data, say) is downloaded by the
space's moderators only, and its resource's current version falls back to the newest one left.

Revision ID: e7b4d0f2a635
Revises: d6a3c9e1f524
Create Date: 2026-11-25 14:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "e7b4d0f2a635"
down_revision = "d6a3c9e1f524"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("resource_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_resource_versions_withdrawn_by_id_users"), "users",
            ["withdrawn_by_id"], ["id"], ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("resource_versions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_resource_versions_withdrawn_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("withdrawn_by_id")
        batch_op.drop_column("withdrawn_at")
