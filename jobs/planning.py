"""Set-based campaign planning: audience -> members (holdout by a stable hash, in SQL) -> budget ->
a stream of (client, owner, risk level) ordered by owner, cut into WeCom tasks of ≤10,000 ids.

The holdout hash is sha256("<campaign slug>:<external_userid>"), first 4 bytes big-endian, mod 10000;
a client is in the control arm when that bucket < holdout_share * 10000. PostgreSQL computes it with
sha256()/encode(); SQLite with a registered Python function giving the same number (`bucket`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, case, cast, exists, func, insert, literal, or_, select, text
from sqlalchemy.dialects.postgresql import BIT
from sqlalchemy.orm import Session

from bot.db import UTCDateTime
from jobs.models import (BUDGET_STATUSES, CONTROL, HELD_OUT, PLANNED, TREATED, CampaignMember, CampaignPush)

BUCKETS = 10000
PG_WORK_MEM = "256MB"


def bucket(key: str, external_userid: str) -> int:
    digest = hashlib.sha256(f"{key}:{external_userid}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % BUCKETS


def _sqlite_bucket(value: str) -> int:
    return int.from_bytes(hashlib.sha256(value.encode()).digest()[:4], "big") % BUCKETS


def bucket_expr(session: Session, key: str, column):
    keyed = literal(f"{key}:").concat(column)
    if session.get_bind().dialect.name == "postgresql":
        hexed = func.substr(func.encode(func.sha256(func.convert_to(keyed, "UTF8")), "hex"), 1, 8)
        return cast(cast(literal("x").concat(hexed), BIT(32)), BigInteger) % BUCKETS
    raw = session.connection().connection.driver_connection
    raw.create_function("campaign_bucket", 1, _sqlite_bucket, deterministic=True)
    return func.campaign_bucket(keyed)


def assign_members(session: Session, *, campaign_id: int, key: str, holdout_share: float, audience,
                   now: datetime) -> int:
    """Insert the audience's new clients as members (treated or control); one INSERT ... SELECT."""
    aud = audience.subquery("aud")
    uid = aud.c.external_userid if "external_userid" in aud.c else list(aud.c)[0]
    # the audience is unique: contacts selects from `contact`, the fallback from crm_client (both unique)
    inner = select(uid.label("external_userid"), bucket_expr(session, key, uid).label("bkt")).subquery("b")
    cut = int(round(holdout_share * BUCKETS))
    is_control = inner.c.bkt < cut
    member = CampaignMember.__table__
    already = exists().where(member.c.campaign_id == campaign_id, member.c.external_userid == inner.c.external_userid)
    rows = select(literal(campaign_id, BigInteger), inner.c.external_userid,
                  case((is_control, CONTROL), else_=TREATED), case((is_control, HELD_OUT), else_=PLANNED),
                  literal(0, Integer), literal(now, UTCDateTime())).where(~already)
    count = select(func.count()).select_from(member).where(member.c.campaign_id == campaign_id)
    pg = session.get_bind().dialect.name == "postgresql"
    if pg:
        session.execute(text(f"SET LOCAL work_mem = '{PG_WORK_MEM}'"))
    before = session.scalar(count)
    session.execute(insert(member).from_select(
        ["campaign_id", "external_userid", "arm", "status", "step", "assigned_at"], rows))
    added = session.scalar(count) - before
    if added > 1000 and pg:
        session.execute(text("ANALYZE campaign_member"))  # fresh statistics for the budget anti-join
    return added


@dataclass(frozen=True)
class BudgetWindow:
    day_start: datetime
    week_start: datetime
    month_start: datetime
    max_day: int
    max_week: int
    max_month: int


def budget_window(now: datetime, tz: str, *, max_day: int, max_week: int, max_month: int) -> BudgetWindow:
    """Calendar day/week (Mon)/month in the market time zone. The month cap never exceeds WeCom's
    default monthly mass-message cap per customer (the number of days in the month)."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone).date()
    start = lambda d: datetime.combine(d, time(0), tzinfo=zone)  # noqa: E731
    nxt = (local.replace(day=28) + timedelta(days=4)).replace(day=1)
    days_in_month = (nxt - local.replace(day=1)).days
    return BudgetWindow(start(local), start(local - timedelta(days=local.weekday())), start(local.replace(day=1)),
                        max_day, max_week, min(max_month, days_in_month))


def over_budget(window: BudgetWindow):
    """Subquery of clients whose pushes (all campaigns) already reach a cap."""
    p = CampaignPush.__table__
    since = min(window.week_start, window.month_start)
    counted = lambda start: func.sum(case((p.c.pushed_at >= start, 1), else_=0))  # noqa: E731
    counts = (select(p.c.external_userid, counted(window.day_start).label("d"), counted(window.week_start).label("w"),
                     counted(window.month_start).label("m"))
              .where(p.c.pushed_at >= since, p.c.status.in_(BUDGET_STATUSES))
              .group_by(p.c.external_userid).subquery("counts"))
    return select(counts.c.external_userid).where(or_(counts.c.d >= window.max_day, counts.c.w >= window.max_week,
                                                      counts.c.m >= window.max_month))


def eligible(campaign_id: int, window: BudgetWindow, *, extra=None):
    """Treated members of the campaign under every cap (control members can never appear here)."""
    m = CampaignMember.__table__
    blocked = over_budget(window).subquery("blocked")
    stmt = (select(m.c.external_userid, m.c.step)
            .where(m.c.campaign_id == campaign_id, m.c.arm == TREATED)
            .where(~exists().where(blocked.c.external_userid == m.c.external_userid)))
    if extra is not None:
        stmt = stmt.where(extra)
    return stmt


def with_owner_and_risk(eligible_stmt, owners, risks, *, dialect: str = "sqlite"):
    """Join owner (sender) and risk level, ordered by owner so tasks are cut in one pass
    (byte order on PostgreSQL: a collation-aware sort of a million ids is several times slower)."""
    e = eligible_stmt.subquery("e")
    o = owners.subquery("o")
    r = risks.subquery("r")
    oc, rc = list(o.c), list(r.c)
    owner_key, uid_key = oc[1], e.c.external_userid
    if dialect == "postgresql":
        owner_key, uid_key = owner_key.collate("C"), uid_key.collate("C")
    return (select(e.c.external_userid, e.c.step, oc[1].label("owner"), rc[1].label("risk"))
            .join(o, oc[0] == e.c.external_userid, isouter=True)
            .join(r, rc[0] == e.c.external_userid, isouter=True)
            .order_by(owner_key, e.c.step, uid_key))


@dataclass
class Batch:
    sender: str | None
    step: int
    rows: list[tuple[str, str | None]]  # (external_userid, risk level)


def stream_batches(session: Session, stmt, *, max_ids: int = 10000, chunk: int = 5000) -> Iterator[Batch]:
    """Server-side cursor over the ordered rows; a batch = one sender + step, ≤ max_ids clients."""
    if session.get_bind().dialect.name == "postgresql":  # sort and hash the audience in memory, not on disk
        session.execute(text(f"SET LOCAL work_mem = '{PG_WORK_MEM}'"))
        # a cursor is planned for its first 10% by default (nested loops); we read all of it
        session.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))
    result = session.execute(stmt.execution_options(stream_results=True, yield_per=chunk))
    current: Batch | None = None
    for uid, step, owner, risk in result:
        if current is None or current.sender != owner or current.step != step or len(current.rows) >= max_ids:
            if current is not None:
                yield current
            current = Batch(owner, step, [])
        current.rows.append((uid, risk))
    if current is not None:
        yield current
