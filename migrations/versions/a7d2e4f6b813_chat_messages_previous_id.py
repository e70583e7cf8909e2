"""chat_messages.previous_id: each message names the event's message stored before it

A reader given a message by broadcast can then tell whether it has every message before it: a
message broadcast late, or never (its server stopped between the commit and the broadcast), shows
up as a gap to fill from the history. Existing messages are linked in id order. The index on
(event_id, id) replaces the one on event_id alone: it finds an event's latest message at once.

Revision ID: a7d2e4f6b813
Revises: f6a1c3e5b702
Create Date: 2026-11-24 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7d2e4f6b813'
down_revision = 'f6a1c3e5b702'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_id', sa.Integer(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_chat_messages_event_id'))
        batch_op.create_index('ix_chat_messages_event_id_id', ['event_id', 'id'], unique=False)
    op.execute(
        "UPDATE chat_messages SET previous_id = (SELECT max(earlier.id) FROM chat_messages AS"
        " earlier WHERE earlier.event_id = chat_messages.event_id AND earlier.id < chat_messages.id)"
    )


def downgrade():
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_chat_messages_event_id_id')
        batch_op.create_index(batch_op.f('ix_chat_messages_event_id'), ['event_id'], unique=False)
        batch_op.drop_column('previous_id')
