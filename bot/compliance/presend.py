"""The pre-send check: the one gate every outbound message to a client passes through.

Auto-replies, approved suggestions, pushes, mass sends and welcome messages all call
``check_outbound(request, lexicon=...)`` (or ``PresendGuard.check(request)``, which also records
blocks) and send only when ``decision.allowed``. A message is blocked when

* the lexicon finds a violation (promise of returns, insider tips, asking for passwords, stock calls,
  private payments, doing the risk test for the client, absolute claims), or
* it carries a product risk level above what the recipient's risk rating covers (适当性): R<n> needs
  C<n> or higher; an unrated client covers only ``unrated_max_risk`` (default R1); a message with no
  single recipient (a client group) covers only ``group_max_risk`` (default R1), or
* the request itself is malformed (unknown channel, a risk level that is not R1–R5/C1–C5) or the
  rating lookup fails — the check fails closed.

The decision lists every reason (rule ids, categories, spans); `PresendGuard` writes each blocked
decision to ``outbound_block``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.compliance.lexicon import Hit, Lexicon
from bot.compliance.models import OutboundBlock
from bot.compliance.settings import ComplianceSettings
from bot.compliance.suitability import InvalidRiskLevel, SuitabilityLookup, SuitabilityResult, assess
from bot.db import session_scope

log = logging.getLogger(__name__)

CHANNELS = frozenset({"kf", "app", "mass", "welcome", "sidebar"})


@dataclass(frozen=True, slots=True)
class OutboundRequest:
    channel: str                               # kf | app | mass | welcome | sidebar
    text: str
    recipient: str | None                      # external_userid; None for a client group
    origin: str                                # "auto_reply", "suggestion:123", "campaign:7", "welcome"
    content_version_id: str | int | None = None
    product_risk_level: str | None = None      # R1–R5 when the content presents a product
    client_risk_rating: str | None = None      # C1–C5 if the caller knows it; else looked up


@dataclass(frozen=True, slots=True)
class OutboundDecision:
    allowed: bool
    reasons: tuple[dict[str, Any], ...] = ()   # JSON-ready; see OutboundBlock.reasons
    hits: tuple[Hit, ...] = ()
    lexicon_version: str = ""
    suitability: SuitabilityResult | None = None

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(h.rule for h in self.hits))

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(h.category for h in self.hits))

    @property
    def spans(self) -> tuple[tuple[int, int], ...]:
        return tuple(h.span for h in self.hits)

    def reasons_json(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.reasons]


def check_outbound(request: OutboundRequest, *, lexicon: Lexicon,
                   suitability_lookup: SuitabilityLookup | None = None,
                   unrated_max_risk: str = "R1", group_max_risk: str = "R1") -> OutboundDecision:
    """Decide whether `request` may be sent. Pure: no I/O beyond `suitability_lookup`."""
    reasons: list[dict[str, Any]] = []
    if request.channel not in CHANNELS:
        reasons.append({"kind": "invalid_request", "detail": f"unknown channel {request.channel!r}"})
    if not isinstance(request.text, str):
        reasons.append({"kind": "invalid_request", "detail": "text is not a string"})
        result_hits: tuple[Hit, ...] = ()
    else:
        result_hits = lexicon.check(request.text).hits
    reasons.extend({"kind": "lexicon", **hit.to_dict()} for hit in result_hits)

    suitability = None
    if request.product_risk_level:
        suitability, problem = _suitability(request, suitability_lookup, unrated_max_risk, group_max_risk)
        if problem is not None:
            reasons.append(problem)
        elif not suitability.suitable:
            reasons.append(suitability.reason())
    return OutboundDecision(allowed=not reasons, reasons=tuple(reasons), hits=result_hits,
                            lexicon_version=lexicon.version, suitability=suitability)


def _suitability(request: OutboundRequest, lookup: SuitabilityLookup | None, unrated_max_risk: str,
                 group_max_risk: str) -> tuple[SuitabilityResult | None, dict[str, Any] | None]:
    try:
        if request.recipient is None:  # a group: no single rating covers everyone in it
            result = assess(request.product_risk_level, None, unrated_max_risk=group_max_risk)
            return result, None
        rating = request.client_risk_rating
        if not rating and lookup is not None and not _always_suitable(request.product_risk_level, unrated_max_risk):
            try:
                rating = lookup(request.recipient)
            except Exception:
                log.exception("suitability lookup failed (channel=%s origin=%s)", request.channel, request.origin)
                return None, {"kind": "suitability_lookup_failed",
                              "product_risk_level": request.product_risk_level}
        return assess(request.product_risk_level, rating, unrated_max_risk=unrated_max_risk), None
    except InvalidRiskLevel as exc:
        return None, {"kind": "invalid_risk_level", "detail": str(exc)}


def _always_suitable(product: str, unrated_max_risk: str) -> bool:
    """No lookup needed when even an unrated client may receive this level."""
    return assess(product, None, unrated_max_risk=unrated_max_risk).suitable


@dataclass
class PresendGuard:
    """check_outbound plus a durable record of every block (table outbound_block)."""

    session_factory: sessionmaker[Session]
    lexicon: Lexicon
    clock: Clock
    suitability_lookup: SuitabilityLookup | None = None
    settings: ComplianceSettings = field(default_factory=ComplianceSettings)

    @classmethod
    def from_settings(cls, session_factory: sessionmaker[Session], clock: Clock, settings: ComplianceSettings,
                      suitability_lookup: SuitabilityLookup | None = None) -> "PresendGuard":
        return cls(session_factory, settings.build_lexicon(), clock, suitability_lookup, settings)

    def check(self, request: OutboundRequest) -> OutboundDecision:
        decision = check_outbound(request, lexicon=self.lexicon, suitability_lookup=self.suitability_lookup,
                                  unrated_max_risk=self.settings.unrated_client_max_risk,
                                  group_max_risk=self.settings.group_max_risk)
        if not decision.allowed:
            block_id = self._record(request, decision)
            log.info("outbound blocked id=%s channel=%s origin=%s rules=%s kinds=%s", block_id, request.channel,
                     request.origin, ",".join(decision.rule_ids),
                     ",".join(sorted({r["kind"] for r in decision.reasons})))
        return decision

    def _record(self, request: OutboundRequest, decision: OutboundDecision) -> int:
        text = request.text if isinstance(request.text, str) else repr(request.text)
        row = OutboundBlock(
            at=self.clock.now(), channel=str(request.channel)[:16], recipient=request.recipient,
            origin=str(request.origin)[:128],
            content_version_id=None if request.content_version_id is None else str(request.content_version_id),
            lexicon_version=decision.lexicon_version,
            text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), reasons=decision.reasons_json())
        with session_scope(self.session_factory) as session:
            session.add(row)
            session.flush()
            return row.id

    def recent_blocks(self, *, limit: int = 50, since: datetime | None = None,
                      origin: str | None = None) -> list[dict[str, Any]]:
        """Newest blocks first, as plain dicts (for review consoles and the CLI)."""
        query = select(OutboundBlock).order_by(OutboundBlock.at.desc(), OutboundBlock.id.desc()).limit(limit)
        if since is not None:
            query = query.where(OutboundBlock.at >= since)
        if origin is not None:
            query = query.where(OutboundBlock.origin == origin)
        with session_scope(self.session_factory) as session:
            return [_as_dict(row) for row in session.scalars(query)]


def _as_dict(row: OutboundBlock) -> dict[str, Any]:
    return {"id": row.id, "at": row.at.isoformat(), "channel": row.channel, "recipient": row.recipient,
            "origin": row.origin, "content_version_id": row.content_version_id,
            "lexicon_version": row.lexicon_version, "text_sha256": row.text_sha256, "reasons": row.reasons}


LookupFn = Callable[[str], "str | None"]  # re-exported for callers that type their lookup


def build_presend_guard(runtime) -> PresendGuard:
    """`runtime.services.presend`: the guard every outbound path calls, with the client's CRM rating
    looked up through the contacts service when a request does not carry it."""
    from bot.compliance.settings import ComplianceSettings

    settings = runtime.settings.domain("compliance", ComplianceSettings)
    lookup = None
    if runtime.services.available("contacts"):
        lookup = runtime.services.contacts.risk_level
    return PresendGuard.from_settings(runtime.session_factory, runtime.clock, settings, suitability_lookup=lookup)
