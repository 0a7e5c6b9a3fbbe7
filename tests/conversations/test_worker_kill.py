"""A worker process killed (SIGKILL) while WeCom is delivering an approved reply: the restarted worker
takes the claim over after its lease and repeats the call with the same msgid; the client gets the
reply once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot import migrate
from bot.clock import ManualClock
from bot.conversations.models import Suggestion, SuggestionEvent
from tests.conversations.conftest import presend_guard
from tests.conversations.harness import OPEN_KFID, POOL_ADVISOR, conversation_settings, start_env

ROOT = Path(__file__).resolve().parents[2]
REPLY = "您好，您的问题已记录，顾问稍后与您联系。"


def _wait(predicate, timeout=20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow  # ~10 s (a second Python process); the in-process restart is in test_e2e_kf.py
def test_sigkill_during_send_then_restart_sends_once(tmp_path, redis_client):
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    migrate.upgrade(url)
    clock = ManualClock(datetime.now(timezone.utc))
    settings = conversation_settings(url, send_lease_seconds=1)
    settings = settings.model_copy(update={"worker": settings.worker.model_copy(
        update={"lease_seconds": 1.0, "poll_interval_seconds": 0.05})})
    env = start_env(settings, clock, redis_client)
    worker = None
    try:
        env.runtime.services.register("presend", presend_guard(env.runtime))
        env.sim.kf_user_says(OPEN_KFID, "wmKILL1", "我的账户有个问题想请顾问看看")
        env.drain()
        with env.runtime.session() as session:  # the proposal the advisor will approve as it is
            row = session.scalars(select(Suggestion)).one()
            session.execute(update(Suggestion).where(Suggestion.id == row.id).values(proposed_text=REPLY))
        msgid, task_id = row.send_msgid, row.card_task_id

        # The worker process: WeCom will take 2 s to answer send_msg; the process dies meanwhile.
        current = env.runtime.settings
        config = tmp_path / "worker.json"
        config.write_text(current.model_copy(update={"wecom": current.wecom.model_copy(
            update={"timeout_seconds": 30.0})}).model_dump_json(), encoding="utf-8")
        env.sim.delay("kf/send_msg", 2.0)
        worker = subprocess.Popen([sys.executable, "-m", "tests.conversations.worker_process", str(config)],
                                  cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        code = env.sim.click_card(POOL_ADVISOR, task_id, "sug_send")
        assert _wait(lambda: any((c.body or {}).get("msgid") == msgid for c in env.sim.calls("kf/send_msg")))
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        assert _wait(lambda: REPLY in [m["text"]["content"] for m in env.sim.kf_sent("wmKILL1")])  # delivered
        assert env.service.get(row.id)["state"] == "sending"  # ... but the dead worker never heard

        # Restart: WeCom repeats the click callback, the new worker finds the event and the claim expired.
        env.sim.delay("kf/send_msg", 0)
        env.sim.callbacks.template_card_event(POOL_ADVISOR, task_id, "sug_send", code, repeat=3)
        clock.set(datetime.now(timezone.utc) + timedelta(seconds=3))
        env.restart_worker()
        env.drain()
        env.drain()
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
        env.close()

    texts = [m["text"]["content"] for m in env.sim.kf_sent("wmKILL1")]
    assert texts.count(REPLY) == 1
    assert sum((c.body or {}).get("msgid") == msgid for c in env.sim.calls("kf/send_msg")) == 2
    assert env.service.get(row.id)["state"] == "sent"
    with env.runtime.session_factory() as session:
        events = session.scalars(select(SuggestionEvent.event).where(SuggestionEvent.suggestion_id == row.id)
                                 .order_by(SuggestionEvent.id)).all()
    assert events == ["created", "approved", "sending", "sending", "sent"]
