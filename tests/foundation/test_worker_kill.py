"""A worker killed with SIGKILL in the middle of an event loses nothing and does not apply it twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import SAMPLE_AES_KEY, SAMPLE_CORP_ID, SAMPLE_TOKEN
from tests.foundation.callback_helpers import text_message_xml

SCRIPT = Path(__file__).with_name("kill_worker_script.py")
ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path, pg_url) -> Path:
    path = tmp_path / "kill.toml"
    path.write_text(f"""
[database]
url = "{pg_url}"
[redis]
url = "redis://127.0.0.1:6379/1"
prefix = "t-foundation"
[worker]
lease_seconds = 2
poll_interval_seconds = 0.05
[wecom]
corp_id = "{SAMPLE_CORP_ID}"
[wecom.apps.advisor]
token = "{SAMPLE_TOKEN}"
encoding_aes_key = "{SAMPLE_AES_KEY}"
""", encoding="utf-8")
    return path


def _wait(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.postgres
def test_sigkill_mid_event_loses_nothing_and_applies_once(tmp_path, pg_url, redis_client):
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS kill_effect"))
        conn.execute(text("CREATE TABLE kill_effect (inbox_id bigint UNIQUE NOT NULL)"))
    from bot.clock import SystemClock
    from bot.inbox import InboxStore

    InboxStore(engine, SystemClock()).add("advisor", "msg:text", "advisor:m:kill1",
                                          text_message_xml(SAMPLE_CORP_ID, "kill1"))
    config = _config(tmp_path, pg_url)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen([sys.executable, str(SCRIPT), str(config)], env=env, cwd=ROOT)
    try:
        assert _wait(lambda: redis_client.get("t-foundation:kill:blocked") == b"1"), "worker never reached the event"
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM kill_effect")).scalar() == 0  # nothing half-applied
        assert conn.execute(text("SELECT status FROM inbox_event")).scalar() == "processing"

    second = subprocess.Popen([sys.executable, str(SCRIPT), str(config)], env=env, cwd=ROOT)
    try:
        def done():
            with engine.connect() as conn:
                return conn.execute(text("SELECT status FROM inbox_event")).scalar() == "done"

        assert _wait(done), "event was lost"
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM kill_effect")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM handled_event WHERE handler = 'kill-test'")).scalar() == 1
        assert conn.execute(text("SELECT attempts FROM inbox_event")).scalar() == 2
    assert int(redis_client.get("t-foundation:kill:started")) == 2  # processed once more, applied once
    engine.dispose()
