"""The composition root: everything the web app, the worker, the scheduler and the CLI share.

`build_runtime(settings)` wires settings, database, Redis, clock, the WeCom gateway, the inbox and the
domain services. Domain services are registered by name in SERVICE_FACTORIES and built on first use,
so a command that needs one service does not load the others (e.g. the embedding model).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.db import make_engine, make_session_factory, session_scope
from bot.inbox import InboxStore
from bot.redis_factory import make_redis
from bot.refs import resolve
from bot.wecom.client import WeComGateway

# name -> "module:function"; the function takes the Runtime and returns the service.
SERVICE_FACTORIES: dict[str, str] = {
    "content": "content.service:build_content_services",
    "presend": "bot.compliance.presend:build_presend_guard",
    "archive": "bot.compliance.archive:build_archive_service",
    "holds": "bot.compliance.holds:build_hold_service",
    "review": "bot.compliance.review:build_review_service",
    "archive_puller": "bot.compliance.archive_source:build_puller",
    "archive_verifier": "bot.compliance.verify:build_verifier",
    "archive_search": "bot.compliance.search:build_search",
    "surveillance": "bot.compliance.surveillance:build_surveillance",
    "retention": "bot.compliance.retention:build_retention_service",
    "case_export": "bot.compliance.export:build_exporter",
    "campaigns": "jobs.campaigns:build_campaign_service",
    "contacts": "bot.contacts.service:build_contacts_service",
    "conversations": "bot.conversations.service:build_conversation_service",
}


class ServiceRegistry:
    def __init__(self, runtime: "Runtime", factories: dict[str, str]):
        self._runtime = runtime
        self._factories = dict(factories)
        self._built: dict[str, Any] = {}
        self._lock = threading.RLock()

    def register(self, name: str, service: Any) -> None:
        """Provide a service instance directly (tests, or a service built elsewhere)."""
        with self._lock:
            self._built[name] = service

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        with self._lock:
            if name not in self._built:
                target = self._factories.get(name)
                if target is None:
                    raise AttributeError(f"no service named {name!r}")
                self._built[name] = resolve(target)(self._runtime)
            return self._built[name]

    def available(self, name: str) -> bool:
        return name in self._built or name in self._factories


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    engine: Engine
    session_factory: sessionmaker[Session]
    redis: Any
    wecom: WeComGateway
    inbox: InboxStore
    services: ServiceRegistry = field(init=False)

    def session(self) -> AbstractContextManager[Session]:
        return session_scope(self.session_factory)

    def app_kind(self, app_name: str) -> str:
        app = self.settings.wecom.apps.get(app_name)
        return app.kind if app else "app"

    def build_dispatcher(self):
        from bot.dispatcher import Dispatcher
        from handlers.registry import register

        dispatcher = Dispatcher(self)
        register(dispatcher)
        return dispatcher

    def close(self) -> None:
        self.inbox.close()
        self.engine.dispose()


def build_runtime(settings: Settings, *, clock: Clock | None = None, redis: Any = None,
                  sleep: Callable[[float], None] = time.sleep,
                  extra_services: dict[str, str] | None = None) -> Runtime:
    clock = clock or SystemClock()
    engine = make_engine(settings.database.url, pool_size=settings.database.pool_size, echo=settings.database.echo)
    redis = redis if redis is not None else make_redis(settings.redis.url)
    worker = settings.worker
    runtime = Runtime(
        settings=settings,
        clock=clock,
        engine=engine,
        session_factory=make_session_factory(engine),
        redis=redis,
        wecom=WeComGateway(settings.wecom, redis, settings.redis.prefix, sleep=sleep),
        inbox=InboxStore(engine, clock, lease_seconds=worker.lease_seconds, max_attempts=worker.max_attempts,
                         backoff_base_seconds=worker.backoff_base_seconds,
                         backoff_max_seconds=worker.backoff_max_seconds),
    )
    runtime.services = ServiceRegistry(runtime, {**SERVICE_FACTORIES, **(extra_services or {})})
    return runtime
