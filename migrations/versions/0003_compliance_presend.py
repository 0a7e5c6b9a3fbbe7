"""compliance: outbound_block (pre-send check blocks)

Revision ID: 0003_compliance_presend
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa
import bot.db


revision = '0003_compliance_presend'
down_revision = '0001_foundation'
branch_labels = ('compliance',)
depends_on = None


def upgrade() -> None:
    op.create_table('outbound_block',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('recipient', sa.String(length=128), nullable=True),
    sa.Column('origin', sa.String(length=128), nullable=False),
    sa.Column('content_version_id', sa.String(length=64), nullable=True),
    sa.Column('lexicon_version', sa.String(length=64), nullable=False),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_block'))
    )
    with op.batch_alter_table('outbound_block', schema=None) as batch_op:
        batch_op.create_index('ix_outbound_block_at', ['at'], unique=False)
        batch_op.create_index('ix_outbound_block_origin', ['origin'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbound_block', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_block_origin')
        batch_op.drop_index('ix_outbound_block_at')

    op.drop_table('outbound_block')
