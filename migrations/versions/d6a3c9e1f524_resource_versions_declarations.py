"""resource versions: each version's patient-information declaration

Every version of a file is now declared, as it is uploaded, to hold no patient-identifiable
information, and the declaration is recorded with it: when, and by whom. A first version was
declared when its resource was shared, by the person who shared it, so it takes the resource's
declaration; later versions were uploaded without one, and have none.

Revision ID: d6a3c9e1f524
Revises: c4f2b8d6e913
Create Date: 2026-11-25 12:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "d6a3c9e1f524"
down_revision = "c4f2b8d6e913"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("resource_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pii_declared_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("pii_declared_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_resource_versions_pii_declared_by_id_users"), "users",
            ["pii_declared_by_id"], ["id"], ondelete="SET NULL",
        )
    op.execute(
        "UPDATE resource_versions SET pii_declared_at = (SELECT resources.pii_declared_at "
        "FROM resources WHERE resources.id = resource_versions.resource_id) WHERE number = 1"
    )
    op.execute(
        "UPDATE resource_versions SET pii_declared_by_id = created_by_id "
        "WHERE pii_declared_at IS NOT NULL"
    )


def downgrade():
    with op.batch_alter_table("resource_versions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_resource_versions_pii_declared_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("pii_declared_by_id")
        batch_op.drop_column("pii_declared_at")
