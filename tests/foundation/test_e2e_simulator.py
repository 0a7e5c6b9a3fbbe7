"""End to end: the simulator posts encrypted callbacks to the running bot; each event reaches its
handlers exactly once even though every delivery is repeated 3 times."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from bot import filters as F
from bot.app import create_app
from bot.dispatcher import Handler
from bot.runtime import build_runtime
from bot.wecom.simulator import Simulator
from bot.worker import Worker
from tests.foundation.conftest import foundation_settings


@pytest.fixture
def served(sqlite_url, redis_client, clock):
    runtime = build_runtime(foundation_settings(sqlite_url), clock=clock, redis=redis_client, sleep=lambda s: None)
    server = make_server("127.0.0.1", 0, create_app(runtime=runtime), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sim = Simulator.from_settings(runtime.settings, clock=clock)
    sim.start()
    sim.connect_product(f"http://127.0.0.1:{server.server_port}/wecom/{{app}}/callback")
    yield runtime, sim
    sim.stop()
    server.shutdown()
    runtime.close()


def test_simulator_verifies_callback_url(served):
    _, sim = served
    status, body, expected = sim.callbacks.verify_url("advisor")
    assert status == 200 and body == expected


def test_each_event_reaches_its_handler_exactly_once(served):
    runtime, sim = served
    text = sim.callbacks.text_message("zhangsan", "开户需要什么材料？", app="advisor", repeat=3)
    added = sim.callbacks.add_external_contact("zhangsan", "wmEXTERNAL0001", state="qr-1", welcome_code="WC1",
                                               app="contacts", repeat=3)
    assert text.statuses == [200, 200, 200] and added.statuses == [200, 200, 200]
    assert runtime.inbox.counts() == {"pending": 2}

    seen: list[tuple[str, str]] = []
    dispatcher = runtime.build_dispatcher()  # the product's own handler table ...
    # ... plus an observer in its own group, so the product's handlers still run as they would.
    dispatcher.add_handler(Handler(F.message("text") | F.event("change_external_contact"),
                                   lambda u, ctx: seen.append((u.kind, u.data.get("MsgId") or u.data["ChangeType"])),
                                   name="observer"), group=-1)
    worker = Worker(runtime, dispatcher)
    for _ in range(3):  # workers running again find nothing new to do
        worker.run_until_idle()
    assert sorted(seen) == [("event:change_external_contact", "add_external_contact"),
                            ("msg:text", text.plaintext.split("<MsgId>")[1].split("</MsgId>")[0])]
    assert runtime.inbox.counts().get("pending", 0) == 0
