"""web: console accounts (local and WeCom sign-in)

Revision ID: 0008_web
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa
import bot.db


revision = '0008_web'
down_revision = '0001_foundation'
branch_labels = ('web',)
depends_on = None


def upgrade() -> None:
    op.create_table('web_user',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('wecom_userid', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_user')),
    sa.UniqueConstraint('username', name=op.f('uq_web_user_username')),
    sa.UniqueConstraint('wecom_userid', name=op.f('uq_web_user_wecom_userid'))
    )


def downgrade() -> None:
    op.drop_table('web_user')
