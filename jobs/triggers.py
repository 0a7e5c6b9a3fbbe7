"""APScheduler triggers on the exchange calendar: fire at a Shanghai wall-clock time on trading days
(optionally only on the last trading day(s) before a holiday). Picklable, so they live in the job store."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

from jobs.calendar import CalendarNotCovered, get_calendar

_HORIZON_DAYS = 400


class TradingDayTrigger(BaseTrigger):
    """Fires at `at` (local time in `timezone`) on every trading day, or with `pre_holiday` only on the
    last `sessions_before` trading days before a closure of at least `min_days` calendar days.
    Beyond the calendar's data it falls back to weekdays; the job itself then refuses to run."""

    def __init__(self, at: time, *, timezone: str = "Asia/Shanghai", pre_holiday: bool = False,
                 sessions_before: int = 1, min_days: int = 3):
        self.hour, self.minute = at.hour, at.minute
        self.timezone = timezone
        self.pre_holiday = pre_holiday
        self.sessions_before = sessions_before
        self.min_days = min_days

    def _matches(self, day) -> bool:
        cal = get_calendar()
        try:
            if self.pre_holiday:
                return cal.is_pre_holiday(day, min_days=self.min_days, sessions_before=self.sessions_before)
            return cal.is_trading_day(day)
        except CalendarNotCovered:
            return day.weekday() < 5

    def get_next_fire_time(self, previous_fire_time, now):
        start = min(now, previous_fire_time + timedelta(microseconds=1)) if previous_fire_time else now
        zone = ZoneInfo(self.timezone)
        local = start.astimezone(zone)
        day = local.date()
        for _ in range(_HORIZON_DAYS):
            candidate = datetime(day.year, day.month, day.day, self.hour, self.minute, tzinfo=zone)
            if candidate >= start and self._matches(day):
                return candidate
            day += timedelta(days=1)
        return None

    def __str__(self) -> str:
        kind = f"pre_holiday[{self.sessions_before},{self.min_days}]" if self.pre_holiday else "trading_days"
        return f"{kind}[{self.hour:02d}:{self.minute:02d} {self.timezone}]"

    def __repr__(self) -> str:
        return f"<TradingDayTrigger {self}>"


def fire_times(trigger, start: datetime, end: datetime) -> list[datetime]:
    """Every fire time of `trigger` in [start, end) — how tests drive jobs on the simulator's clock."""
    out, previous, now = [], None, start
    while True:
        nxt = trigger.get_next_fire_time(previous, now)
        if nxt is None or nxt >= end:
            return out
        out.append(nxt)
        previous, now = nxt, nxt + timedelta(microseconds=1)
