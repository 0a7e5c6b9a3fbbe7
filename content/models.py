"""Content library models: items, their immutable versions, stored embeddings, index generation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime

KINDS = ("faq", "article", "education", "video", "product_note", "script")
RISK_LEVELS = ("R1", "R2", "R3", "R4", "R5")
# A version moves draft -> submitted -> approved -> retired; a rejected submission goes back to draft.
DRAFT, SUBMITTED, APPROVED, RETIRED = "draft", "submitted", "approved", "retired"
STATUSES = (DRAFT, SUBMITTED, APPROVED, RETIRED)

_ID = BigInteger().with_variant(Integer, "sqlite")


class ContentItem(Base):
    """A stable identity (slug) for a piece of content; what it says lives in its versions."""

    __tablename__ = "content_item"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    slug: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The newest version, whatever its status; the live one is the approved one.
    latest_version_id: Mapped[int | None] = mapped_column(_ID, nullable=True)
    live_version_id: Mapped[int | None] = mapped_column(_ID, nullable=True)


class ContentVersion(Base):
    """One immutable revision of an item. Sent messages record ``ContentVersion.id``."""

    __tablename__ = "content_version"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_item.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    questions: Mapped[list] = mapped_column(JSON, default=list)
    topics: Mapped[list] = mapped_column(JSON, default=list)
    segments: Mapped[list] = mapped_column(JSON, default=list)
    risk_level: Mapped[str | None] = mapped_column(String(2), nullable=True)
    url: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    auto_reply_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    retired_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        UniqueConstraint("item_id", "number", name="uq_content_version_item_number"),
        Index("ix_content_version_status", "status"),
    )


class ContentEmbedding(Base):
    """Passage vectors of one version under one embedding backend, so start-up never re-embeds."""

    __tablename__ = "content_embedding"

    version_id: Mapped[int] = mapped_column(ForeignKey("content_version.id", ondelete="CASCADE"),
                                            primary_key=True)
    backend: Mapped[str] = mapped_column(String(160), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    dim: Mapped[int] = mapped_column(Integer)
    vectors: Mapped[bytes] = mapped_column(LargeBinary)  # float32, row-major (rows, dim)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ContentIndexState(Base):
    """One row; ``generation`` is bumped in the same transaction as any change to the library,
    so every worker process notices before its next search."""

    __tablename__ = "content_index_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
