"""Inbox processing: dispatch by kind, exactly-once ledger, retry with backoff, dead letters, replay."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot import filters as F
from bot.dispatcher import Dispatcher, Handler
from bot.models import HandledEvent
from bot.runtime import build_runtime
from bot.worker import Worker
from tests.conftest import SAMPLE_CORP_ID
from tests.foundation.callback_helpers import contact_event_xml, text_message_xml
from tests.foundation.conftest import foundation_settings


def _add(runtime, xml, kind, key):
    assert runtime.inbox.add("advisor", kind, key, xml)


def _dispatcher(runtime, calls, fail_times=0):
    state = {"failures": 0}

    def on_text(update, ctx):
        if state["failures"] < fail_times:
            state["failures"] += 1
            raise RuntimeError("WeCom unavailable")
        calls.append(("text", update.data["MsgId"]))

    def on_add(update, ctx):
        calls.append(("add", update.data["ExternalUserID"]))

    d = Dispatcher(runtime)
    d.add_handler(Handler(F.message("text"), on_text))
    d.add_handler(Handler(F.event("change_external_contact") & F.change_type("add_external_contact"), on_add))
    return d


def test_dispatch_by_kind_and_filter(runtime):
    calls = []
    _add(runtime, text_message_xml(SAMPLE_CORP_ID, "1"), "msg:text", "k1")
    _add(runtime, contact_event_xml(SAMPLE_CORP_ID, "add_external_contact", "u", "wmA", 1), "event:change_external_contact", "k2")
    _add(runtime, contact_event_xml(SAMPLE_CORP_ID, "del_follow_user", "u", "wmA", 2), "event:change_external_contact", "k3")
    assert Worker(runtime, _dispatcher(runtime, calls)).run_until_idle() == 3
    assert calls == [("text", "1"), ("add", "wmA")]
    assert runtime.inbox.counts() == {"done": 3}


def test_failures_retry_with_backoff_then_succeed(runtime, clock):
    calls = []
    worker = Worker(runtime, _dispatcher(runtime, calls, fail_times=2))
    _add(runtime, text_message_xml(SAMPLE_CORP_ID, "5"), "msg:text", "k5")
    worker.run_once()
    assert runtime.inbox.counts() == {"pending": 1}
    assert worker.run_once() == 0  # not due yet: backoff
    clock.advance(1)
    worker.run_once()
    clock.advance(1)
    worker.run_once()
    assert calls == [("text", "5")]
    assert runtime.inbox.counts() == {"done": 1}


def test_dead_letter_list_and_replay(runtime, clock, monkeypatch):
    calls = []
    worker = Worker(runtime, _dispatcher(runtime, calls, fail_times=99))
    _add(runtime, text_message_xml(SAMPLE_CORP_ID, "6"), "msg:text", "k6")
    for _ in range(5):
        worker.run_once()
        clock.advance(1)
    assert runtime.inbox.counts() == {"dead": 1}

    from bot.cli import CliState, main

    state = CliState(None)
    state.__dict__["runtime"] = runtime  # the CLI over this test's runtime
    out = CliRunner().invoke(main, ["inbox", "list", "--failed"], obj=state)
    assert out.exit_code == 0, out.output
    assert "dead" in out.output and "RuntimeError" in out.output
    out = CliRunner().invoke(main, ["inbox", "replay", "1"], obj=state)
    assert out.exit_code == 0 and "重新排队" in out.output
    bad = CliRunner().invoke(main, ["inbox", "replay", "999"], obj=state)
    assert bad.exit_code != 0 and "999" in bad.output

    fixed = Worker(runtime, _dispatcher(runtime, calls, fail_times=0))
    fixed.run_until_idle()
    assert calls == [("text", "6")]
    assert runtime.inbox.counts() == {"done": 1}


def test_redelivery_after_commit_does_not_run_twice(runtime, clock):
    """A worker that committed the handler but died before marking the row done."""
    calls = []
    dispatcher = _dispatcher(runtime, calls)
    _add(runtime, text_message_xml(SAMPLE_CORP_ID, "8"), "msg:text", "k8")
    row = runtime.inbox.claim(10)[0]
    from bot.dispatcher import Update

    dispatcher.dispatch(Update(row.id, row.app, "app", row.kind, row.payload, row.received_at))  # ... then "dies"
    clock.advance(timedelta(seconds=3))  # the 2 s lease runs out
    Worker(runtime, dispatcher).run_until_idle()
    assert calls == [("text", "8")]
    assert runtime.inbox.counts() == {"done": 1}
    with runtime.session() as s:
        assert s.scalar(select(func.count()).select_from(HandledEvent)) == 1


def test_handler_error_rolls_back_its_database_work(runtime):
    def on_text(update, ctx):
        ctx.session.add(HandledEvent(inbox_id=999, handler="side-effect", handled_at=ctx.clock.now()))
        ctx.session.flush()
        raise ValueError("boom")

    d = Dispatcher(runtime)
    d.add_handler(Handler(F.message("text"), on_text))
    seen = []
    d.add_error_handler(lambda update, exc: seen.append(type(exc).__name__))
    _add(runtime, text_message_xml(SAMPLE_CORP_ID, "9"), "msg:text", "k9")
    Worker(runtime, d).run_once()
    assert seen == ["ValueError"]
    with runtime.session() as s:
        assert s.scalar(select(func.count()).select_from(HandledEvent)) == 0


@pytest.mark.postgres
def test_concurrent_workers_on_postgres_never_take_the_same_row(pg_url, redis_client, clock):
    runtime = build_runtime(foundation_settings(pg_url), clock=clock, redis=redis_client)
    for i in range(300):
        runtime.inbox.add("advisor", "msg:text", f"k{i}", text_message_xml(SAMPLE_CORP_ID, str(i)))
    claimed: list[list[int]] = [[], [], []]
    barrier = threading.Barrier(3)

    def drain(slot):
        barrier.wait()
        while rows := runtime.inbox.claim(7):
            claimed[slot].extend(r.id for r in rows)
            for r in rows:
                runtime.inbox.complete(r.id)

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    all_ids = [i for part in claimed for i in part]
    assert len(all_ids) == 300 and len(set(all_ids)) == 300
    assert all(part for part in claimed), "every worker got work"
    assert runtime.inbox.counts() == {"done": 300}
    runtime.close()


def test_postgres_intake_survives_a_dropped_connection(pg_url, redis_client, clock):
    # The intake keeps one connection per serving thread; if the server drops it (restart, idle
    # timeout), the next callback reconnects and is stored, and a duplicate is still recognised.
    from sqlalchemy import create_engine, text

    runtime = build_runtime(foundation_settings(pg_url), clock=clock, redis=redis_client)
    assert runtime.inbox.add("advisor", "msg:text", "k-before", text_message_xml(SAMPLE_CORP_ID, "1"))
    admin = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE application_name = 'advisor-bot intake' AND datname = current_database()"))
        assert killed.scalar() == 1
    assert runtime.inbox.add("advisor", "msg:text", "k-after", text_message_xml(SAMPLE_CORP_ID, "2"))
    assert not runtime.inbox.add("advisor", "msg:text", "k-after", text_message_xml(SAMPLE_CORP_ID, "2"))
    assert runtime.inbox.counts() == {"pending": 2}
    runtime.close()
    admin.dispose()
