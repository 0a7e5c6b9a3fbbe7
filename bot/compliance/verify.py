"""Verification of the archive's hash chain: `advisor-bot archive verify` and the scheduled job.

Walks chain positions 1..head in order, over archived rows and the tombstones purges left. Reports
the first broken link:
- `missing`: no record and no tombstone at a position (a row was deleted);
- `altered`: a row's fields no longer hash to its stored hash (a row was changed);
- `link`: a row's prev_hash is not the hash of the position before it (rows replaced or re-chained);
- `duplicate`: a position held by both a row and a tombstone;
- `head`: the chain head disagrees with the last position, or rows exist beyond the head;
- `purge_open`: a purge record was committed as still running (it never is by the purge itself; on
  SQLite such a row would let deletes through).
A rewrite of the whole chain by someone holding the database is only caught against a head hash kept
elsewhere: every verification stores the head hash it checked, and every export carries it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, insert, select

from bot.compliance.archive import CANONICAL_FIELDS, record_hash
from bot.compliance.archive_models import (GENESIS_HASH, ArchiveChainHead, ArchiveMessage, ArchivePurge,
                                           ArchiveTombstone, ArchiveVerification)
from bot.db import session_scope

logger = logging.getLogger(__name__)

_M = ArchiveMessage.__table__
_T = ArchiveTombstone.__table__
_H = ArchiveChainHead.__table__
_V = ArchiveVerification.__table__
_P = ArchivePurge.__table__
CHUNK = 5000


@dataclass
class VerifyResult:
    status: str  # ok | broken
    checked: int
    head_seq: int
    head_hash: str
    first_broken_seq: int | None
    reason: str | None
    detail: str | None
    started_at: datetime
    finished_at: datetime

    def as_dict(self) -> dict:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat()
        return data


class _Broken(Exception):
    def __init__(self, seq: int, reason: str, detail: str):
        super().__init__(detail)
        self.seq, self.reason, self.detail = seq, reason, detail


class ArchiveVerifier:
    def __init__(self, session_factory, clock):
        self._session_factory = session_factory
        self._clock = clock

    def verify(self, *, store: bool = True) -> VerifyResult:
        started = self._clock.now()
        checked = 0
        head_seq, head_hash = 0, GENESIS_HASH
        broken: _Broken | None = None
        with session_scope(self._session_factory) as session:
            if session.get_bind().dialect.name == "postgresql":
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            head = session.execute(select(_H.c.last_seq, _H.c.last_hash).where(_H.c.id == 1)).first()
            if head is not None:
                head_seq, head_hash = int(head.last_seq), head.last_hash
            try:
                checked = self._walk(session, head_seq, head_hash)
                stuck = session.scalar(select(func.min(_P.c.id)).where(_P.c.status == "running"))
                if stuck is not None:  # only ever running inside its own transaction: someone wrote this
                    raise _Broken(head_seq + 1, "purge_open",
                                  f"清理记录 {stuck} 处于未完成状态（SQLite 上删除保护失效）")
            except _Broken as exc:
                broken = exc
                checked = exc.seq - 1
        result = VerifyResult("broken" if broken else "ok", checked, head_seq, head_hash,
                              broken.seq if broken else None, broken.reason if broken else None,
                              broken.detail if broken else None, started, self._clock.now())
        if broken:
            logger.error("archive chain broken at seq=%s reason=%s", broken.seq, broken.reason)
        else:
            logger.info("archive chain verified: %d positions, head seq=%d", checked, head_seq)
        if store:
            with session_scope(self._session_factory) as session:
                session.execute(insert(_V).values(
                    status=result.status, checked=result.checked, head_seq=head_seq,
                    first_broken_seq=result.first_broken_seq, reason=result.reason,
                    detail=(result.detail or "") + f" head_hash={head_hash}", started_at=started,
                    finished_at=result.finished_at))
        return result

    def _walk(self, session, head_seq: int, head_hash: str) -> int:
        beyond = session.scalar(select(func.max(_M.c.chain_seq)))
        prev = GENESIS_HASH
        seq = 0
        cols = [_M.c[name] for name in CANONICAL_FIELDS] + [_M.c.prev_hash, _M.c.hash]
        for lo in range(1, head_seq + 1, CHUNK):
            hi = min(lo + CHUNK, head_seq + 1)
            rows = {r.chain_seq: r for r in session.execute(
                select(*cols).where(_M.c.chain_seq >= lo, _M.c.chain_seq < hi)).mappings()}
            tombs = {t.chain_seq: t for t in session.execute(
                select(_T.c.chain_seq, _T.c.hash, _T.c.prev_hash).where(_T.c.chain_seq >= lo, _T.c.chain_seq < hi))}
            for seq in range(lo, hi):
                row, tomb = rows.get(seq), tombs.get(seq)
                if row is not None and tomb is not None:
                    raise _Broken(seq, "duplicate", f"链位置 {seq} 既有记录又有清理墓碑")
                if row is None and tomb is None:
                    raise _Broken(seq, "missing", f"链位置 {seq} 的记录缺失（被删除）")
                if tomb is not None:
                    if tomb.prev_hash != prev:
                        raise _Broken(seq, "link", f"已清理的链位置 {seq} 与位置 {seq - 1} 不衔接")
                    prev = tomb.hash
                    continue
                if row["prev_hash"] != prev:
                    raise _Broken(seq, "link", f"链位置 {seq} 的记录与位置 {seq - 1} 不衔接（被替换或重排）")
                if record_hash(row, row["prev_hash"]) != row["hash"]:
                    raise _Broken(seq, "altered", f"链位置 {seq} 的记录被修改（哈希不符）")
                prev = row["hash"]
        if prev != head_hash:
            raise _Broken(head_seq or 1, "head", "链头与最后一条记录不符")
        if beyond is not None and beyond > head_seq:
            raise _Broken(head_seq + 1, "head", f"链头之后存在记录（至 {beyond}）")
        return head_seq

    def last_result(self) -> dict | None:
        """The most recent stored verification (for the console)."""
        with session_scope(self._session_factory) as session:
            row = session.execute(select(_V).order_by(_V.c.id.desc()).limit(1)).mappings().first()
            return dict(row) if row else None


def build_verifier(runtime) -> ArchiveVerifier:
    return ArchiveVerifier(runtime.session_factory, runtime.clock)
