"""The calendar event feed (IPO subscription days, record and ex-dividend dates): a TOML file of
`[[event]]` tables, re-read when it changes."""

from __future__ import annotations

import os
import threading
import tomllib
from datetime import date
from pathlib import Path

_cache: dict[str, tuple[float, list[dict]]] = {}
_lock = threading.Lock()
_LABELS = {"ipo_subscription": "新股申购", "record_date": "股权登记日", "ex_dividend": "除权除息日",
           "rights_issue": "配股缴款", "bond_subscription": "可转债申购"}


class FeedError(Exception):
    pass


def _resolve(path: str) -> Path:
    p = Path(path)
    if not p.is_absolute() and not p.exists():
        p = Path(__file__).resolve().parent.parent / path
    return p


def load(path: str) -> list[dict]:
    p = _resolve(path)
    try:
        mtime = os.stat(p).st_mtime
    except FileNotFoundError:
        raise FeedError(f"event feed not found: {path}") from None
    with _lock:
        cached = _cache.get(str(p))
        if cached and cached[0] == mtime:
            return cached[1]
    with open(p, "rb") as fh:
        data = tomllib.load(fh)
    events = []
    for i, raw in enumerate(data.get("event", [])):
        if not {"kind", "date", "name"} <= set(raw):
            raise FeedError(f"{path}: event[{i}] needs kind, date and name")
        day = raw["date"] if isinstance(raw["date"], date) else date.fromisoformat(str(raw["date"]))
        events.append({**raw, "date": day})
    with _lock:
        _cache[str(p)] = (mtime, events)
    return events


def events_on(path: str, kind: str, day: date) -> list[dict]:
    return [e for e in load(path) if e["kind"] == kind and e["date"] == day]


def describe(event: dict) -> str:
    parts = [event["name"]]
    if event.get("code"):
        parts.append(f"（{event['code']}）")
    if event.get("market"):
        parts.append(f"{event['market']}")
    if event.get("detail"):
        parts.append(f"，{event['detail']}")
    return "".join(parts)
