"""Legal holds: a hold on a client (external_userid) or an advisor (userid) suspends any deletion of
their archived messages. Placing and releasing are audited; a released hold stays on record."""

from __future__ import annotations

import logging

from sqlalchemy import and_, insert, or_, select, update

from bot.compliance.archive_audit import check_actor, write_audit
from bot.compliance.archive_models import ArchiveLegalHold
from bot.db import session_scope

logger = logging.getLogger(__name__)
_HOLD = ArchiveLegalHold.__table__


class HoldError(ValueError):
    """Bad hold request; nothing changed. The message is for the officer (Chinese)."""


def active_hold_clause(external_userid_col, userid_col):
    """SQL: an active hold covers a row with these client/advisor columns."""
    return (select(_HOLD.c.id).where(_HOLD.c.released_at.is_(None),
                                     or_(and_(_HOLD.c.external_userid.is_not(None),
                                              _HOLD.c.external_userid == external_userid_col),
                                         and_(_HOLD.c.userid.is_not(None), _HOLD.c.userid == userid_col)))
            .exists())


class HoldService:
    def __init__(self, session_factory, clock):
        self._session_factory = session_factory
        self._clock = clock

    def place(self, *, external_userid: str | None = None, userid: str | None = None, reason: str,
              by: str) -> int:
        by = check_actor(by)
        if bool(external_userid) == bool(userid):
            raise HoldError("请指定一个客户 (external_userid) 或一个投顾 (userid)，二者选一")
        if not reason or not reason.strip():
            raise HoldError("必须填写冻结原因 (reason is required)")
        now = self._clock.now()
        with session_scope(self._session_factory) as session:
            hold_id = session.execute(insert(_HOLD).values(
                external_userid=external_userid or None, userid=userid or None, reason=reason.strip(),
                placed_by=by, placed_at=now).returning(_HOLD.c.id)).scalar_one()
            write_audit(session, "hold", hold_id, "place", by, now, external_userid=external_userid,
                        userid=userid, reason=reason.strip())
        logger.info("legal hold %s placed by actor", hold_id)
        return hold_id

    def release(self, hold_id: int, *, reason: str, by: str) -> None:
        by = check_actor(by)
        if not reason or not reason.strip():
            raise HoldError("必须填写解除原因 (reason is required)")
        now = self._clock.now()
        with session_scope(self._session_factory) as session:
            done = session.execute(update(_HOLD).where(_HOLD.c.id == hold_id, _HOLD.c.released_at.is_(None))
                                   .values(released_at=now, released_by=by, release_reason=reason.strip())).rowcount
            if done != 1:
                exists_ = session.scalar(select(_HOLD.c.id).where(_HOLD.c.id == hold_id))
                raise HoldError(f"冻结 {hold_id} 不存在" if exists_ is None else f"冻结 {hold_id} 已解除")
            write_audit(session, "hold", hold_id, "release", by, now, reason=reason.strip())
        logger.info("legal hold %s released", hold_id)

    def is_on_hold(self, external_userid: str | None = None, userid: str | None = None) -> bool:
        if not external_userid and not userid:
            return False
        conds = []
        if external_userid:
            conds.append(_HOLD.c.external_userid == external_userid)
        if userid:
            conds.append(_HOLD.c.userid == userid)
        with session_scope(self._session_factory) as session:
            return session.scalar(select(_HOLD.c.id).where(_HOLD.c.released_at.is_(None), or_(*conds)).limit(1)) \
                is not None

    def list(self, *, active_only: bool = True) -> list[dict]:
        stmt = select(_HOLD).order_by(_HOLD.c.id)
        if active_only:
            stmt = stmt.where(_HOLD.c.released_at.is_(None))
        with session_scope(self._session_factory) as session:
            return [dict(r) for r in session.execute(stmt).mappings()]


def build_hold_service(runtime) -> HoldService:
    return HoldService(runtime.session_factory, runtime.clock)
