from __future__ import annotations

import pytest

from bot.clock import ManualClock
from bot.config import load_settings
from bot.runtime import build_runtime
from tests.conftest import (SAMPLE_AES_KEY, SAMPLE_CORP_ID, SAMPLE_TOKEN, migrated_pg_database, real_redis,
                            sqlite_copy, utc)

REDIS_DB = 1


def foundation_settings(db_url: str, **extra):
    overrides = {
        "database": {"url": db_url},
        "redis": {"url": f"redis://127.0.0.1:6379/{REDIS_DB}", "prefix": "t-foundation"},
        "worker": {"lease_seconds": 2, "max_attempts": 3, "backoff_base_seconds": 0.01,
                   "backoff_max_seconds": 0.05, "poll_interval_seconds": 0.05},
        "wecom": {"corp_id": SAMPLE_CORP_ID, "apps": {
            "advisor": {"kind": "app", "agent_id": 1000002, "secret": "advisor-secret",
                        "token": SAMPLE_TOKEN, "encoding_aes_key": SAMPLE_AES_KEY},
            "contacts": {"kind": "contacts", "secret": "contacts-secret",
                         "token": "ContactsTok", "encoding_aes_key": "a" * 43},
        }},
    }
    for key, value in extra.items():
        overrides.setdefault(key, {}).update(value)
    return load_settings(overrides=overrides, environ={})


@pytest.fixture
def redis_client():
    return real_redis(REDIS_DB)


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path):
    return sqlite_copy(sqlite_template, tmp_path)


@pytest.fixture(scope="session")
def pg_url_session():
    return migrated_pg_database("advisor_foundation_test")


@pytest.fixture
def pg_url(pg_url_session):
    from sqlalchemy import create_engine, text

    engine = create_engine(pg_url_session.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE inbox_event, handled_event RESTART IDENTITY"))
    engine.dispose()
    return pg_url_session


@pytest.fixture
def clock():
    return ManualClock(utc(2026, 11, 20, 2, 0, 0))


@pytest.fixture
def runtime(sqlite_url, redis_client, clock):
    rt = build_runtime(foundation_settings(sqlite_url), clock=clock, redis=redis_client, sleep=lambda s: None)
    yield rt
    rt.close()
