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
    # Without withdrawn_at a withdrawn version (patient-identifiable information, say) could be
    # downloaded again by anyone who sees its resource; deleting it here would lose its stored
    # file's record. The downgrade stops and says so instead.
    withdrawn = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM resource_versions WHERE withdrawn_at IS NOT NULL")
    )
    if withdrawn:
        raise RuntimeError(
            f"{withdrawn} withdrawn resource version(s) would become downloadable again: delete"
            " them (or their resources) before downgrading below e7b4d0f2a635"
        )
    with op.batch_alter_table("resource_versions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_resource_versions_withdrawn_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("withdrawn_by_id")
        batch_op.drop_column("withdrawn_at")
