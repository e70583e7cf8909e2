"""sign_ins: one row per signed-in browser, instead of one session token per account

Signing out now deletes that browser's row, so a copy of its session or remember-me cookie taken
before then no longer signs anyone in, while the account's other browsers stay signed in. Each
account's old token becomes its first sign-in, so nobody is signed out by the upgrade.

Revision ID: f6a1c3e5b702
Revises: e5c9a7b1d463
Create Date: 2026-11-24 15:30:00.000000

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6a1c3e5b702'
down_revision = 'e5c9a7b1d463'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_ins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sign_ins_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_ins')),
    sa.UniqueConstraint('token', name=op.f('uq_sign_ins_token'))
    )
    with op.batch_alter_table('sign_ins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_ins_user_id'), ['user_id'], unique=False)

    op.execute(
        "INSERT INTO sign_ins (user_id, token, created_at) "
        "SELECT id, session_token, CURRENT_TIMESTAMP FROM users"
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_session_token'), type_='unique')
        batch_op.drop_column('session_token')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('session_token', sa.String))
    bind = op.get_bind()
    for (user_id,) in bind.execute(sa.select(users.c.id)).all():
        bind.execute(
            users.update().where(users.c.id == user_id).values(session_token=secrets.token_urlsafe(32))
        )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_users_session_token'), ['session_token'])

    with op.batch_alter_table('sign_ins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_ins_user_id'))
    op.drop_table('sign_ins')
