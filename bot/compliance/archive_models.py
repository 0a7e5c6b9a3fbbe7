"""Models of the conversation archive, surveillance alerts, review trail, legal holds and retention.

`archive_message` is append-only: rows are never updated, and deleted only by a retention purge
(PostgreSQL and SQLite triggers refuse anything else, see migration 0005). Every row carries
`hash = sha256(canonical fields + prev_hash)` at a gap-free chain position `chain_seq`; a purged row
leaves an `archive_tombstone` (seq, hash, prev_hash) so the chain stays verifiable after a purge.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint, func, literal_column
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime

_ID = BigInteger().with_variant(Integer, "sqlite")

CHANNELS = ("kf", "app", "mass", "chat")  # 微信客服, app messages, 企业群发, 会话内容存档 (advisors' own chats)
INBOUND, OUTBOUND = "inbound", "outbound"
DIRECTIONS = (INBOUND, OUTBOUND)
GENESIS_HASH = "0" * 64

# Alert lifecycle: open -> claimed -> closed; escalated alerts wait for a senior officer to claim them;
# a closed alert can be reopened (it goes back to open).
OPEN, CLAIMED, ESCALATED, CLOSED = "open", "claimed", "escalated", "closed"
ALERT_STATUSES = (OPEN, CLAIMED, ESCALATED, CLOSED)
DISPOSITIONS = ("violation", "false_positive", "no_action")


class ArchiveMessage(Base):
    __tablename__ = "archive_message"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    chain_seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8))
    sender: Mapped[str] = mapped_column(String(128))
    receiver: Mapped[str] = mapped_column(Text)  # one id, a room id, or a comma-separated list
    external_userid: Mapped[str | None] = mapped_column(String(128), nullable=True)
    userid: Mapped[str | None] = mapped_column(String(128), nullable=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    msgid: Mapped[str | None] = mapped_column(String(128), nullable=True)
    msgtype: Mapped[str] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(Text)
    # jieba tokens of the content, space separated: the full-text index is built over this column.
    tokens: Mapped[str] = mapped_column(Text)
    suggestion_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    content_version_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    origin: Mapped[str | None] = mapped_column(String(64), nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("channel", "msgid", name="uq_archive_message_channel_msgid"),
        Index("ix_archive_message_sent_at", "sent_at"),
        Index("ix_archive_message_external_userid_sent_at", "external_userid", "sent_at"),
        Index("ix_archive_message_userid_sent_at", "userid", "sent_at"),
        # Full-text search on PostgreSQL (SQLite uses an FTS5 table, see bot.compliance.search).
        Index("ix_archive_message_tokens_fts", func.to_tsvector(literal_column("'simple'"), literal_column("tokens")),
              postgresql_using="gin").ddl_if(dialect="postgresql"),
    )


class ArchiveChainHead(Base):
    """One row (id=1): the last chain position and hash. Writers serialise on it."""

    __tablename__ = "archive_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ArchiveTombstone(Base):
    """What remains of a purged record: its chain position and hashes, never its content."""

    __tablename__ = "archive_tombstone"

    chain_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    purge_id: Mapped[int] = mapped_column(_ID)


class ArchivePurge(Base):
    """One retention purge: who, why, what range and how many (never contents)."""

    __tablename__ = "archive_purge"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # running (inside its transaction only) | done
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    cutoff: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    purged_count: Mapped[int] = mapped_column(BigInteger, default=0)
    held_count: Mapped[int] = mapped_column(BigInteger, default=0)
    open_alert_count: Mapped[int] = mapped_column(BigInteger, default=0)
    first_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    first_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # sha256 over the purged (seq, hash) pairs in order: the checkpoint the chain continues from.
    checkpoint_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ArchiveVerification(Base):
    __tablename__ = "archive_verification"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # ok | broken
    checked: Mapped[int] = mapped_column(BigInteger)
    head_seq: Mapped[int] = mapped_column(BigInteger)
    first_broken_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ArchivePullCursor(Base):
    """Where the session-archive pull stopped: the last stored seq, committed with the messages."""

    __tablename__ = "archive_pull_cursor"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ArchiveLegalHold(Base):
    __tablename__ = "archive_legal_hold"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    external_userid: Mapped[str | None] = mapped_column(String(128), nullable=True)
    userid: Mapped[str | None] = mapped_column(String(128), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(128))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    released_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    release_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_archive_legal_hold_external_userid", "external_userid"),
        Index("ix_archive_legal_hold_userid", "userid"),
    )


class ArchiveAlert(Base):
    """A surveillance hit on an archived message (one per message and rule)."""

    __tablename__ = "archive_alert"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    message_id: Mapped[int] = mapped_column(_ID)
    chain_seq: Mapped[int] = mapped_column(BigInteger)
    rule: Mapped[str] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    span_start: Mapped[int] = mapped_column(Integer)
    span_end: Mapped[int] = mapped_column(Integer)
    hit_text: Mapped[str] = mapped_column(String(512))
    # Copied from the message so the queue filters without a join.
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8))
    userid: Mapped[str | None] = mapped_column(String(128), nullable=True)
    external_userid: Mapped[str | None] = mapped_column(String(128), nullable=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(128), nullable=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    disposition: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        UniqueConstraint("message_id", "rule", name="uq_archive_alert_message_rule"),
        Index("ix_archive_alert_status_severity", "status", "severity"),
        Index("ix_archive_alert_sent_at", "sent_at"),
    )


class ArchiveScreenCursor(Base):
    """How far post-hoc surveillance has screened the chain."""

    __tablename__ = "archive_screen_cursor"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ArchiveAudit(Base):
    """Who did what, when: review actions, holds, purges, exports. Append-only by code path."""

    __tablename__ = "archive_audit"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    subject: Mapped[str] = mapped_column(String(16))  # alert | hold | purge | export
    subject_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    detail: Mapped[str] = mapped_column(Text)  # JSON

    __table_args__ = (Index("ix_archive_audit_subject", "subject", "subject_id"),)
