"""The Shanghai exchange (XSHG) trading calendar, from exchange_calendars.

exchange_calendars 4.13 records XSHG holidays up to the end of 2026 only. Days after its last
session are *not* guessed: they raise CalendarNotCovered unless the operator extends the calendar with
`[campaigns] calendar_extended_until` and `extra_closed_days` (the exchange announces next year's
closures each December). A job on a day the calendar does not cover is skipped with an error log.
"""

from __future__ import annotations

import bisect
import logging
import threading
from datetime import date, timedelta
from functools import lru_cache

logger = logging.getLogger(__name__)


class CalendarNotCovered(Exception):
    """The trading calendar has no data for this day."""


@lru_cache(maxsize=4)
def _exchange_sessions(exchange: str) -> tuple[date, ...]:
    import exchange_calendars as xcals

    cal = xcals.get_calendar(exchange)
    return tuple(ts.date() for ts in cal.sessions)


class TradingCalendar:
    def __init__(self, sessions: list[date] | tuple[date, ...], *, extra_closed: set[date] = frozenset(),
                 extended_until: date | None = None, name: str = "XSHG"):
        if not sessions:
            raise ValueError("a trading calendar needs sessions")
        self.name = name
        days = sorted(d for d in sessions if d not in extra_closed)
        self.first = days[0]
        last_known = sessions[-1]
        self.last = max(last_known, extended_until) if extended_until else last_known
        if extended_until and extended_until > last_known:  # weekdays minus the announced closures
            day = last_known + timedelta(days=1)
            while day <= extended_until:
                if day.weekday() < 5 and day not in extra_closed:
                    days.append(day)
                day += timedelta(days=1)
        self._days = days
        self._set = set(days)

    @classmethod
    def from_settings(cls, cs) -> "TradingCalendar":
        extra = {date.fromisoformat(d) for d in cs.extra_closed_days}
        until = date.fromisoformat(cs.calendar_extended_until) if cs.calendar_extended_until else None
        return cls(_exchange_sessions(cs.exchange), extra_closed=extra, extended_until=until, name=cs.exchange)

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last

    def _check(self, day: date) -> None:
        if not self.covers(day):
            raise CalendarNotCovered(f"{self.name} calendar covers {self.first}..{self.last}, not {day}")

    def is_trading_day(self, day: date) -> bool:
        self._check(day)
        return day in self._set

    def next_trading_day(self, day: date, *, inclusive: bool = True) -> date:
        idx = bisect.bisect_left(self._days, day) if inclusive else bisect.bisect_right(self._days, day)
        if idx >= len(self._days):
            raise CalendarNotCovered(f"no {self.name} session known after {day}")
        return self._days[idx]

    def previous_trading_day(self, day: date, *, inclusive: bool = False) -> date:
        idx = bisect.bisect_right(self._days, day) if inclusive else bisect.bisect_left(self._days, day)
        if idx == 0:
            raise CalendarNotCovered(f"no {self.name} session known before {day}")
        return self._days[idx - 1]

    def trading_days(self, start: date, end: date) -> list[date]:
        lo, hi = bisect.bisect_left(self._days, start), bisect.bisect_right(self._days, end)
        return self._days[lo:hi]

    def closed_days_after(self, day: date) -> int:
        """Calendar days without a session between trading day `day` and the next session."""
        return (self.next_trading_day(day, inclusive=False) - day).days - 1

    def is_pre_holiday(self, day: date, *, min_days: int = 3, sessions_before: int = 1) -> bool:
        """True on the last `sessions_before` trading days before a closure of ≥ min_days days."""
        if not self.is_trading_day(day):
            return False
        probe = day
        for _ in range(sessions_before):
            if self.closed_days_after(probe) >= min_days:
                return True
            probe = self.next_trading_day(probe, inclusive=False)
        return False

    def holiday_after(self, day: date) -> tuple[date, date] | None:
        """(first closed day, next session) when a closure of ≥3 days follows trading day `day`."""
        nxt = self.next_trading_day(day, inclusive=False)
        return (day + timedelta(days=1), nxt) if (nxt - day).days - 1 >= 3 else None


_lock = threading.Lock()
_current: TradingCalendar | None = None


def configure(calendar: TradingCalendar) -> None:
    global _current
    with _lock:
        _current = calendar


def get_calendar() -> TradingCalendar:
    """The process's calendar (configured by the scheduler from settings; XSHG defaults otherwise)."""
    global _current
    with _lock:
        if _current is None:
            _current = TradingCalendar(_exchange_sessions("XSHG"))
        return _current
