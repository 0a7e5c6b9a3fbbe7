"""The one table of handlers: which callback takes which WeCom event kind.

Each row is (group, Handler(filter, callback)). Within a group the first matching row wins; groups run
in ascending order. Callbacks are small functions `on_<event>(update, ctx)` in this package that call
services; they hold no SQL and no HTTP.
"""

from __future__ import annotations

from bot import filters as F
from bot.dispatcher import Dispatcher, Handler
from handlers import archive

HANDLERS: list[tuple[int, Handler]] = [
    (0, Handler(F.event("msgaudit_notify"), archive.on_msgaudit_notify)),
]


def register(dispatcher: Dispatcher) -> None:
    for group, handler in HANDLERS:
        dispatcher.add_handler(handler, group)
