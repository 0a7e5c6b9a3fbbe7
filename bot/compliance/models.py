"""Compliance models owned by the pre-send check: the record of every blocked outbound message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class OutboundBlock(Base):
    """One outbound message the pre-send check refused, and why.

    The message text itself is not kept here (the archive keeps conversations); `text_sha256`
    ties the block to it, and `reasons` holds the offending fragments with their spans.
    """

    __tablename__ = "outbound_block"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    channel: Mapped[str] = mapped_column(String(16))          # kf | app | mass | welcome | sidebar
    recipient: Mapped[str | None] = mapped_column(String(128), nullable=True)  # external_userid; None = group
    origin: Mapped[str] = mapped_column(String(128))          # auto_reply | suggestion:123 | campaign:7 ...
    content_version_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lexicon_version: Mapped[str] = mapped_column(String(64))
    text_sha256: Mapped[str] = mapped_column(String(64))
    # [{"kind": "lexicon", "rule", "category", "severity", "span": [s, e], "text"} |
    #  {"kind": "suitability", "product_risk_level", "client_risk_rating", "max_allowed"} | ...]
    reasons: Mapped[list] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_outbound_block_at", "at"),
        Index("ix_outbound_block_origin", "origin"),
    )
