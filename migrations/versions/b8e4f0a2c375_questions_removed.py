"""questions can be removed

A Q&A question withdrawn by its asker or removed by a moderator keeps its row, with when and by
whom, and is shown to nobody.

Revision ID: b8e4f0a2c375
Revises: a7d3e9f1c264
Create Date: 2026-11-26 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b8e4f0a2c375"
down_revision = "a7d3e9f1c264"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("removed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_questions_removed_by_id_users"), "users", ["removed_by_id"], ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    # Without removed_at a withdrawn or removed question would be asked again: it goes.
    op.execute(
        "DELETE FROM question_votes WHERE question_id IN"
        " (SELECT id FROM questions WHERE removed_at IS NOT NULL)"
    )
    op.execute("DELETE FROM questions WHERE removed_at IS NOT NULL")
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_questions_removed_by_id_users"), type_="foreignkey")
        batch_op.drop_column("removed_by_id")
        batch_op.drop_column("removed_at")
