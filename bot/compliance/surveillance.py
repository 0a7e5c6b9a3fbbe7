"""Post-hoc surveillance: screen archived messages with the compliance lexicon; hits become alerts.

Screening walks the chain from where it stopped (`archive_screen_cursor`), so every archived message
is screened once, including what advisors typed in their own WeCom chats. One alert per message and
rule (idempotent: re-screening creates nothing new). The cursor moves in the alerts' transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.compliance.archive_models import OPEN, ArchiveAlert, ArchiveMessage, ArchiveScreenCursor
from bot.db import session_scope

logger = logging.getLogger(__name__)
_M = ArchiveMessage.__table__
_A = ArchiveAlert.__table__
_C = ArchiveScreenCursor.__table__
CURSOR = "lexicon"


class SurveillanceService:
    def __init__(self, session_factory, clock, checker: Callable[[str], object], *, batch: int = 500,
                 directions: tuple[str, ...] = ("outbound",)):
        """`checker(text)` returns a result with `.hits` (rule, category, severity, span, text)."""
        self._session_factory = session_factory
        self._clock = clock
        self._check = checker
        self._batch = batch
        self._directions = directions

    def screen_new(self, *, max_batches: int | None = None) -> dict:
        screened = alerts = batches = 0
        while max_batches is None or batches < max_batches:
            n, a = self._screen_batch()
            screened += n
            alerts += a
            batches += 1
            if n < self._batch:
                break
        if screened:
            logger.info("surveillance screened %d messages, %d new alerts", screened, alerts)
        return {"screened": screened, "alerts": alerts}

    def _screen_batch(self) -> tuple[int, int]:
        now = self._clock.now()
        with session_scope(self._session_factory) as session:
            dialect = session.get_bind().dialect.name
            ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
            session.execute(ins(_C).values(name=CURSOR, last_seq=0, updated_at=now)
                            .on_conflict_do_nothing(index_elements=["name"]))
            cur = select(_C.c.last_seq).where(_C.c.name == CURSOR)
            last = session.scalar(cur.with_for_update() if dialect == "postgresql" else cur)
            rows = session.execute(select(_M.c.id, _M.c.chain_seq, _M.c.content, _M.c.channel, _M.c.direction,
                                          _M.c.userid, _M.c.external_userid, _M.c.sent_at)
                                   .where(_M.c.chain_seq > last).order_by(_M.c.chain_seq).limit(self._batch)).all()
            if not rows:
                return 0, 0
            values = []
            for row in rows:
                if row.direction not in self._directions or not row.content:
                    continue
                seen: set[str] = set()
                for hit in self._check(row.content).hits:
                    if hit.rule in seen:
                        continue
                    seen.add(hit.rule)
                    values.append({"message_id": row.id, "chain_seq": row.chain_seq, "rule": hit.rule,
                                   "category": hit.category, "severity": hit.severity,
                                   "span_start": int(hit.span[0]), "span_end": int(hit.span[1]),
                                   "hit_text": str(hit.text)[:512], "channel": row.channel,
                                   "direction": row.direction, "userid": row.userid,
                                   "external_userid": row.external_userid, "sent_at": row.sent_at,
                                   "status": OPEN, "escalation_level": 0, "created_at": now, "updated_at": now})
            created = 0
            if values:
                result = session.execute(ins(_A).on_conflict_do_nothing(
                    index_elements=["message_id", "rule"]).returning(_A.c.id), values)
                created = len(result.all())
            session.execute(update(_C).where(_C.c.name == CURSOR)
                            .values(last_seq=rows[-1].chain_seq, updated_at=now))
            return len(rows), created


def lexicon_checker(settings, *, semantic: bool = False) -> Callable[[str], object]:
    """The configured lexicon's check; with `semantic`, the pre-send check's full configured checker
    (rules, then the semantic second stage when [compliance].semantic_enabled)."""
    from bot.compliance.lexicon import Lexicon
    from bot.compliance.settings import ComplianceSettings

    compliance = settings.domain("compliance", ComplianceSettings)
    if semantic:
        return compliance.build_lexicon().check
    return Lexicon.load(compliance.lexicon_file).check


def build_surveillance(runtime) -> SurveillanceService:
    from bot.compliance.archive_settings import archive_settings

    cfg = archive_settings(runtime.settings)
    return SurveillanceService(runtime.session_factory, runtime.clock,
                               lexicon_checker(runtime.settings, semantic=cfg.screen_semantic),
                               batch=cfg.screen_batch, directions=tuple(cfg.screen_directions))
