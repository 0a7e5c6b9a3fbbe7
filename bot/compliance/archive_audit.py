"""The audit trail of officers' actions (review, holds, purges, exports): who, when, what."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.compliance.archive_models import ArchiveAudit

_AUDIT = ArchiveAudit.__table__


class ActorRequired(ValueError):
    pass


def check_actor(actor: str | None) -> str:
    if not isinstance(actor, str) or not actor.strip():
        raise ActorRequired("必须注明操作人 (actor is required)")
    if len(actor) > 128:
        raise ActorRequired("操作人标识过长 (actor longer than 128 characters)")
    return actor.strip()


def write_audit(session: Session, subject: str, subject_id: object, action: str, actor: str, at: datetime,
                **detail) -> None:
    session.execute(insert(_AUDIT).values(subject=subject, subject_id=str(subject_id), action=action,
                                          actor=actor, at=at,
                                          detail=json.dumps(detail, ensure_ascii=False, sort_keys=True,
                                                            default=str)))


def audit_trail(session: Session, subject: str, subject_ids: list) -> list[dict]:
    if not subject_ids:
        return []
    rows = session.execute(select(_AUDIT).where(_AUDIT.c.subject == subject,
                                                _AUDIT.c.subject_id.in_([str(s) for s in subject_ids]))
                           .order_by(_AUDIT.c.id)).mappings()
    return [{**dict(r), "detail": json.loads(r["detail"])} for r in rows]
