"""notifications about events

A notification is about a thread (and perhaps a post in it) or, now, an event: the place a
member waiting for it was given. ``thread_id`` may be empty when ``event_id`` is set, never both
or neither.

Revision ID: a7d3e9f1c264
Revises: a7d2e4f6b813
Create Date: 2026-11-25 02:40:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a7d3e9f1c264"
down_revision = "a7d2e4f6b813"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.Integer(), nullable=True))
        batch_op.alter_column("thread_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_notifications_event_id_events"), "events", ["event_id"], ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(batch_op.f("ix_notifications_event_id"), ["event_id"], unique=False)
        batch_op.create_check_constraint(
            "about_one", sa.text("(thread_id IS NULL) <> (event_id IS NULL)")
        )


def downgrade():
    op.execute("DELETE FROM notifications WHERE thread_id IS NULL")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_notifications_about_one"), type_="check")
        batch_op.drop_index(batch_op.f("ix_notifications_event_id"))
        batch_op.drop_constraint(batch_op.f("fk_notifications_event_id_events"), type_="foreignkey")
        batch_op.alter_column("thread_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("event_id")
