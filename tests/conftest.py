"""Shared fixtures: real SQLite/PostgreSQL databases migrated with Alembic, real Redis.

Each test package uses its own Redis database number and PostgreSQL database name so packages never
see each other's data (see docs/DEVELOPING.md).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no model may be fetched during tests
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

PG_ADMIN_URL = os.environ.get("ADVISOR_BOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_HOST = os.environ.get("ADVISOR_BOT_TEST_REDIS_HOST", "127.0.0.1")

# The official WeCom callback sample (shared/wecom-reference.md).
SAMPLE_TOKEN = "QDG6eK"
SAMPLE_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
SAMPLE_CORP_ID = "wx5823bf96d3bd56c7"


def fresh_pg_database(name: str) -> str:
    """Drop and create database `name`; return its URL."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL.replace("postgresql://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def migrated_pg_database(name: str) -> str:
    """A fresh PostgreSQL database `name` at the migration heads; skips the test without a server."""
    from bot import migrate

    try:
        url = fresh_pg_database(name)
    except Exception as exc:  # pragma: no cover - only on a machine without PostgreSQL
        pytest.skip(f"PostgreSQL not available: {exc}")
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """One SQLite database at the migration heads per test run; tests get copies (see sqlite_copy)."""
    from bot import migrate

    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def sqlite_copy(template, tmp_path, name: str = "bot.db") -> str:
    import shutil

    path = tmp_path / name
    shutil.copy(template, path)
    return f"sqlite:///{path}"


def real_redis(db: int):
    import redis

    client = redis.Redis(host=REDIS_HOST, port=6379, db=db)
    client.ping()
    client.flushdb()
    return client


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def runtime_for_logs(tmp_path):
    from bot import migrate
    from bot.runtime import build_runtime
    from tests.foundation.conftest import foundation_settings

    url = f"sqlite:///{tmp_path / 'logs.db'}"
    migrate.upgrade(url)
    rt = build_runtime(foundation_settings(url), redis=real_redis(1))
    yield rt
    rt.close()
