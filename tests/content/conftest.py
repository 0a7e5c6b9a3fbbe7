"""Fixtures for the content package: a migrated SQLite database, a manual clock, the library."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from bot.clock import ManualClock  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.db import make_engine, make_session_factory  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from content.service import ContentService  # noqa: E402

START = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'content.db'}"
    upgrade(url)
    return url


@pytest.fixture
def session_factory(db_url):
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def clock():
    return ManualClock(START)


@pytest.fixture
def library(session_factory, clock):
    return ContentService(session_factory, clock)


@pytest.fixture
def make_runtime(session_factory, clock):
    def _make(content: dict | None = None):
        settings = load_settings(environ={}, overrides={"content": content or {}})
        return SimpleNamespace(settings=settings, session_factory=session_factory, clock=clock, redis=None)
    return _make
