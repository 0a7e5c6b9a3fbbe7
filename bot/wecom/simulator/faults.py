"""Fault knobs: make the next calls to an API fail with a chosen errcode, or answer slowly."""

from __future__ import annotations

import threading
from collections import deque


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fail: dict[str, deque[int]] = {}
        self._delay: dict[str, float] = {}

    @staticmethod
    def _key(path: str) -> str:
        # Accept "kf/send_msg", "/cgi-bin/kf/send_msg" or "*" (any API).
        return path.split("cgi-bin/", 1)[-1].strip("/") or "*"

    def fail_next(self, path: str, errcode: int = -1, times: int = 1) -> None:
        """The next `times` calls to `path` answer `errcode` (-1 busy, 45033 concurrency, any code)."""
        with self._lock:
            self._fail.setdefault(self._key(path), deque()).extend([int(errcode)] * int(times))

    def delay(self, path: str, seconds: float) -> None:
        """Calls to `path` wait `seconds` (real time) before answering; 0 removes the delay."""
        with self._lock:
            if seconds:
                self._delay[self._key(path)] = float(seconds)
            else:
                self._delay.pop(self._key(path), None)

    def clear(self) -> None:
        with self._lock:
            self._fail.clear()
            self._delay.clear()

    def take_failure(self, path: str) -> int | None:
        with self._lock:
            for key in (path, "*"):
                queue = self._fail.get(key)
                if queue:
                    return queue.popleft()
        return None

    def delay_for(self, path: str) -> float:
        with self._lock:
            return self._delay.get(path, self._delay.get("*", 0.0))
