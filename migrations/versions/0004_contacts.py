"""contacts: members, contacts, owners, CRM data, tags, WeCom tag mirror, transfers

Revision ID: 0004_contacts
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa
import bot.db


revision = '0004_contacts'
down_revision = '0001_foundation'
branch_labels = ('contacts',)
depends_on = None


def upgrade() -> None:
    op.create_table('client_activity',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('client_no', sa.String(length=32), nullable=False),
    sa.Column('external_userid', sa.String(length=64), nullable=True),
    sa.Column('trade_date', sa.Date(), nullable=False),
    sa.Column('import_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_activity')),
    sa.UniqueConstraint('client_no', 'trade_date', name='uq_client_activity_client_date')
    )
    op.create_index(op.f('ix_client_activity_external_userid'), 'client_activity', ['external_userid'], unique=False)
    op.create_index('ix_client_activity_trade_date', 'client_activity', ['trade_date'], unique=False)
    op.create_table('contact',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('external_userid', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=True),
    sa.Column('seen_in_wecom', sa.Boolean(), nullable=False),
    sa.Column('inherited', sa.Boolean(), nullable=False),
    sa.Column('refresh_needed', sa.Boolean(), nullable=False),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact')),
    sa.UniqueConstraint('external_userid', name=op.f('uq_contact_external_userid'))
    )
    op.create_table('contact_member',
    sa.Column('userid', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('resigned_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('updated_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('userid', name=op.f('pk_contact_member'))
    )
    op.create_table('contact_tag',
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tag_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('contact_id', 'tag_id', name=op.f('pk_contact_tag'))
    )
    op.create_index('ix_contact_tag_tag_id', 'contact_tag', ['tag_id'], unique=False)
    op.create_table('contact_tag_synced',
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('userid', sa.String(length=64), nullable=False),
    sa.Column('tag_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('contact_id', 'userid', 'tag_id', name=op.f('pk_contact_tag_synced'))
    )
    op.create_table('contact_transfer',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('external_userid', sa.String(length=64), nullable=False),
    sa.Column('handover_userid', sa.String(length=64), nullable=False),
    sa.Column('takeover_userid', sa.String(length=64), nullable=False),
    sa.Column('resigned', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('errcode', sa.Integer(), nullable=True),
    sa.Column('rule', sa.String(length=32), nullable=False),
    sa.Column('requested_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('takeover_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rerouted', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_transfer'))
    )
    op.create_index('ix_contact_transfer_external_requested', 'contact_transfer', ['external_userid', 'requested_at'], unique=False)
    op.create_index('ix_contact_transfer_status', 'contact_transfer', ['status'], unique=False)
    op.create_table('crm_client',
    sa.Column('client_no', sa.String(length=32), nullable=False),
    sa.Column('external_userid', sa.String(length=64), nullable=True),
    sa.Column('owner_userid', sa.String(length=64), nullable=True),
    sa.Column('total_assets', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('securities_value', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('cash_balance', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('last_trade_date', sa.Date(), nullable=True),
    sa.Column('trades_12m', sa.Integer(), nullable=True),
    sa.Column('risk_level', sa.String(length=2), nullable=True),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('open_date', sa.Date(), nullable=True),
    sa.Column('first_deposit_date', sa.Date(), nullable=True),
    sa.Column('import_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('client_no', name=op.f('pk_crm_client')),
    sa.UniqueConstraint('external_userid', name=op.f('uq_crm_client_external_userid'))
    )
    op.create_table('crm_import',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('started_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rows_ok', sa.Integer(), nullable=False),
    sa.Column('rows_bad', sa.Integer(), nullable=False),
    sa.Column('activities', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_import'))
    )
    op.create_table('tag_group',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=30), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('sync', sa.Boolean(), nullable=False),
    sa.Column('wecom_group_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag_group')),
    sa.UniqueConstraint('name', name=op.f('uq_tag_group_name')),
    sa.UniqueConstraint('wecom_group_id', name=op.f('uq_tag_group_wecom_group_id'))
    )
    op.create_table('contact_follow',
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('userid', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('added_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=32), nullable=True),
    sa.Column('state', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_contact_follow_contact_id_contact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contact_id', 'userid', name=op.f('pk_contact_follow'))
    )
    op.create_index('ix_contact_follow_userid_status', 'contact_follow', ['userid', 'status'], unique=False)
    op.create_table('owner_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_userid', sa.String(length=64), nullable=True),
    sa.Column('to_userid', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('transfer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_owner_history_contact_id_contact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_owner_history'))
    )
    op.create_index(op.f('ix_owner_history_contact_id'), 'owner_history', ['contact_id'], unique=False)
    op.create_table('tag',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=30), nullable=False),
    sa.Column('wecom_tag_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['tag_group.id'], name=op.f('fk_tag_group_id_tag_group'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag')),
    sa.UniqueConstraint('group_id', 'name', name='uq_tag_group_id_name'),
    sa.UniqueConstraint('wecom_tag_id', name=op.f('uq_tag_wecom_tag_id'))
    )


def downgrade() -> None:
    op.drop_table('tag')
    op.drop_index(op.f('ix_owner_history_contact_id'), table_name='owner_history')
    op.drop_table('owner_history')
    op.drop_index('ix_contact_follow_userid_status', table_name='contact_follow')
    op.drop_table('contact_follow')
    op.drop_table('tag_group')
    op.drop_table('crm_import')
    op.drop_table('crm_client')
    op.drop_index('ix_contact_transfer_status', table_name='contact_transfer')
    op.drop_index('ix_contact_transfer_external_requested', table_name='contact_transfer')
    op.drop_table('contact_transfer')
    op.drop_table('contact_tag_synced')
    op.drop_index('ix_contact_tag_tag_id', table_name='contact_tag')
    op.drop_table('contact_tag')
    op.drop_table('contact_member')
    op.drop_table('contact')
    op.drop_index('ix_client_activity_trade_date', table_name='client_activity')
    op.drop_index(op.f('ix_client_activity_external_userid'), table_name='client_activity')
    op.drop_table('client_activity')
