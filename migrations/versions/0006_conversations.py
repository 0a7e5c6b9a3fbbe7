"""conversations: kf cursors and sessions, messages, suggestions and their events

Revision ID: 0006_conversations
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa
import bot.db


revision = '0006_conversations'
down_revision = '0001_foundation'
branch_labels = ('conversations',)
depends_on = None


def upgrade() -> None:
    op.create_table('conversation_kf_cursor',
    sa.Column('open_kfid', sa.String(length=64), nullable=False),
    sa.Column('cursor', sa.String(length=255), nullable=True),
    sa.Column('updated_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('open_kfid', name=op.f('pk_conversation_kf_cursor'))
    )
    op.create_table('conversation_kf_session',
    sa.Column('open_kfid', sa.String(length=64), nullable=False),
    sa.Column('external_userid', sa.String(length=64), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('servicer_userid', sa.String(length=64), nullable=True),
    sa.Column('last_client_msg_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('replies_since_client_msg', sa.Integer(), nullable=False),
    sa.Column('holding_notice_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notices_sent', sa.Integer(), nullable=False),
    sa.Column('updated_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('open_kfid', 'external_userid', name=op.f('pk_conversation_kf_session'))
    )
    with op.batch_alter_table('conversation_kf_session', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_kf_session_external_userid', ['external_userid'], unique=False)

    op.create_table('conversation_message',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('msgid', sa.String(length=128), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('origin', sa.Integer(), nullable=True),
    sa.Column('open_kfid', sa.String(length=64), nullable=True),
    sa.Column('external_userid', sa.String(length=64), nullable=False),
    sa.Column('userid', sa.String(length=64), nullable=True),
    sa.Column('msgtype', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('event', sa.JSON(), nullable=True),
    sa.Column('sent_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('processed_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('suggestion_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_message')),
    sa.UniqueConstraint('channel', 'msgid', name='uq_conversation_message_channel_msgid')
    )
    with op.batch_alter_table('conversation_message', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_message_client', ['external_userid', 'sent_at'], unique=False)
        batch_op.create_index('ix_conversation_message_unprocessed', ['channel', 'processed_at'], unique=False)

    op.create_table('suggestion',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('source_message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('external_userid', sa.String(length=64), nullable=False),
    sa.Column('open_kfid', sa.String(length=64), nullable=True),
    sa.Column('advisor_userid', sa.String(length=64), nullable=True),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('intent', sa.String(length=32), nullable=True),
    sa.Column('candidates', sa.JSON(), nullable=False),
    sa.Column('content_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('confident', sa.Boolean(), nullable=False),
    sa.Column('proposed_text', sa.Text(), nullable=True),
    sa.Column('edited_text', sa.Text(), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('card_task_id', sa.String(length=128), nullable=True),
    sa.Column('card_sent_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('card_response_code', sa.String(length=255), nullable=True),
    sa.Column('card_closed_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('send_msgid', sa.String(length=32), nullable=True),
    sa.Column('wecom_msgid', sa.String(length=128), nullable=True),
    sa.Column('sending_since', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('send_attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=255), nullable=True),
    sa.Column('decided_by', sa.String(length=128), nullable=True),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['source_message_id'], ['conversation_message.id'], name=op.f('fk_suggestion_source_message_id_conversation_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion')),
    sa.UniqueConstraint('card_task_id', name=op.f('uq_suggestion_card_task_id')),
    sa.UniqueConstraint('source_message_id', name=op.f('uq_suggestion_source_message_id'))
    )
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.create_index('ix_suggestion_advisor_state', ['advisor_userid', 'state'], unique=False)
        batch_op.create_index('ix_suggestion_state', ['state'], unique=False)

    op.create_table('suggestion_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('suggestion_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestion.id'], name=op.f('fk_suggestion_event_suggestion_id_suggestion'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_event'))
    )
    with op.batch_alter_table('suggestion_event', schema=None) as batch_op:
        batch_op.create_index('ix_suggestion_event_suggestion_id', ['suggestion_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('suggestion_event', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestion_event_suggestion_id')

    op.drop_table('suggestion_event')
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestion_state')
        batch_op.drop_index('ix_suggestion_advisor_state')

    op.drop_table('suggestion')
    with op.batch_alter_table('conversation_message', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_message_unprocessed')
        batch_op.drop_index('ix_conversation_message_client')

    op.drop_table('conversation_message')
    with op.batch_alter_table('conversation_kf_session', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_kf_session_external_userid')

    op.drop_table('conversation_kf_session')
    op.drop_table('conversation_kf_cursor')
