"""Fixtures: a migrated database, Redis DB 6, the simulator and a running bot (see harness.py).

The matcher comes from the content package (`content.matcher`); tests that need it are skipped, with
the reason, while it is not there. Compliance is the real `PresendGuard` with the shipped lexicon.
"""

from __future__ import annotations

import pytest

from bot import migrate
from bot.clock import ManualClock
from bot.config import load_settings
from tests.conftest import fresh_pg_database, real_redis, utc
from tests.conversations.harness import REDIS_DB, conversation_settings, start_env

PG_DATABASE = "advisor_conversations_test"


@pytest.fixture
def clock():
    return ManualClock(utc(2026, 11, 20, 2, 0, 0))


@pytest.fixture
def redis_client():
    return real_redis(REDIS_DB)


@pytest.fixture
def sqlite_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'conversations.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def pg_url():
    url = fresh_pg_database(PG_DATABASE)
    migrate.upgrade(url)
    return url


def presend_guard(runtime):
    from bot.compliance.lexicon import Lexicon
    from bot.compliance.presend import PresendGuard

    return PresendGuard(runtime.session_factory, Lexicon.default(), runtime.clock)


def content_services(runtime):
    """The real library and matcher, loaded with the starter pack (skips while content lacks a matcher).
    `runtime` needs settings, session_factory, clock and redis."""
    pytest.importorskip("content.matcher", reason="content matcher (content/matcher.py) has not landed yet")
    from content.importer import import_path
    from content.service import build_content_services
    from content.settings import STARTER_PACK_DIR

    services = build_content_services(runtime)
    report = import_path(services.library, STARTER_PACK_DIR, progress=False)
    assert not report.problems, report.problems[:3]
    return services


@pytest.fixture(scope="session")
def shared_content(tmp_path_factory):
    """One content library (its own SQLite file, read-only here) and one matcher for the whole session.
    The matcher runs in its lexical mode here (the production default "fused" also loads the sentence
    encoder: ~15 s more); tests/benchmarks/bench_suggestion_latency.py measures the default."""
    from types import SimpleNamespace

    from bot.db import make_engine, make_session_factory

    url = f"sqlite:///{tmp_path_factory.mktemp('content') / 'content.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    settings = load_settings(overrides={**conversation_settings(url).model_dump(), "content": {"mode": "lexical"}},
                             environ={})
    holder = SimpleNamespace(settings=settings, session_factory=make_session_factory(engine),
                             clock=ManualClock(utc(2026, 11, 20, 2, 0, 0)), redis=real_redis(REDIS_DB))
    services = content_services(holder)
    services.matcher.match("开户需要什么材料", 3)  # build the index now
    yield services
    engine.dispose()


@pytest.fixture
def make_env(sqlite_url, clock, redis_client, request):
    envs = []

    def _make(*, with_content: bool = False, url: str | None = None, **conversations):
        env = start_env(conversation_settings(url or sqlite_url, **conversations), clock, redis_client)
        envs.append(env)
        env.runtime.services.register("presend", presend_guard(env.runtime))
        if with_content:
            env.runtime.services.register("content", request.getfixturevalue("shared_content"))
        return env

    yield _make
    for env in envs:
        env.close()
