"""On PostgreSQL: many approvals of one suggestion at the same moment send it once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, select, text

from bot.conversations.models import Suggestion, SuggestionEvent
from tests.conversations.harness import OPEN_KFID, POOL_ADVISOR

pytestmark = pytest.mark.postgres

TABLES = ("inbox_event, handled_event, conversation_kf_cursor, conversation_kf_session, suggestion_event, "
          "suggestion, conversation_message, outbound_block")


@pytest.fixture
def pg_env(pg_url, make_env):
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return make_env(url=pg_url)


def test_concurrent_approvals_send_once(pg_env):
    env = pg_env
    env.sim.kf_user_says(OPEN_KFID, "wmPG001", "我的账户有个问题想请顾问看看")
    env.drain()
    with env.runtime.session_factory() as session:
        row = session.scalars(select(Suggestion)).one()
    env.service.approval  # built before the threads start
    with env.runtime.session() as session:
        session.get(Suggestion, row.id).proposed_text = "您好，顾问稍后与您联系。"
    barrier = threading.Barrier(8)
    results, errors = [], []

    def approve():
        barrier.wait()
        try:
            results.append(env.service.approve(row.id, POOL_ADVISOR)["state"])
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=approve) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    texts = [m["text"]["content"] for m in env.sim.kf_sent("wmPG001")]
    assert texts.count("您好，顾问稍后与您联系。") == 1
    with env.runtime.session_factory() as session:
        events = session.scalars(select(SuggestionEvent.event).where(SuggestionEvent.suggestion_id == row.id)).all()
    assert events.count("approved") == 1 and events.count("sent") == 1 and events.count("sending") == 1
    assert env.service.get(row.id)["state"] == "sent"
