"""Contacts domain models: members, external contacts and their owners, CRM data, tags, transfers.

Keys: a contact has an integer `id` (used by the big tables: contact_tag, contact_tag_synced) and the
WeCom `external_userid` (unique). CRM rows are keyed by the brokerage's `client_no` and point at a
contact by `external_userid` (one CRM client per WeCom contact).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (BigInteger, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime

BIGID = BigInteger().with_variant(Integer, "sqlite")
MONEY = Numeric(18, 2)

# Member roles and states.
ROLE_ADVISOR, ROLE_CENTRAL, ROLE_COMPLIANCE, ROLE_ADMIN, ROLE_OTHER = (
    "advisor", "central_ops", "compliance", "admin", "other")
ROLES = (ROLE_ADVISOR, ROLE_CENTRAL, ROLE_COMPLIANCE, ROLE_ADMIN, ROLE_OTHER)

# Follow (member <-> contact) states and why a relation ended.
FOLLOW_ACTIVE, FOLLOW_HALF, FOLLOW_ENDED = "active", "half", "ended"

# Transfer states. requested: row written, WeCom not yet answered; waiting: WeCom accepted (24 h);
# succeeded / refused (3) / limit (4) / no_record (5) / rejected (per-client errcode on the call) are final.
T_REQUESTED, T_WAITING, T_SUCCEEDED = "requested", "waiting", "succeeded"
T_REFUSED, T_LIMIT, T_NO_RECORD, T_REJECTED = "refused", "limit", "no_record", "rejected"
T_OPEN = (T_REQUESTED, T_WAITING)
T_FAILED = (T_REFUSED, T_LIMIT)


class Member(Base):
    """A member of the corp (企业成员): advisors, the central operations account, compliance, admins."""

    __tablename__ = "contact_member"

    userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    role: Mapped[str] = mapped_column(String(16), default=ROLE_ADVISOR)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    resigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: the [contacts] default
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Contact(Base):
    """An external contact (外部联系人/客户) as WeCom knows it, or as announced by the CRM."""

    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    external_userid: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # seen_in_wecom: False while only the CRM mentions this contact.
    seen_in_wecom: Mapped[bool] = mapped_column(Boolean, default=False)
    inherited: Mapped[bool] = mapped_column(Boolean, default=False)
    refresh_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Follow(Base):
    """One owner (follow user) of a contact. A contact may have several."""

    __tablename__ = "contact_follow"

    contact_id: Mapped[int] = mapped_column(BIGID, ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True)
    userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(8), default=FOLLOW_ACTIVE)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # why it ended: del_external_contact (member deleted client), del_follow_user (client deleted member),
    # transfer (DELETE_BY_TRANSFER or a finished transfer), resync (gone from WeCom)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    state: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (Index("ix_contact_follow_userid_status", "userid", "status"),)


class OwnerHistory(Base):
    """Every change of a contact's owners, oldest first: adds, deletions, transfers."""

    __tablename__ = "owner_history"

    id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    contact_id: Mapped[int] = mapped_column(BIGID, ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    from_userid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    to_userid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(String(32))
    transfer_id: Mapped[int | None] = mapped_column(BIGID, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class CrmClient(Base):
    """The brokerage CRM's view of a client, as of the last import that mentioned it."""

    __tablename__ = "crm_client"

    client_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_userid: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    owner_userid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    total_assets: Mapped[Decimal | None] = mapped_column(MONEY, nullable=True)
    securities_value: Mapped[Decimal | None] = mapped_column(MONEY, nullable=True)
    cash_balance: Mapped[Decimal | None] = mapped_column(MONEY, nullable=True)
    last_trade_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    trades_12m: Mapped[int | None] = mapped_column(Integer, nullable=True)
    risk_level: Mapped[str | None] = mapped_column(String(2), nullable=True)
    birth_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    open_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    first_deposit_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    import_id: Mapped[int] = mapped_column(BIGID)


class CrmImport(Base):
    __tablename__ = "crm_import"

    id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rows_ok: Mapped[int] = mapped_column(Integer, default=0)
    rows_bad: Mapped[int] = mapped_column(Integer, default=0)
    activities: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="running")


class ClientActivity(Base):
    """A trade seen by the CRM import: last_trade_date advanced between two imports."""

    __tablename__ = "client_activity"

    id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    client_no: Mapped[str] = mapped_column(String(32))
    external_userid: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    trade_date: Mapped[date] = mapped_column(Date)
    import_id: Mapped[int] = mapped_column(BIGID)

    __table_args__ = (UniqueConstraint("client_no", "trade_date", name="uq_client_activity_client_date"),
                      Index("ix_client_activity_trade_date", "trade_date"))


class TagGroup(Base):
    __tablename__ = "tag_group"

    id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    name: Mapped[str] = mapped_column(String(30), unique=True)
    # rule: computed by tag_rules; inheritance: provenance of inherited clients; wecom: seen in WeCom only
    kind: Mapped[str] = mapped_column(String(16), default="rule")
    sync: Mapped[bool] = mapped_column(Boolean, default=True)
    wecom_group_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)


class Tag(Base):
    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    group_id: Mapped[int] = mapped_column(BIGID, ForeignKey("tag_group.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(30))
    wecom_tag_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)

    __table_args__ = (UniqueConstraint("group_id", "name", name="uq_tag_group_id_name"),)


class ContactTag(Base):
    """A tag the bot holds on a contact (desired state). source: rule | inheritance | manual."""

    __tablename__ = "contact_tag"

    contact_id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    tag_id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    source: Mapped[str] = mapped_column(String(16), default="rule")

    __table_args__ = (Index("ix_contact_tag_tag_id", "tag_id"),)


class ContactTagSynced(Base):
    """What the bot last set in WeCom for (contact, owner, tag): the other side of the mark_tag diff."""

    __tablename__ = "contact_tag_synced"

    contact_id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    tag_id: Mapped[int] = mapped_column(BIGID, primary_key=True)


class Transfer(Base):
    """One client in one customer-inheritance request (在职/离职继承)."""

    __tablename__ = "contact_transfer"

    id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    external_userid: Mapped[str] = mapped_column(String(64))
    handover_userid: Mapped[str] = mapped_column(String(64))
    takeover_userid: Mapped[str] = mapped_column(String(64))
    resigned: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=T_REQUESTED)
    errcode: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rule: Mapped[str] = mapped_column(String(32), default="manual")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    takeover_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # set once a failed transfer has been routed on (to the next advisor or the central pool)
    rerouted: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_contact_transfer_external_requested", "external_userid", "requested_at"),
                      Index("ix_contact_transfer_status", "status"))
