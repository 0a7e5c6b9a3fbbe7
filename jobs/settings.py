"""The `[campaigns]` settings section (scheduler, budget, courtesy, holdout, delivery, outcome)."""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field, field_validator


class CampaignSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- scheduler ---
    # Run the scheduler as a thread inside `advisor-bot serve` (the embedded default).
    scheduler_embedded: bool = True
    scheduler_threads: int = Field(4, ge=1, le=64)
    # How long a per-run Redis lock (job id + scheduled fire time) is kept; must exceed any grace time.
    run_lock_seconds: int = Field(172800, ge=60)
    timezone: str = "Asia/Shanghai"
    # --- trading calendar ---
    exchange: str = "XSHG"
    # Closed days announced after the installed exchange_calendars data ends (its XSHG data stops at
    # the end of 2026); with `calendar_extended_until`, days up to that date are weekdays minus these.
    extra_closed_days: list[str] = Field(default_factory=list)
    calendar_extended_until: str | None = None
    # A holiday is a run of at least this many closed calendar days between two sessions.
    holiday_min_days: int = Field(3, ge=2)
    # --- channel ---
    wecom_app: str = "app"
    max_ids_per_task: int = Field(10000, ge=1, le=10000)
    # --- budget (per client, across all campaigns) ---
    max_per_day: int = Field(1, ge=0)
    max_per_week: int = Field(3, ge=0)
    max_per_month: int = Field(8, ge=0)
    # Quiet hours in [campaigns].timezone; pushes due inside the window wait for its end.
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    # --- audience and holdout ---
    default_segment: str = "长尾"
    long_tail_assets_yuan: int = Field(50000, ge=0)
    default_holdout_share: float = Field(0.1, ge=0.0, le=0.9)
    # --- delivery tracking ---
    delivery_poll_minutes: int = Field(15, ge=1)
    remind_after_minutes: int = Field(120, ge=1)
    remind_max_per_day: int = Field(3, ge=0, le=3)
    # Tasks still unconfirmed after this many hours are closed as `unconfirmed`.
    unconfirmed_after_hours: int = Field(72, ge=1)
    # --- outcome ---
    outcome_window_days: int = Field(7, ge=1)
    # --- event feed (IPO subscription, dividend, record dates) ---
    event_feed: str = "jobs/feeds/example_events.toml"
    charts_dir: str = "var/charts"

    @field_validator("extra_closed_days")
    @classmethod
    def _iso_days(cls, value: list[str]) -> list[str]:
        from datetime import date

        for day in value:
            date.fromisoformat(day)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        ZoneInfo(value)
        return value


def campaign_settings(settings) -> CampaignSettings:
    return settings.domain("campaigns", CampaignSettings)
