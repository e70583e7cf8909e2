"""notifications of event changes

Those who answered an event are told when it is cancelled, or when its time or place changes.
A notification of a change keeps what changed, as it was then (the times and venue before and
after, and how the joining link changed), in ``change``. The two new kinds need no schema
change: ``kind`` is a plain VARCHAR(32), not a database enum.

Revision ID: e74b288e6533
Revises: c9f5a1b3d486
Create Date: 2026-11-26 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "e74b288e6533"
down_revision = "c9f5a1b3d486"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change", sa.JSON(), nullable=True))


def downgrade():
    # Kinds the earlier code cannot read (event-reinstated came later, with no schema change).
    op.execute(
        "DELETE FROM notifications"
        " WHERE kind IN ('event-cancelled', 'event-rearranged', 'event-reinstated')"
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("change")
