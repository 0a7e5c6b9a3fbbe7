"""`Simulator`: all WeCom state in memory behind one lock, served over HTTP, with a Python API for
tests and the demo to seed state, act as users, move time and inject faults."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any, Callable

from .actions import Actions
from .appmsg import AppMessages
from .callbacks import CallbackSender, Delivery
from .contacts import Contacts
from .core import Core
from .faults import Faults
from .kf import Kf
from .groupmsg import GroupMessages
from .server import LoggedRequest, SimulatorServer
from .tags import Tags
from .transfer import Transfers


class Simulator(Actions):
    # Methods another process may call through POST /_sim/<name> with JSON keyword arguments.
    CONTROL_METHODS = {
        "fail_next", "delay", "clear_faults", "expire_tokens", "advance", "tick", "add_member",
        "resign_member", "add_external_contact", "remove_external_contact", "customer_deletes_member",
        "add_corp_tags", "kf_add_account", "kf_user_says", "kf_servicer_says", "kf_end_session", "kf_sent",
        "set_rate_limit", "connect_product", "refuse_transfer", "set_customer_limit", "confirm_groupmsg",
        "set_groupmsg_cap", "click_card", "app_messages", "welcome_messages", "edit_external_contact",
        "add_group_chat", "group_chat_join", "group_chat_leave", "dismiss_group_chat", "request_log", "kf_state",
        "follow_users", "contact_tags", "groupmsg_received",
    }

    def __init__(self, corp_id: str, apps: dict[str, Any], clock: Any = None, *, host: str = "127.0.0.1",
                 port: int = 0):
        self.core = Core(corp_id, apps, clock)
        self.lock = self.core.lock
        self.faults = Faults()
        self.requests: list[LoggedRequest] = []
        self.tags = Tags(self.core)
        self.contacts = Contacts(self.core, self.tags.lookup)
        self.tags.contacts = self.contacts
        self.kf = Kf(self.core)
        self.transfers = Transfers(self.core, self.contacts)
        self.groupmsg = GroupMessages(self.core, self.contacts)
        self.appmsg = AppMessages(self.core)
        self.routes: dict[str, Callable[[dict], dict]] = {}
        for domain in (self.core, self.contacts, self.tags, self.kf, self.transfers, self.groupmsg, self.appmsg):
            self.routes.update(domain.routes())
        self.sender: CallbackSender | None = None
        self._server = SimulatorServer(self)
        self._host, self._port = host, port
        self.base_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Any, clock: Any = None) -> "Simulator":
        """Build from bot.config Settings: same corp id and app secrets/tokens/keys as the product."""
        return cls(settings.wecom.corp_id, dict(settings.wecom.apps), clock,
                   host=settings.simulator.host, port=settings.simulator.port)

    # ---- lifecycle
    @property
    def clock(self):
        return self.core.clock

    @property
    def corp_id(self) -> str:
        return self.core.corp_id

    def start(self, port: int | None = None) -> str:
        """Serve in a background thread; returns the base URL ("http://127.0.0.1:PORT/cgi-bin/")."""
        self.base_url = self._server.start(self._host, self._port if port is None else port)
        return self.base_url

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> "Simulator":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- callbacks to the product
    def connect_product(self, url: str | Callable[[str], str]) -> None:
        """Where WeCom posts callbacks: a callable app -> URL or a template like
        "http://127.0.0.1:8000/wecom/{app}/callback"."""
        self.sender = CallbackSender(url, self.core.corp_id, self.core.apps, clock=self.core.clock)

    @property
    def callbacks(self) -> CallbackSender:
        if self.sender is None:
            raise RuntimeError("connect_product(url) first")
        return self.sender

    def flush(self) -> list[Delivery]:
        """Send the callbacks that state changes produced (outside the lock; the product may call back)."""
        with self.lock:
            pending = self.core.take_outbox()
        if self.sender is None:
            return []
        return [self.sender.send(cb.app or self.sender.app_for(cb.kind), cb.fields) for cb in pending]

    def flush_async(self) -> None:
        """From inside an API request: deliver callbacks on a thread so the answer is not held up."""
        with self.lock:
            if not self.core.outbox:
                return
        threading.Thread(target=self.flush, name="wecom-sim-callbacks", daemon=True).start()

    def _changed(self) -> list[Delivery]:
        with self.lock:
            self.core.settle()
        return self.flush()

    # ---- time, faults, limits
    def advance(self, seconds: float | timedelta = 0) -> list[Delivery]:
        """Move the sim clock (it must have .advance) and deliver what became due."""
        self.core.clock.advance(seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds))
        return self._changed()

    def tick(self) -> list[Delivery]:
        """Apply time-driven changes after moving an external clock yourself."""
        return self._changed()

    def fail_next(self, path: str, errcode: int = -1, times: int = 1) -> None:
        self.faults.fail_next(path, errcode, times)

    def delay(self, path: str, seconds: float) -> None:
        self.faults.delay(path, seconds)

    def clear_faults(self) -> None:
        self.faults.clear()

    def expire_tokens(self) -> None:
        with self.lock:
            self.core.expire_tokens()

    def set_rate_limit(self, path: str, per_minute: int | None = None, per_hour: int | None = None) -> None:
        with self.lock:
            self.core.set_api_limit(path.split("cgi-bin/", 1)[-1].strip("/"), per_minute, per_hour)

    def calls(self, path: str) -> list[LoggedRequest]:
        return [r for r in list(self.requests) if r.path == path]
