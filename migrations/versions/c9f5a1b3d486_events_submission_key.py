"""events: the scheduling form's one-time key

The same form sent twice (a double click on "Schedule event") schedules one event: the key is
unique per moderator who scheduled it. Existing events have none.

Revision ID: c9f5a1b3d486
Revises: b8e4f0a2c375
Create Date: 2026-11-27 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c9f5a1b3d486"
down_revision = "b8e4f0a2c375"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_events_created_by_id"), ["created_by_id", "submission_key"]
        )


def downgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_events_created_by_id"), type_="unique")
        batch_op.drop_column("submission_key")
