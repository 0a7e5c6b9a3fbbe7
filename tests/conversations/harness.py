"""A running bot (Flask callback intake on a real port, worker, SQLite or PostgreSQL, Redis DB 6) wired
to the WeCom simulator on a manual clock, for the conversation tests and the latency benchmark."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import make_server

from bot.app import create_app
from bot.config import load_settings
from bot.runtime import build_runtime
from bot.wecom.simulator import Simulator
from bot.worker import Worker

REDIS_DB = 6
CORP_ID = "wwconvtest0001"
OPEN_KFID = "wkKFCONV0001"
ADVISOR, POOL_ADVISOR, SERVICER = "zhangsan", "lisi", "wangwu"
API_TOKEN = "conv-test-token"
APPS = {
    "advisor": {"kind": "app", "agent_id": 1000002, "secret": "conv-app-secret", "token": "AppTok",
                "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"},
    "kf": {"kind": "kf", "secret": "conv-kf-secret", "token": "KfTok",
           "encoding_aes_key": "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"},
}


def conversation_settings(db_url: str, **conversations: Any):
    overrides = {
        "database": {"url": db_url},
        "redis": {"url": f"redis://127.0.0.1:6379/{REDIS_DB}", "prefix": "t-conv"},
        "worker": {"lease_seconds": 30, "max_attempts": 5, "backoff_base_seconds": 0.01,
                   "backoff_max_seconds": 0.05},
        "wecom": {"corp_id": CORP_ID, "timeout_seconds": 1.0, "max_retries": 0, "rate_limit_backoff_seconds": 0.2, "apps": APPS},
        "conversations": {"pool_advisors": [POOL_ADVISOR], "servicer_pool": [SERVICER], "api_token": API_TOKEN,
                          **conversations},
    }
    return load_settings(overrides=overrides, environ={})


@dataclass
class Env:
    runtime: Any
    sim: Simulator
    server: Any
    url: str
    workers: list = field(default_factory=list)

    @property
    def service(self):
        return self.runtime.services.conversations

    def drain(self) -> int:
        worker = self.workers[-1] if self.workers else Worker(self.runtime)
        if not self.workers:
            self.workers.append(worker)
        return worker.run_until_idle()

    def restart_worker(self, settings=None) -> None:
        """A new process: a fresh runtime (engine, services, WeCom clients) and worker on the same data."""
        old = self.runtime
        self.runtime = build_runtime(settings or old.settings, clock=old.clock, redis=old.redis,
                                     sleep=lambda s: None)
        for name in ("content", "presend"):
            if name in old.services._built:
                self.runtime.services.register(name, old.services._built[name])
        self.workers.append(Worker(self.runtime))

    def close(self) -> None:
        self.sim.stop()
        self.server.shutdown()
        self.runtime.close()


def start_env(settings, clock, redis, *, register: dict | None = None) -> Env:
    sim = Simulator(settings.wecom.corp_id, dict(settings.wecom.apps), clock=clock)
    base_url = sim.start()
    settings = load_settings(overrides={**settings.model_dump(), "wecom": {**settings.wecom.model_dump(),
                                                                           "api_base_url": base_url}}, environ={})
    runtime = build_runtime(settings, clock=clock, redis=redis, sleep=lambda s: None)
    for name, service in (register or {}).items():
        runtime.services.register(name, service)
    app = create_app(runtime=runtime)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    sim.connect_product(url + "/wecom/{app}/callback")
    for userid, name in ((ADVISOR, "张三"), (POOL_ADVISOR, "李四"), (SERVICER, "王五")):
        sim.add_member(userid, name)
    sim.kf_add_account(OPEN_KFID, "财富小助手", servicers=[SERVICER])
    return Env(runtime, sim, server, url)
