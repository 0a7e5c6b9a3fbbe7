"""The durable inbox: callbacks are written here before WeCom gets its 200, and workers drain it.

Claiming uses a lease (status=processing, lease_until): a worker killed mid-event leaves the row to be
claimed again once the lease runs out, so nothing is lost; handlers are idempotent (see dispatcher).
On PostgreSQL, FOR UPDATE SKIP LOCKED keeps concurrent workers off each other's rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import threading

import psycopg
from sqlalchemy import URL, Engine, and_, func, or_, select, update
from sqlalchemy.dialects import sqlite

from bot.clock import Clock
from bot.models import DEAD, DONE, PENDING, PROCESSING, InboxEvent

_TABLE = InboxEvent.__table__


@dataclass(frozen=True)
class InboxRow:
    id: int
    app: str
    kind: str
    payload: str
    received_at: datetime
    attempts: int


class InboxStore:
    def __init__(self, engine: Engine, clock: Clock, *, lease_seconds: float = 60.0, max_attempts: int = 6,
                 backoff_base_seconds: float = 2.0, backoff_max_seconds: float = 600.0):
        self._engine = engine
        self._clock = clock
        self._lease = timedelta(seconds=lease_seconds)
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base_seconds
        self._backoff_max = backoff_max_seconds
        self._intake = _PostgresIntake(engine.url) if engine.dialect.name == "postgresql" else None

    # -- intake -----------------------------------------------------------------------------
    def add(self, app: str, kind: str, dedupe_key: str, payload: str) -> bool:
        """Store one callback durably. Returns False when it was already stored (a WeCom retry)."""
        now = self._clock.now()
        if self._intake is not None:
            return self._intake.add(app, kind, dedupe_key, payload, now)
        stmt = sqlite.insert(_TABLE).values(
            app=app, kind=kind, dedupe_key=dedupe_key, payload=payload, received_at=now,
            status=PENDING, attempts=0, available_at=now,
        ).on_conflict_do_nothing(index_elements=["dedupe_key"])
        with self._engine.begin() as conn:
            return conn.execute(stmt).rowcount == 1

    # -- processing -------------------------------------------------------------------------
    def claim(self, limit: int) -> list[InboxRow]:
        now = self._clock.now()
        due = or_(and_(_TABLE.c.status == PENDING, _TABLE.c.available_at <= now),
                  and_(_TABLE.c.status == PROCESSING, _TABLE.c.lease_until < now))
        ids = select(_TABLE.c.id).where(due).order_by(_TABLE.c.id).limit(limit).with_for_update(skip_locked=True)
        stmt = (update(_TABLE).where(_TABLE.c.id.in_(ids.scalar_subquery()))
                .values(status=PROCESSING, lease_until=now + self._lease, attempts=_TABLE.c.attempts + 1)
                .returning(_TABLE.c.id, _TABLE.c.app, _TABLE.c.kind, _TABLE.c.payload, _TABLE.c.received_at,
                           _TABLE.c.attempts))
        with self._engine.begin() as conn:
            rows = conn.execute(stmt).all()
        return sorted((InboxRow(*row) for row in rows), key=lambda r: r.id)

    def complete(self, row_id: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(update(_TABLE).where(_TABLE.c.id == row_id)
                         .values(status=DONE, lease_until=None, finished_at=self._clock.now(), last_error=None))

    def fail(self, row: InboxRow, error: str) -> str:
        """Record a failure; schedule a retry with jittered exponential backoff, or dead-letter it."""
        now = self._clock.now()
        if row.attempts >= self._max_attempts:
            values = {"status": DEAD, "lease_until": None, "finished_at": now}
        else:
            delay = min(self._backoff_max, self._backoff_base * 2 ** (row.attempts - 1)) * (0.5 + random.random() / 2)
            values = {"status": PENDING, "lease_until": None, "available_at": now + timedelta(seconds=delay)}
        with self._engine.begin() as conn:
            conn.execute(update(_TABLE).where(_TABLE.c.id == row.id).values(last_error=error[:2000], **values))
        return values["status"]

    # -- operations -------------------------------------------------------------------------
    def list(self, *, failed: bool = False, status: str | None = None, limit: int = 100) -> list[dict]:
        query = select(_TABLE.c.id, _TABLE.c.app, _TABLE.c.kind, _TABLE.c.status, _TABLE.c.attempts,
                       _TABLE.c.received_at, _TABLE.c.last_error).order_by(_TABLE.c.id.desc()).limit(limit)
        if failed:
            query = query.where(or_(_TABLE.c.status == DEAD,
                                    and_(_TABLE.c.status == PENDING, _TABLE.c.last_error.is_not(None))))
        elif status:
            query = query.where(_TABLE.c.status == status)
        with self._engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def replay(self, row_id: int) -> bool:
        """Put a dead (or finished) event back in the queue with a fresh attempt budget."""
        with self._engine.begin() as conn:
            result = conn.execute(update(_TABLE).where(_TABLE.c.id == row_id)
                                  .values(status=PENDING, attempts=0, available_at=self._clock.now(),
                                          lease_until=None, finished_at=None))
        return result.rowcount == 1

    def close(self) -> None:
        if self._intake is not None:
            self._intake.close()

    def counts(self) -> dict[str, int]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(_TABLE.c.status, func.count()).group_by(_TABLE.c.status)).all()
        return {status: n for status, n in rows}


class _PostgresIntake:
    """The hot path of every callback on PostgreSQL: one prepared INSERT in autocommit, on a connection
    each serving thread keeps for itself.

    One statement is atomic by itself, so there is no transaction to open or reset, and no pool to check
    out from: measured on this machine, SQLAlchemy's pool and a Core statement with a transaction cost
    about 0.75 ms of CPU per callback, the pooled prepared statement 0.15 ms, this 0.11 ms. The INSERT
    is idempotent (ON CONFLICT DO NOTHING), so a connection found broken (the server restarted while it
    sat idle) is replaced and the statement sent once more; if that fails too, the error reaches the
    callback, which answers 500 and WeCom retries.
    """

    SQL = ("INSERT INTO inbox_event (app, kind, dedupe_key, payload, received_at, status, attempts, available_at) "
           "VALUES (%s, %s, %s, %s, %s, 'pending', 0, %s) ON CONFLICT (dedupe_key) DO NOTHING")

    def __init__(self, url: URL):
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[psycopg.Connection] = []

    def _connection(self) -> psycopg.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = psycopg.connect(self._dsn, autocommit=True, application_name="advisor-bot intake")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _drop(self, conn: psycopg.Connection) -> None:
        self._local.conn = None
        with self._lock:
            if conn in self._connections:
                self._connections.remove(conn)
        conn.close()

    def add(self, app: str, kind: str, dedupe_key: str, payload: str, now: datetime) -> bool:
        params = (app, kind, dedupe_key, payload, now, now)
        for attempt in (1, 2):
            conn = self._connection()
            try:
                return conn.execute(self.SQL, params, prepare=True).rowcount == 1
            except psycopg.OperationalError:
                self._drop(conn)
                if attempt == 2:
                    raise
            except BaseException:
                self._drop(conn)  # a connection in an unknown state is not used for the next callback
                raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
