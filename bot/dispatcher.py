"""Dispatches inbox updates to handlers, in the shape of python-telegram-bot's Application.

Handlers live in groups; within a group the first handler whose filter matches runs; groups run in
ascending order. A handler runs inside one database transaction together with its row in the
`handled_event` ledger, so a redelivered event (worker killed after the commit) is skipped, not run
twice in effect. Exceptions go to the error handlers and then fail the inbox row (it is retried).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import xmltodict
from sqlalchemy import select
from sqlalchemy.orm import Session
from wechatpy.work.parser import parse_message

from bot.filters import Filter
from bot.models import HandledEvent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Update:
    """One decrypted WeCom callback taken from the inbox."""

    id: int
    app: str
    app_kind: str
    kind: str
    payload: str
    received_at: datetime

    @cached_property
    def data(self) -> dict[str, Any]:
        return xmltodict.parse(self.payload)["xml"]

    @cached_property
    def message(self):
        return parse_message(self.payload)


@dataclass
class HandlerContext:
    """What a handler callback gets besides the update: the runtime's services and this unit of work."""

    runtime: Any
    session: Session

    @property
    def services(self):
        return self.runtime.services

    @property
    def clock(self):
        return self.runtime.clock

    def wecom(self, app_name: str):
        return self.runtime.wecom.client(app_name)


@dataclass(frozen=True)
class Handler:
    filter: Filter
    callback: Callable[[Update, HandlerContext], Any]
    name: str = ""

    @property
    def key(self) -> str:
        return self.name or f"{self.callback.__module__}.{self.callback.__qualname__}"

    def check(self, update: Update) -> bool:
        return self.filter(update)


@dataclass
class Dispatcher:
    runtime: Any
    groups: dict[int, list[Handler]] = field(default_factory=dict)
    error_handlers: list[Callable[[Update, BaseException], None]] = field(default_factory=list)

    def add_handler(self, handler: Handler, group: int = 0) -> None:
        self.groups.setdefault(group, []).append(handler)

    def add_error_handler(self, callback: Callable[[Update, BaseException], None]) -> None:
        self.error_handlers.append(callback)

    def handlers_for(self, update: Update) -> list[Handler]:
        chosen = []
        for group in sorted(self.groups):
            for handler in self.groups[group]:
                if handler.check(update):
                    chosen.append(handler)
                    break
        return chosen

    def dispatch(self, update: Update) -> list[str]:
        """Run the matching handlers; returns the keys of those that ran now (not before)."""
        ran = []
        chosen = self.handlers_for(update)
        if not chosen:
            logger.info("no handler for inbox id=%s kind=%s", update.id, update.kind)
        for handler in chosen:
            session = self.runtime.session_factory()
            try:
                done = session.scalar(select(HandledEvent.id).where(
                    HandledEvent.inbox_id == update.id, HandledEvent.handler == handler.key))
                if done is not None:
                    continue
                handler.callback(update, HandlerContext(self.runtime, session))
                session.add(HandledEvent(inbox_id=update.id, handler=handler.key, handled_at=self.runtime.clock.now()))
                session.commit()
                ran.append(handler.key)
            except BaseException as exc:
                session.rollback()
                for on_error in self.error_handlers:
                    try:
                        on_error(update, exc)
                    except Exception:  # an error handler must never hide the original failure
                        logger.exception("error handler failed for inbox id=%s", update.id)
                raise
            finally:
                session.close()
        return ran
