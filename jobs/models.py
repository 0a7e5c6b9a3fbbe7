"""Campaign models: campaigns, their members (treated/control arms), runs, WeCom tasks and pushes.

The APScheduler job table (`apscheduler_jobs`) is created by APScheduler itself and deliberately not
part of Base.metadata.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, BigInteger, Date, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime

_ID = BigInteger().with_variant(Integer, "sqlite")

# Campaign states
DRAFT, ACTIVE, PAUSED, ENDED = "draft", "active", "paused", "ended"
CAMPAIGN_STATUSES = (DRAFT, ACTIVE, PAUSED, ENDED)
# Arms
TREATED, CONTROL = "treated", "control"
# Member / push states
PLANNED, HELD_OUT, SKIPPED, QUEUED = "planned", "held_out", "skipped", "queued"
SENT, NOT_FRIEND, ALREADY_RECEIVED, UNCONFIRMED, FAILED = (
    "sent", "not_friend", "already_received", "unconfirmed", "failed")
# Pushes that count against a client's budget: waiting for the advisor's confirmation, or delivered.
# (not_friend / already_received / unconfirmed / failed never reached the client)
BUDGET_STATUSES = (QUEUED, SENT)


class Campaign(Base):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(32))
    segment_expr: Mapped[str] = mapped_column(Text)
    content_ref: Mapped[str] = mapped_column(String(160))
    channel: Mapped[str] = mapped_column(String(16), default="single")
    chat_ids: Mapped[list] = mapped_column(JSON, default=list)
    group_sender: Mapped[str | None] = mapped_column(String(64), nullable=True)
    timing: Mapped[dict] = mapped_column(JSON, default=dict)
    holdout_share: Mapped[float] = mapped_column(Float)
    product_risk_level: Mapped[str | None] = mapped_column(String(2), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    starts_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CampaignMember(Base):
    """One client in one campaign. Control members are recorded and never contacted."""

    __tablename__ = "campaign_member"

    # No foreign key: members are inserted a million at a time and PostgreSQL checks a foreign key
    # with one trigger call per row (12.7 of 35 s in the benchmark). Campaigns are never deleted.
    campaign_id: Mapped[int] = mapped_column(_ID, primary_key=True)
    external_userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    arm: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20))
    skip_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    step: Mapped[int] = mapped_column(Integer, default=0)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)



class CampaignRun(Base):
    """One firing of a campaign; (campaign, fire_key) is unique so a firing happens once."""

    __tablename__ = "campaign_run"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    fire_key: Mapped[str] = mapped_column(String(64))
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (UniqueConstraint("campaign_id", "fire_key", name="uq_campaign_run_campaign_fire_key"),)


class CampaignTask(Base):
    """One add_msg_template call (one sender, ≤10,000 recipients) and its tracking state."""

    __tablename__ = "campaign_task"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("campaign_run.id", ondelete="CASCADE"))
    sender: Mapped[str] = mapped_column(String(64))
    chat_type: Mapped[str] = mapped_column(String(8))
    content_version_id: Mapped[int | None] = mapped_column(_ID, nullable=True)
    msgid: Mapped[str | None] = mapped_column(String(128), nullable=True)
    recipient_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    remind_count: Mapped[int] = mapped_column(Integer, default=0)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_campaign_task_status", "status"),)


class CampaignPush(Base):
    """One client in one task: the per-client delivery status and the budget ledger.
    Bulk-written like campaign_member, so without per-row foreign key triggers."""

    __tablename__ = "campaign_push"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(_ID)
    run_id: Mapped[int] = mapped_column(_ID)
    task_id: Mapped[int | None] = mapped_column(_ID, nullable=True)
    external_userid: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    pushed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("run_id", "external_userid", name="uq_campaign_push_run_external_userid"),
        Index("ix_campaign_push_client_time", "external_userid", "pushed_at"),
        Index("ix_campaign_push_task", "task_id"),
    )
