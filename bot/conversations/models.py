"""Conversation models: kf cursors and sessions, messages in and out, suggestions and their history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime

_ID = BigInteger().with_variant(Integer, "sqlite")

KF, ARCHIVE = "kf", "archive"
IN, OUT = "in", "out"
BOT, HUMAN = "bot", "human"

# Suggestion states. created -> pending (an advisor decides) | approved (the bot decided)
# pending -> approved | rejected | expired; approved -> sending -> sent | failed (| approved on a
# retryable error); archive chats: approved -> ready_for_sidebar -> sent (seen in the archive).
CREATED, PENDING, APPROVED, SENDING, SENT = "created", "pending", "approved", "sending", "sent"
READY_FOR_SIDEBAR, REJECTED, EXPIRED, FAILED, HANDED_OFF = (
    "ready_for_sidebar", "rejected", "expired", "failed", "handed_off")
OPEN_STATES = (CREATED, PENDING, APPROVED, SENDING)


class KfCursor(Base):
    """The sync_msg cursor of one 微信客服 account."""

    __tablename__ = "conversation_kf_cursor"

    open_kfid: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(255), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class KfSession(Base):
    """What we know of one client's kf session: who answers it and WeCom's reply budget."""

    __tablename__ = "conversation_kf_session"

    open_kfid: Mapped[str] = mapped_column(String(64), primary_key=True)
    external_userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8), default=BOT)
    servicer_userid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_client_msg_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    replies_since_client_msg: Mapped[int] = mapped_column(Integer, default=0)
    # Set when the client was told a person will answer; cleared when a reply is sent.
    holding_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    notices_sent: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_conversation_kf_session_external_userid", "external_userid"),)


class ConversationMessage(Base):
    """Every message in and out of a client conversation (kf and archived one-to-one chats)."""

    __tablename__ = "conversation_message"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    msgid: Mapped[str] = mapped_column(String(128))
    direction: Mapped[str] = mapped_column(String(8))
    origin: Mapped[int | None] = mapped_column(Integer, nullable=True)  # kf: 3 client, 4 system, 5 servicer
    open_kfid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    external_userid: Mapped[str] = mapped_column(String(64))
    userid: Mapped[str | None] = mapped_column(String(64), nullable=True)  # advisor / servicer / bot
    msgtype: Mapped[str] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    event: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    suggestion_id: Mapped[int | None] = mapped_column(_ID, nullable=True)

    __table_args__ = (
        UniqueConstraint("channel", "msgid", name="uq_conversation_message_channel_msgid"),
        Index("ix_conversation_message_unprocessed", "channel", "processed_at"),
        Index("ix_conversation_message_client", "external_userid", "sent_at"),
    )


class Suggestion(Base):
    """A client's question, what the matcher proposed, what was decided and what was sent."""

    __tablename__ = "suggestion"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    source_message_id: Mapped[int] = mapped_column(ForeignKey("conversation_message.id"), unique=True)
    external_userid: Mapped[str] = mapped_column(String(64))
    open_kfid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    advisor_userid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    question: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(32), nullable=True)
    candidates: Mapped[list] = mapped_column(JSON, default=list)
    content_version_id: Mapped[int | None] = mapped_column(_ID, nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    confident: Mapped[bool] = mapped_column(Boolean, default=False)
    proposed_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    edited_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    decision: Mapped[str] = mapped_column(String(16))  # auto | route | handoff
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(20))
    card_task_id: Mapped[str | None] = mapped_column(String(128), nullable=True, unique=True)
    card_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    card_response_code: Mapped[str | None] = mapped_column(String(255), nullable=True)
    card_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    send_msgid: Mapped[str | None] = mapped_column(String(32), nullable=True)
    wecom_msgid: Mapped[str | None] = mapped_column(String(128), nullable=True)
    sending_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    send_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(255), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_suggestion_state", "state"),
        Index("ix_suggestion_advisor_state", "advisor_userid", "state"),
    )

    @property
    def final_text(self) -> str | None:
        return self.edited_text if self.edited_text is not None else self.proposed_text


class SuggestionEvent(Base):
    """Who changed a suggestion, when, and to what (created, approved, edited, rejected, ...)."""

    __tablename__ = "suggestion_event"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestion.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (Index("ix_suggestion_event_suggestion_id", "suggestion_id"),)
