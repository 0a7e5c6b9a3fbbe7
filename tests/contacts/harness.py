"""The product (Flask callbacks + worker) wired to the WeCom simulator, sharing one manual clock."""

from __future__ import annotations

import threading

from werkzeug.serving import make_server

from bot.app import create_app
from bot.config import load_settings
from bot.runtime import build_runtime
from bot.wecom.simulator import Simulator
from bot.worker import Worker

CORP = "wwcontactscorp"
APPS = {
    "advisor": {"kind": "app", "agent_id": 1000002, "secret": "advisor-secret", "token": "AdvTok",
                "encoding_aes_key": "b" * 43},
    "contacts": {"kind": "contacts", "secret": "contacts-secret", "token": "ContactsTok",
                 "encoding_aes_key": "a" * 43},
}


def settings_for(db_url: str, base_url: str, contacts: dict | None = None):
    return load_settings(overrides={
        "database": {"url": db_url},
        "redis": {"prefix": "t-contacts"},
        "wecom": {"corp_id": CORP, "api_base_url": base_url, "apps": APPS, "timeout_seconds": 5},
        "contacts": {"central_ops_userid": "central", **(contacts or {})},
    }, environ={})


class Harness:
    def __init__(self, db_url: str, clock, redis, contacts: dict | None = None):
        self.sim = Simulator(CORP, APPS, clock)
        base = self.sim.start()
        self.runtime = build_runtime(settings_for(db_url, base, contacts), clock=clock, redis=redis,
                                     sleep=lambda s: None)
        self.server = make_server("127.0.0.1", 0, create_app(runtime=self.runtime), threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.sim.connect_product(f"http://127.0.0.1:{self.server.server_port}/wecom/{{app}}/callback")
        self.worker = Worker(self.runtime)
        self.clock = clock

    @property
    def contacts(self):
        return self.runtime.services.contacts

    def drain(self) -> int:
        return self.worker.run_until_idle()

    def advance(self, **delta) -> None:
        from datetime import timedelta

        deliveries = self.sim.advance(timedelta(**delta))
        assert all(d.ok for d in deliveries)
        self.drain()

    def close(self) -> None:
        self.sim.stop()
        self.server.shutdown()
        self.runtime.close()
