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
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (BigInteger, Integer, case, cast, column, exists, func, insert, literal, or_, select, table,
                        text)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement
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
    """Insert the audience's new clients as members (treated or control); one INSERT ... SELECT.
    The audience must be unique (contacts selects from `contact`; the fallback from crm_client)."""
    member = CampaignMember.__table__
    aud = audience.subquery("aud")
    uid = aud.c.external_userid if "external_userid" in aud.c else list(aud.c)[0]
    pg = session.get_bind().dialect.name == "postgresql"
    count = select(func.count()).select_from(member).where(member.c.campaign_id == campaign_id)
    before = session.scalar(count)
    new = select(uid.label("external_userid"))
    if before:  # on the first firing there is nothing to exclude (and an anti-join against a table the
        # planner believes empty can turn into a rescan per row of the rows this INSERT adds)
        new = new.where(~exists().where(member.c.campaign_id == campaign_id, member.c.external_userid == uid))
    new = new.subquery("new")
    arm = case((bucket_expr(session, key, new.c.external_userid) < int(round(holdout_share * BUCKETS)), CONTROL),
               else_=TREATED)
    armed = select(new.c.external_userid, arm.label("arm"))
    if pg:
        armed = armed.offset(0)  # a planner fence: hash once per client, not once per use of `arm`
    armed = armed.subquery("armed")
    rows = select(literal(campaign_id, BigInteger), armed.c.external_userid, armed.c.arm,
                  case((armed.c.arm == CONTROL, HELD_OUT), else_=PLANNED), literal(0, Integer),
                  literal(now, UTCDateTime()))
    if pg:
        session.execute(text(f"SET LOCAL work_mem = '{PG_WORK_MEM}'"))
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


@dataclass
class Batch:
    sender: str | None
    step: int
    rows: list[tuple[str, str | None]]  # (external_userid, risk level)


def stream_batches(session: Session, stmt, *, max_ids: int = 10000, chunk: int = 5000) -> Iterator[Batch]:
    """Rows (external_userid, step, owner, risk) in owner order, through a server-side cursor; a batch =
    one sender + step, ≤ max_ids clients. On PostgreSQL the rows are first collected into a temporary
    table: that statement may use parallel workers, which a cursor's plan never does (17 s -> 12 s for
    720k rows here)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{PG_WORK_MEM}'"))
        session.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))  # a cursor read to the end
        session.execute(text("DROP TABLE IF EXISTS campaign_plan_rows"))
        session.execute(CreateTableAs("campaign_plan_rows", stmt.order_by(None)))
        rows = table("campaign_plan_rows", column("external_userid"), column("step"), column("owner"),
                     column("risk"))
        stmt = select(rows.c.external_userid, rows.c.step, rows.c.owner, rows.c.risk).order_by(
            rows.c.owner.collate("C"), rows.c.step, rows.c.external_userid.collate("C"))
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


class CreateTableAs(Executable, ClauseElement):
    inherit_cache = False

    def __init__(self, name: str, query):
        self.name, self.query = name, query


@compiles(CreateTableAs)
def _create_table_as(element, compiler, **kw):
    return f"CREATE TEMPORARY TABLE {element.name} ON COMMIT DROP AS {compiler.process(element.query, **kw)}"
