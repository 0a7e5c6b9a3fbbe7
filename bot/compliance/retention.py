"""Retention: purge archived messages past their retention period, never those under a legal hold.

`advisor-bot archive purge --before DATE` (or by the retention setting, default 20 years) is the only
deletion path of the archive. In one transaction it: marks itself running (PostgreSQL: also
`SET LOCAL advisor.purge = 'on'`, the only way past the append-only trigger), takes the chain lock,
writes a tombstone (chain position, hash, prev_hash — no content) for each purged record, deletes the
records, and records count, chain range and date range (never contents) with a checkpoint hash over
the purged positions. The chain stays verifiable: it continues through the tombstones.
Records of clients/advisors on hold, and records with an alert still under review, are kept.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from sqlalchemy import and_, delete, func, insert, not_, or_, select, text, update

from bot.compliance.archive import lock_chain
from bot.compliance.archive_audit import check_actor, write_audit
from bot.compliance.archive_models import CLOSED, ArchiveAlert, ArchiveMessage, ArchivePurge, ArchiveTombstone
from bot.compliance.holds import active_hold_clause
from bot.db import session_scope

logger = logging.getLogger(__name__)
_M = ArchiveMessage.__table__
_A = ArchiveAlert.__table__
_T = ArchiveTombstone.__table__
_P = ArchivePurge.__table__


class PurgeError(ValueError):
    """The purge was refused; nothing was deleted."""


def years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


class RetentionService:
    def __init__(self, session_factory, clock, *, retention_years: int = 20,
                 channel_retention_years: dict[str, int] | None = None):
        self._session_factory = session_factory
        self._clock = clock
        self.retention_years = retention_years
        self.channel_retention_years = dict(channel_retention_years or {})

    def retention_cutoff(self) -> datetime:
        """Records sent before this moment are past retention."""
        return years_before(self._clock.now(), self.retention_years)

    def _conditions(self, cutoff: datetime, before: datetime | None):
        """Past retention: before `cutoff`, or before the channel's own retention where one is set
        (and before `before` when given)."""
        now = self._clock.now()
        channel_cutoff = lambda years: min(before, years_before(now, years)) if before else years_before(now, years)  # noqa: E731
        parts = [and_(_M.c.channel == channel, _M.c.sent_at < channel_cutoff(years))
                 for channel, years in sorted(self.channel_retention_years.items())]
        parts.append(and_(_M.c.channel.not_in(sorted(self.channel_retention_years)), _M.c.sent_at < cutoff)
                     if self.channel_retention_years else _M.c.sent_at < cutoff)
        old = or_(*parts)
        held = active_hold_clause(_M.c.external_userid, _M.c.userid)
        open_alert = select(_A.c.id).where(_A.c.message_id == _M.c.id, _A.c.status != CLOSED).exists()
        return old, held, open_alert

    def purge(self, *, before: datetime | None = None, by: str, reason: str, dry_run: bool = False) -> dict:
        by = check_actor(by)
        if not reason or not reason.strip():
            raise PurgeError("必须填写删除原因 (reason is required)")
        limit = self.retention_cutoff()
        cutoff = before or limit
        if cutoff.tzinfo is None:
            raise PurgeError("日期必须带时区 (the date must be timezone-aware)")
        if cutoff > limit:
            raise PurgeError(f"{cutoff:%Y-%m-%d} 之前的部分记录仍在 {self.retention_years} 年保留期内；"
                             f"最晚只能删除 {limit:%Y-%m-%d %H:%M} (UTC) 之前的记录")
        old, held, open_alert = self._conditions(cutoff, before)
        purgeable = and_(old, not_(held), not_(open_alert))
        now = self._clock.now()
        with session_scope(self._session_factory) as session:
            held_count = session.scalar(select(func.count()).select_from(_M).where(old, held))
            alert_count = session.scalar(select(func.count()).select_from(_M).where(old, not_(held), open_alert))
            if dry_run:
                count = session.scalar(select(func.count()).select_from(_M).where(purgeable))
                return {"dry_run": True, "cutoff": cutoff, "would_purge": count, "held": held_count,
                        "open_alerts": alert_count}
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SET LOCAL advisor.purge = 'on'"))
            purge_id = session.execute(insert(_P).values(
                status="running", actor=by, reason=reason.strip(), cutoff=cutoff, started_at=now,
                purged_count=0, held_count=held_count, open_alert_count=alert_count).returning(_P.c.id)).scalar_one()
            lock_chain(session, now)
            stats = session.execute(select(func.count(), func.min(_M.c.chain_seq), func.max(_M.c.chain_seq),
                                           func.min(_M.c.sent_at), func.max(_M.c.sent_at)).where(purgeable)).one()
            count = int(stats[0])
            checkpoint = None
            if count:
                session.execute(insert(_T).from_select(
                    ["chain_seq", "hash", "prev_hash", "purge_id"],
                    select(_M.c.chain_seq, _M.c.hash, _M.c.prev_hash, purge_id_literal(purge_id)).where(purgeable)))
                digest = hashlib.sha256()
                for seq, hash_ in session.execute(select(_T.c.chain_seq, _T.c.hash).where(_T.c.purge_id == purge_id)
                                                  .order_by(_T.c.chain_seq)).yield_per(10000):
                    digest.update(f"{seq}:{hash_}\n".encode())
                checkpoint = digest.hexdigest()
                session.execute(delete(_M).where(_M.c.chain_seq.in_(
                    select(_T.c.chain_seq).where(_T.c.purge_id == purge_id))))
            first_sent, last_sent = _aware(stats[3]), _aware(stats[4])
            session.execute(update(_P).where(_P.c.id == purge_id).values(
                status="done", finished_at=self._clock.now(), purged_count=count, first_seq=stats[1],
                last_seq=stats[2], first_sent_at=first_sent, last_sent_at=last_sent, checkpoint_hash=checkpoint))
            write_audit(session, "purge", purge_id, "purge", by, now, reason=reason.strip(), cutoff=cutoff,
                        purged=count, first_seq=stats[1], last_seq=stats[2], held_kept=held_count,
                        open_alerts_kept=alert_count, checkpoint_hash=checkpoint)
        logger.warning("archive purge %s: removed %d records (seq %s..%s, sent %s..%s); kept %d held, %d under review",
                       purge_id, count, stats[1], stats[2], first_sent, last_sent, held_count, alert_count)
        return {"dry_run": False, "purge_id": purge_id, "cutoff": cutoff, "purged": count, "first_seq": stats[1],
                "last_seq": stats[2], "first_sent_at": first_sent, "last_sent_at": last_sent, "held": held_count,
                "open_alerts": alert_count, "checkpoint_hash": checkpoint}

    def history(self) -> list[dict]:
        with session_scope(self._session_factory) as session:
            return [dict(r) for r in session.execute(select(_P).order_by(_P.c.id)).mappings()]


def purge_id_literal(purge_id: int):
    from sqlalchemy import literal

    return literal(purge_id, type_=_T.c.purge_id.type)


def _aware(value):
    if isinstance(value, str):  # SQLite aggregates come back as text
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        from datetime import timezone

        value = value.replace(tzinfo=timezone.utc)
    return value


def build_retention_service(runtime) -> RetentionService:
    from bot.compliance.archive_settings import archive_settings

    cfg = archive_settings(runtime.settings)
    return RetentionService(runtime.session_factory, runtime.clock, retention_years=cfg.retention_years,
                            channel_retention_years=cfg.channel_retention_years)
