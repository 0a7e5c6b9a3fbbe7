"""Trading calendar and calendar triggers (XSHG data in exchange_calendars ends 2026-12-31)."""

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from jobs.calendar import CalendarNotCovered, TradingCalendar, _exchange_sessions, get_calendar
from jobs.triggers import TradingDayTrigger, fire_times

SH = ZoneInfo("Asia/Shanghai")


def test_national_day_2026_is_closed():
    cal = get_calendar()
    assert cal.is_trading_day(date(2026, 9, 30))
    for d in range(1, 8):
        assert not cal.is_trading_day(date(2026, 10, d))
    assert cal.is_trading_day(date(2026, 10, 8))
    assert not cal.is_trading_day(date(2026, 9, 25))  # 中秋
    assert cal.closed_days_after(date(2026, 9, 30)) == 7


def test_pre_holiday_days():
    cal = get_calendar()
    assert cal.is_pre_holiday(date(2026, 9, 30))
    assert cal.is_pre_holiday(date(2026, 9, 24))  # 中秋: Fri 25th + weekend = 3 closed days
    assert not cal.is_pre_holiday(date(2026, 9, 29))
    assert cal.is_pre_holiday(date(2026, 9, 29), sessions_before=2)
    assert not cal.is_pre_holiday(date(2026, 10, 9))  # an ordinary weekend is 2 days


def test_beyond_data_is_not_guessed():
    cal = get_calendar()
    with pytest.raises(CalendarNotCovered):
        cal.is_trading_day(date(2027, 1, 4))


def test_operator_extension():
    cal = TradingCalendar(_exchange_sessions("XSHG"), extra_closed={date(2027, 1, 1)},
                          extended_until=date(2027, 1, 31))
    assert not cal.is_trading_day(date(2027, 1, 1))
    assert cal.is_trading_day(date(2027, 1, 4))
    assert not cal.is_trading_day(date(2027, 1, 2))


def test_trading_day_trigger_skips_holiday_month():
    trig = TradingDayTrigger(time(15, 30))
    start = datetime(2026, 9, 21, tzinfo=timezone.utc)
    end = datetime(2026, 10, 21, tzinfo=timezone.utc)
    fires = fire_times(trig, start, end)
    days = [f.astimezone(SH).date() for f in fires]
    assert days == get_calendar().trading_days(date(2026, 9, 21), date(2026, 10, 20))
    assert all(f.astimezone(SH).time() == time(15, 30) for f in fires)
    assert date(2026, 10, 1) not in days and len(days) == 16


def test_pre_holiday_trigger():
    trig = TradingDayTrigger(time(10, 0), pre_holiday=True)
    fires = fire_times(trig, datetime(2026, 9, 1, tzinfo=timezone.utc), datetime(2026, 12, 31, tzinfo=timezone.utc))
    assert [f.astimezone(SH).date() for f in fires] == [date(2026, 9, 24), date(2026, 9, 30)]


def test_trigger_pickles():
    import pickle

    trig = pickle.loads(pickle.dumps(TradingDayTrigger(time(9, 0), pre_holiday=True, sessions_before=2)))
    assert str(trig) == "pre_holiday[2,3][09:00 Asia/Shanghai]"
