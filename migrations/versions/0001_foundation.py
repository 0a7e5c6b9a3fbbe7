"""foundation: inbox and handled-event ledger

Revision ID: 0001_foundation
Revises: 
"""
from alembic import op
import sqlalchemy as sa
import bot.db


revision = '0001_foundation'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('app', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=96), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('received_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('available_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_until', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('finished_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_event')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_inbox_event_dedupe_key'))
    )
    with op.batch_alter_table('inbox_event', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_event_status_available', ['status', 'available_at'], unique=False)

    op.create_table('handled_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('inbox_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('handler', sa.String(length=128), nullable=False),
    sa.Column('handled_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handled_event')),
    sa.UniqueConstraint('inbox_id', 'handler', name='uq_handled_event_inbox_handler')
    )


def downgrade() -> None:
    op.drop_table('handled_event')
    with op.batch_alter_table('inbox_event', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_event_status_available')

    op.drop_table('inbox_event')
