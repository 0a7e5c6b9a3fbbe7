"""content: library items, versions, embeddings, index generation

Revision ID: 0002_content
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa
import bot.db


revision = '0002_content'
down_revision = '0001_foundation'
branch_labels = ('content',)
depends_on = None


def upgrade() -> None:
    op.create_table('content_index_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('generation', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_index_state'))
    )
    op.create_table('content_item',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('slug', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=255), nullable=True),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('latest_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('live_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_item')),
    sa.UniqueConstraint('slug', name=op.f('uq_content_item_slug'))
    )
    op.create_table('content_version',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('segments', sa.JSON(), nullable=False),
    sa.Column('risk_level', sa.String(length=2), nullable=True),
    sa.Column('url', sa.String(length=1024), nullable=True),
    sa.Column('valid_from', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('valid_until', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('auto_reply_allowed', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('submitted_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sa.String(length=128), nullable=True),
    sa.Column('retired_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('retired_by', sa.String(length=128), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['content_item.id'], name=op.f('fk_content_version_item_id_content_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_version')),
    sa.UniqueConstraint('item_id', 'number', name='uq_content_version_item_number')
    )
    with op.batch_alter_table('content_version', schema=None) as batch_op:
        batch_op.create_index('ix_content_version_status', ['status'], unique=False)

    op.create_table('content_embedding',
    sa.Column('version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('backend', sa.String(length=160), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('dim', sa.Integer(), nullable=False),
    sa.Column('vectors', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['content_version.id'], name=op.f('fk_content_embedding_version_id_content_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('version_id', 'backend', name=op.f('pk_content_embedding'))
    )


def downgrade() -> None:
    op.drop_table('content_embedding')
    with op.batch_alter_table('content_version', schema=None) as batch_op:
        batch_op.drop_index('ix_content_version_status')

    op.drop_table('content_version')
    op.drop_table('content_item')
    op.drop_table('content_index_state')
