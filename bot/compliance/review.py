"""The review workflow over surveillance alerts: queue, claim, comment, close, escalate, reopen.

Every action is written to the audit trail (who, when, what) in the same transaction as the change.
States: open -> claimed (by one officer) -> closed (with a disposition); open/claimed -> escalated
(waits for a senior officer to claim it); closed -> open again on reopen. Conditional updates make
two officers racing for one alert safe: one wins, the other gets a clear error.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import case, func, select, update

from bot.compliance.archive_audit import audit_trail, check_actor, write_audit
from bot.compliance.archive_models import (ALERT_STATUSES, CLAIMED, CLOSED, DISPOSITIONS, ESCALATED, OPEN,
                                           ArchiveAlert, ArchiveMessage)
from bot.db import session_scope

logger = logging.getLogger(__name__)
_A = ArchiveAlert.__table__
_M = ArchiveMessage.__table__
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
STATUS_LABELS = {OPEN: "待处理", CLAIMED: "处理中", ESCALATED: "已升级", CLOSED: "已结案"}
DISPOSITION_LABELS = {"violation": "违规", "false_positive": "误报", "no_action": "无需处理"}


class ReviewError(ValueError):
    """The action is not allowed now; nothing changed. The message is for the officer (Chinese)."""


class ReviewService:
    def __init__(self, session_factory, clock):
        self._session_factory = session_factory
        self._clock = clock

    # ---- reading -------------------------------------------------------------------------
    def queue(self, *, status: str | None = None, severity: str | None = None, assignee: str | None = None,
              advisor: str | None = None, client: str | None = None, limit: int = 50) -> list[dict]:
        """Alerts, most severe and oldest first (default: everything not closed)."""
        if status is not None and status not in ALERT_STATUSES:
            raise ReviewError(f"未知状态 {status!r}（可选: {', '.join(ALERT_STATUSES)}）")
        stmt = select(_A)
        stmt = stmt.where(_A.c.status == status) if status else stmt.where(_A.c.status != CLOSED)
        if severity:
            stmt = stmt.where(_A.c.severity == severity)
        if assignee:
            stmt = stmt.where(_A.c.assignee == assignee)
        if advisor:
            stmt = stmt.where(_A.c.userid == advisor)
        if client:
            stmt = stmt.where(_A.c.external_userid == client)
        severity_rank = case(SEVERITY_ORDER, value=_A.c.severity, else_=9)
        stmt = stmt.order_by(severity_rank, _A.c.created_at, _A.c.id).limit(limit)
        with session_scope(self._session_factory) as session:
            return [dict(r) for r in session.execute(stmt).mappings()]

    def get(self, alert_id: int) -> dict:
        """The alert, its message and its audit trail."""
        with session_scope(self._session_factory) as session:
            alert = session.execute(select(_A).where(_A.c.id == alert_id)).mappings().first()
            if alert is None:
                raise ReviewError(f"预警 {alert_id} 不存在")
            message = session.execute(select(_M).where(_M.c.id == alert["message_id"])).mappings().first()
            return {"alert": dict(alert), "message": dict(message) if message else None,
                    "trail": audit_trail(session, "alert", [alert_id])}

    def counts(self) -> dict[str, int]:
        with session_scope(self._session_factory) as session:
            return {s: n for s, n in session.execute(select(_A.c.status, func.count()).group_by(_A.c.status))}

    # ---- actions -------------------------------------------------------------------------
    def claim(self, alert_id: int, *, by: str) -> None:
        self._transition(alert_id, by, "claim", allowed=(OPEN, ESCALATED),
                         values={"status": CLAIMED, "assignee": check_actor(by)})

    def comment(self, alert_id: int, text: str, *, by: str) -> None:
        by = check_actor(by)
        if not text or not text.strip():
            raise ReviewError("备注不能为空")
        with session_scope(self._session_factory) as session:
            self._require(session, alert_id)
            now = self._clock.now()
            session.execute(update(_A).where(_A.c.id == alert_id).values(updated_at=now))
            write_audit(session, "alert", alert_id, "comment", by, now, text=text.strip())

    def close(self, alert_id: int, disposition: str, *, by: str, note: str = "") -> None:
        if disposition not in DISPOSITIONS:
            raise ReviewError(f"结论必须是 {', '.join(DISPOSITIONS)} 之一（违规 / 误报 / 无需处理）")
        by = check_actor(by)
        self._transition(alert_id, by, "close", allowed=(CLAIMED,), assignee=by,
                         values={"status": CLOSED, "disposition": disposition, "closed_at": self._clock.now()},
                         disposition=disposition, note=note.strip())

    def escalate(self, alert_id: int, *, by: str, note: str) -> None:
        if not note or not note.strip():
            raise ReviewError("升级必须说明原因")
        self._transition(alert_id, by, "escalate", allowed=(OPEN, CLAIMED),
                         values={"status": ESCALATED, "assignee": None,
                                 "escalation_level": _A.c.escalation_level + 1}, note=note.strip())

    def reopen(self, alert_id: int, *, by: str, reason: str) -> None:
        if not reason or not reason.strip():
            raise ReviewError("重新打开必须说明原因")
        self._transition(alert_id, by, "reopen", allowed=(CLOSED,),
                         values={"status": OPEN, "assignee": None, "disposition": None, "closed_at": None},
                         reason=reason.strip())

    # ---- internals -----------------------------------------------------------------------
    def _require(self, session, alert_id: int):
        row = session.execute(select(_A.c.id, _A.c.status, _A.c.assignee).where(_A.c.id == alert_id)).first()
        if row is None:
            raise ReviewError(f"预警 {alert_id} 不存在")
        return row

    def _transition(self, alert_id: int, by: str, action: str, *, allowed: tuple[str, ...], values: dict,
                    assignee: str | None = None, **detail) -> None:
        by = check_actor(by)
        now: datetime = self._clock.now()
        with session_scope(self._session_factory) as session:
            before = self._require(session, alert_id)
            cond = [_A.c.id == alert_id, _A.c.status.in_(allowed)]
            if assignee is not None:
                cond.append(_A.c.assignee == assignee)
            done = session.execute(update(_A).where(*cond).values(**values, updated_at=now)).rowcount
            if done != 1:
                raise ReviewError(self._refusal(action, before, by))
            write_audit(session, "alert", alert_id, action, by, now, from_status=before.status, **detail)
        logger.info("alert %s %s (was %s)", alert_id, action, before.status)

    @staticmethod
    def _refusal(action: str, before, by: str) -> str:
        state = STATUS_LABELS.get(before.status, before.status)
        if action == "close" and before.status == CLAIMED and before.assignee != by:
            return f"预警 {before.id} 由 {before.assignee} 处理中，只有认领人可以结案"
        if action == "claim" and before.status == CLAIMED:
            return f"预警 {before.id} 已被 {before.assignee} 认领"
        names = {"claim": "认领", "close": "结案", "escalate": "升级", "reopen": "重新打开"}
        return f"预警 {before.id} 当前状态为「{state}」，不能{names.get(action, action)}"


def build_review_service(runtime) -> ReviewService:
    return ReviewService(runtime.session_factory, runtime.clock)
