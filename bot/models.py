"""Foundation models: the durable inbox of WeCom callbacks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime

# Inbox row states. pending -> processing -> done; failures go back to pending with a later
# available_at until max_attempts, then dead (the dead-letter state).
PENDING, PROCESSING, DONE, DEAD = "pending", "processing", "done", "dead"


class InboxEvent(Base):
    __tablename__ = "inbox_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    app: Mapped[str] = mapped_column(String(64))
    # e.g. "event:change_external_contact" or "msg:text"
    kind: Mapped[str] = mapped_column(String(96))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[str] = mapped_column(Text)  # the decrypted XML, verbatim
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_inbox_event_status_available", "status", "available_at"),)


class HandledEvent(Base):
    """The exactly-once ledger: written in the same transaction as a handler's database effects."""

    __tablename__ = "handled_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    inbox_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    handler: Mapped[str] = mapped_column(String(128))
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("inbox_id", "handler", name="uq_handled_event_inbox_handler"),)
