"""chat message reports: flags carry a chat message, chat messages can be hidden

Revision ID: c7d41a9e2f05
Revises: b8e2c4d6f013
Create Date: 2027-01-20 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7d41a9e2f05'
down_revision = 'b8e2c4d6f013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chat_message_id', sa.Integer(), nullable=True))
        batch_op.alter_column('post_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_flags_chat_message_id'), ['chat_message_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_flags_chat_message_id'), ['chat_message_id', 'reporter_id'])
        batch_op.create_foreign_key(batch_op.f('fk_flags_chat_message_id_chat_messages'), 'chat_messages', ['chat_message_id'], ['id'], ondelete='CASCADE')
        batch_op.create_check_constraint('about_one', '(post_id IS NULL) <> (chat_message_id IS NULL)')


def downgrade():
    op.execute('DELETE FROM flags WHERE chat_message_id IS NOT NULL')
    # Without hidden_at a hidden message would show again to everyone: it is removed instead.
    op.execute(
        'UPDATE chat_messages SET deleted_at = hidden_at, pinned_at = NULL, pinned_by_id = NULL'
        ' WHERE hidden_at IS NOT NULL AND deleted_at IS NULL'
    )
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_flags_about_one'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_flags_chat_message_id_chat_messages'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_flags_chat_message_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_flags_chat_message_id'))
        batch_op.alter_column('post_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('chat_message_id')

    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.drop_column('hidden_at')
