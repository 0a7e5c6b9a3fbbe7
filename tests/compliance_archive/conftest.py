"""Fixtures for the archive, surveillance, review and retention tests.

SQLite per test (migrated with Alembic); PostgreSQL database `advisor_archive_test` (migrated once per
session, tables emptied per test with the append-only triggers briefly disabled); Redis DB 4.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, text

from bot import migrate
from bot.clock import ManualClock
from bot.config import load_settings
from bot.runtime import build_runtime
from tests.conftest import fresh_pg_database, real_redis

REDIS_DB = 4
PG_DB = "advisor_archive_test"
START = datetime(2026, 3, 10, 2, 0, tzinfo=timezone.utc)
ARCHIVE_TABLES = ("archive_message", "archive_tombstone", "archive_purge", "archive_verification",
                  "archive_pull_cursor", "archive_legal_hold", "archive_alert", "archive_screen_cursor",
                  "archive_audit")


def make_runtime(url: str, clock: ManualClock, compliance: dict | None = None, redis_client=None):
    settings = load_settings(overrides={"database": {"url": url},
                                        "compliance": {"archive": compliance or {}}}, environ={})
    return build_runtime(settings, clock=clock, redis=redis_client if redis_client is not None else real_redis(REDIS_DB))


@pytest.fixture
def clock():
    return ManualClock(START)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """One migrated SQLite file; each test gets a copy (migrating per test costs ~1 s)."""
    path = tmp_path_factory.mktemp("archive-template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        conn.execute(text("PRAGMA journal_mode=DELETE"))
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template):
    path = tmp_path / "archive.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def runtime(sqlite_url, clock):
    rt = make_runtime(sqlite_url, clock)
    yield rt
    rt.close()


@pytest.fixture(scope="session")
def pg_url_session():
    url = fresh_pg_database(PG_DB)
    migrate.upgrade(url)
    return url


@pytest.fixture
def pg_url(pg_url_session):
    engine = create_engine(pg_url_session.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:  # a clean archive per test; the superuser bypasses the triggers
        conn.execute(text("SET session_replication_role = replica"))
        conn.execute(text("TRUNCATE " + ", ".join(ARCHIVE_TABLES) + " RESTART IDENTITY"))
        conn.execute(text("UPDATE archive_chain_head SET last_seq = 0, last_hash = :g"), {"g": "0" * 64})
        conn.execute(text("SET session_replication_role = origin"))
    engine.dispose()
    return pg_url_session


@pytest.fixture
def pg_runtime(pg_url, clock):
    rt = make_runtime(pg_url, clock)
    yield rt
    rt.close()
