"""The worker loop: claim inbox rows, dispatch them, mark them done or failed."""

from __future__ import annotations

import logging
import threading

from bot.dispatcher import Dispatcher, Update
from bot.inbox import InboxRow

logger = logging.getLogger(__name__)


class Worker:
    def __init__(self, runtime, dispatcher: Dispatcher | None = None, *, stop_event: threading.Event | None = None):
        self.runtime = runtime
        self.dispatcher = dispatcher or runtime.build_dispatcher()
        self.stop_event = stop_event or threading.Event()
        self._settings = runtime.settings.worker

    def process_row(self, row: InboxRow) -> None:
        update = Update(id=row.id, app=row.app, app_kind=self.runtime.app_kind(row.app), kind=row.kind,
                        payload=row.payload, received_at=row.received_at)
        try:
            self.dispatcher.dispatch(update)
        except Exception as exc:  # the row is retried with backoff, then dead-lettered
            status = self.runtime.inbox.fail(row, f"{type(exc).__name__}: {exc}")
            logger.warning("inbox id=%s kind=%s failed (attempt %d, now %s): %s", row.id, row.kind, row.attempts,
                           status, type(exc).__name__)
            return
        self.runtime.inbox.complete(row.id)

    def run_once(self) -> int:
        rows = self.runtime.inbox.claim(self._settings.batch_size)
        for row in rows:
            if self.stop_event.is_set():
                break  # unprocessed claimed rows come back when their lease ends
            self.process_row(row)
        return len(rows)

    def run_until_idle(self, max_rounds: int = 1000) -> int:
        total = 0
        for _ in range(max_rounds):
            n = self.run_once()
            total += n
            if n == 0:
                break
        return total

    def run_forever(self) -> None:
        logger.info("worker started")
        while not self.stop_event.is_set():
            try:
                n = self.run_once()
            except Exception:  # a database hiccup must not kill the worker
                logger.exception("worker round failed")
                n = 0
            if n == 0:
                self.stop_event.wait(self._settings.poll_interval_seconds)
        logger.info("worker stopped")

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="inbox-worker", daemon=True)
        thread.start()
        return thread
