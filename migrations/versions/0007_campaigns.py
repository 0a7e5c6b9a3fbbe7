"""campaigns: campaigns, members, runs, tasks, pushes

Revision ID: 0007_campaigns
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa
import bot.db


revision = '0007_campaigns'
down_revision = '0001_foundation'
branch_labels = ('campaigns',)
depends_on = None


def upgrade() -> None:
    op.create_table('campaign',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('template', sa.String(length=32), nullable=False),
    sa.Column('segment_expr', sa.Text(), nullable=False),
    sa.Column('content_ref', sa.String(length=160), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('chat_ids', sa.JSON(), nullable=False),
    sa.Column('group_sender', sa.String(length=64), nullable=True),
    sa.Column('timing', sa.JSON(), nullable=False),
    sa.Column('holdout_share', sa.Float(), nullable=False),
    sa.Column('product_risk_level', sa.String(length=2), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign')),
    sa.UniqueConstraint('slug', name=op.f('uq_campaign_slug'))
    )
    op.create_table('campaign_member',
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('external_userid', sa.String(length=64), nullable=False),
    sa.Column('arm', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('skip_reason', sa.String(length=32), nullable=True),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('assigned_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_push_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('replied_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reactivated_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('campaign_id', 'external_userid', name=op.f('pk_campaign_member'))
    )

    op.create_table('campaign_run',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('fire_key', sa.String(length=64), nullable=False),
    sa.Column('scheduled_for', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_run_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_run')),
    sa.UniqueConstraint('campaign_id', 'fire_key', name='uq_campaign_run_campaign_fire_key')
    )
    op.create_table('campaign_task',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sender', sa.String(length=64), nullable=False),
    sa.Column('chat_type', sa.String(length=8), nullable=False),
    sa.Column('content_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('msgid', sa.String(length=128), nullable=True),
    sa.Column('recipient_count', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('remind_count', sa.Integer(), nullable=False),
    sa.Column('reminded_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('checked_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_task_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['campaign_run.id'], name=op.f('fk_campaign_task_run_id_campaign_run'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_task'))
    )
    with op.batch_alter_table('campaign_task', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_task_status', ['status'], unique=False)

    op.create_table('campaign_push',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('external_userid', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('pushed_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_push')),
    sa.UniqueConstraint('run_id', 'external_userid', name='uq_campaign_push_run_external_userid')
    )
    with op.batch_alter_table('campaign_push', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_push_client_time', ['external_userid', 'pushed_at'], unique=False)
        batch_op.create_index('ix_campaign_push_task', ['task_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('campaign_push', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_push_task')
        batch_op.drop_index('ix_campaign_push_client_time')

    op.drop_table('campaign_push')
    with op.batch_alter_table('campaign_task', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_task_status')

    op.drop_table('campaign_task')
    op.drop_table('campaign_run')
    op.drop_table('campaign_member')
    op.drop_table('campaign')
