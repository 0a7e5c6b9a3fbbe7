"""Courtesy rules: the per-client budget across all campaigns and quiet hours.

Budget: calendar day / week (Monday start) / month in the market time zone, counting every push a
WeCom task was created for (queued or sent) in any campaign; the month cap is also clamped to WeCom's
default per-customer cap (days in the month). Quiet hours: nothing is queued inside the window; a
firing that lands there (a late misfire) is deferred to the window's end.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from jobs.planning import BudgetWindow, budget_window, over_budget  # noqa: F401  (the budget API)


def in_quiet_hours(now: datetime, start: time, end: time, tz: str) -> bool:
    local = now.astimezone(ZoneInfo(tz)).time()
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_end(now: datetime, start: time, end: time, tz: str) -> datetime:
    """The first moment after `now` outside quiet hours (now itself when not quiet)."""
    if not in_quiet_hours(now, start, end, tz):
        return now
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), end, tzinfo=zone)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate


def window_for(now: datetime, settings) -> BudgetWindow:
    return budget_window(now, settings.timezone, max_day=settings.max_per_day, max_week=settings.max_per_week,
                         max_month=settings.max_per_month)
