"""Fixtures for the contacts tests: a migrated SQLite file per test (copied from one migrated template),
PostgreSQL database advisor_contacts_test, real Redis DB 5, a manual clock."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.clock import ManualClock
from bot.config import load_settings
from bot.runtime import build_runtime
from tests.conftest import migrated_pg_database, real_redis, sqlite_copy

REDIS_DB = 5
PG_DB = "advisor_contacts_test"
START = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # 10:00 Beijing


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path):
    return sqlite_copy(sqlite_template, tmp_path, "contacts.db")


@pytest.fixture(scope="session")
def pg_url():
    return migrated_pg_database(PG_DB)


@pytest.fixture
def redis_client():
    return real_redis(REDIS_DB)


@pytest.fixture
def clock():
    return ManualClock(START)


def make_runtime(url: str, clock, redis, contacts: dict | None = None, wecom: dict | None = None):
    overrides = {"database": {"url": url}, "contacts": contacts or {"central_ops_userid": "central"}}
    if wecom:
        overrides["wecom"] = wecom
    return build_runtime(load_settings(overrides=overrides, environ={}), clock=clock, redis=redis,
                         sleep=lambda s: None)


@pytest.fixture
def runtime(sqlite_url, clock, redis_client):
    rt = make_runtime(sqlite_url, clock, redis_client)
    yield rt
    rt.close()


PG_TABLES = ("contact_tag_synced", "contact_tag", "tag", "tag_group", "owner_history", "contact_follow",
             "contact_transfer", "client_activity", "crm_client", "crm_import", "contact", "contact_member")


@pytest.fixture
def pg_runtime(pg_url, clock, redis_client):
    from sqlalchemy import text

    rt = make_runtime(pg_url, clock, redis_client)
    with rt.engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(PG_TABLES) + " RESTART IDENTITY CASCADE"))
    yield rt
    rt.close()
