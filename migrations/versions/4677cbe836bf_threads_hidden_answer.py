"""discussions: a question's answer hidden with its post

A moderator hiding the answer to a question clears the answer; the thread remembers it, so that
restoring the post marks it as the answer again (unless another was marked meanwhile). Existing
threads remember none.

Revision ID: 4677cbe836bf
Revises: 97f79a32be30
Create Date: 2026-11-25 09:35:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "4677cbe836bf"
down_revision = "97f79a32be30"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hidden_answer_post_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_threads_hidden_answer_post_id_posts"),
            "posts",
            ["hidden_answer_post_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_threads_hidden_answer_post_id_posts"), type_="foreignkey"
        )
        batch_op.drop_column("hidden_answer_post_id")
