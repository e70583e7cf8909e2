"""calendar feeds include interested

A member may choose to have their personal calendar feed list the events they answered
"interested" as well as those they are going to. Existing feeds keep listing only the events
their members are going to.

Revision ID: b8e2c4d6f013
Revises: e74b288e6533
Create Date: 2026-11-27 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b8e2c4d6f013"
down_revision = "e74b288e6533"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("include_interested", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.drop_column("include_interested")
