"""Campaign definitions (file or console), their lifecycle, and their scheduler jobs.

A campaign follows the five elements: timing (trading-day cron, calendar feed events, pre-holiday,
client birthdays, a dormant series, or once), users (a tag expression; default 长尾), benefit/form
(an approved content version id or item slug), channel (one-to-one `single` or client `group`).
"""

from __future__ import annotations

import logging
import re
import tomllib
from datetime import date, datetime, time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import select

from bot.db import session_scope
from jobs.models import ACTIVE, CAMPAIGN_STATUSES, DRAFT, ENDED, PAUSED, Campaign
from jobs.settings import CampaignSettings, campaign_settings
from jobs.templates import TEMPLATES

logger = logging.getLogger(__name__)

TIMING_KINDS = ("trading_daily", "event", "pre_holiday", "birthday", "series", "once")
EVENT_KINDS = ("ipo_subscription", "record_date", "ex_dividend", "rights_issue", "bond_subscription")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
JOB_PREFIX = "campaign:"


class CampaignError(Exception):
    """Invalid campaign definition or action; the message is for operators."""


class Timing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal[TIMING_KINDS]  # type: ignore[valid-type]
    time: str = "10:00"
    event: Literal[EVENT_KINDS] | None = None  # type: ignore[valid-type]
    sessions_before: int = Field(1, ge=1, le=5)
    every_sessions: int = Field(5, ge=1, le=60)
    steps: list[str] = Field(default_factory=list)
    at: datetime | None = None

    @field_validator("time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        time.fromisoformat(value)
        return value

    @model_validator(mode="after")
    def _complete(self):
        if self.kind == "event" and not self.event:
            raise ValueError("event timing needs `event`")
        if self.kind == "once" and (self.at is None or self.at.tzinfo is None):
            raise ValueError("once timing needs `at` with a time zone offset")
        return self


class CampaignSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    slug: str
    name: str = Field(min_length=1, max_length=200)
    template: str = "custom"
    segment: str | None = None
    content: str | None = None
    channel: Literal["single", "group"] = "single"
    chat_ids: list[str] = Field(default_factory=list)
    group_sender: str | None = None
    timing: Timing | None = None
    holdout_share: float | None = Field(None, ge=0.0, le=0.9)
    product_risk_level: Literal["R1", "R2", "R3", "R4", "R5"] | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    status: Literal["draft", "active"] = "draft"

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG_RE.match(value):
            raise ValueError("use lowercase letters, digits, - and _ (≤64)")
        return value

    @model_validator(mode="after")
    def _defaults(self):
        if self.template != "custom" and self.template not in TEMPLATES:
            raise ValueError(f"unknown template {self.template!r}; known: custom, {', '.join(TEMPLATES)}")
        tpl = TEMPLATES.get(self.template)
        if self.timing is None:
            if tpl is None:
                raise ValueError("a custom campaign needs `timing`")
            self.timing = Timing.model_validate(tpl.timing)
        if self.content is None:
            if tpl is None:
                raise ValueError("a custom campaign needs `content` (a content version id or item slug)")
            self.content = tpl.slug
        if self.segment is None and tpl is not None:
            self.segment = tpl.segment
        if self.channel == "group" and (not self.chat_ids or not self.group_sender):
            raise ValueError("a group campaign needs `chat_ids` and `group_sender`")
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


def _errors(exc: ValidationError, where: str) -> str:
    return "; ".join(f"{where}{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


def parse_file(path: str) -> list[CampaignSpec]:
    """`[[campaign]]` tables from a TOML file; every problem is reported, nothing is half-loaded."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise CampaignError(f"文件不存在 (file not found): {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CampaignError(f"{path} 不是有效的 TOML: {exc}") from None
    entries = data.get("campaign")
    if not isinstance(entries, list) or not entries:
        raise CampaignError(f"{path}: expected one or more [[campaign]] tables")
    specs, problems = [], []
    for i, entry in enumerate(entries):
        try:
            specs.append(CampaignSpec.model_validate(entry))
        except ValidationError as exc:
            problems.append(_errors(exc, f"campaign[{i}]."))
    slugs = [s.slug for s in specs]
    dupes = {s for s in slugs if slugs.count(s) > 1}
    if dupes:
        problems.append(f"duplicate slugs: {', '.join(sorted(dupes))}")
    if problems:
        raise CampaignError("; ".join(problems))
    return specs


class CampaignService:
    """Console and CLI entry points; firing lives in jobs.dispatch, tracking in jobs.delivery."""

    def __init__(self, runtime, settings: CampaignSettings):
        self.runtime = runtime
        self.settings = settings

    # ---- definitions -------------------------------------------------------------------
    def save(self, spec: CampaignSpec, by: str) -> Campaign:
        from jobs.deps import Collaborators

        now = self.runtime.clock.now()
        if spec.channel == "single":
            Collaborators(self.runtime, self.settings).segment(spec.segment)  # validates the expression
        holdout = self.settings.default_holdout_share if spec.holdout_share is None else spec.holdout_share
        if spec.channel == "group":
            holdout = 0.0  # groups are shared spaces: no per-client holdout
        values = dict(name=spec.name, template=spec.template, segment_expr=spec.segment or self.settings.default_segment,
                      content_ref=spec.content, channel=spec.channel, chat_ids=spec.chat_ids,
                      group_sender=spec.group_sender, timing=spec.timing.model_dump(mode="json", exclude_none=True),
                      holdout_share=holdout, product_risk_level=spec.product_risk_level, starts_on=spec.starts_on,
                      ends_on=spec.ends_on, updated_at=now)
        with session_scope(self.runtime.session_factory) as session:
            row = session.scalar(select(Campaign).where(Campaign.slug == spec.slug))
            if row is None:
                row = Campaign(slug=spec.slug, status=spec.status, created_by=by, created_at=now, **values)
                session.add(row)
            else:
                if row.holdout_share != holdout and row.status != DRAFT:
                    raise CampaignError(f"{spec.slug}: holdout_share cannot change once the campaign has run")
                for key, value in values.items():
                    setattr(row, key, value)
                if spec.status == ACTIVE:
                    row.status = ACTIVE
            session.flush()
        logger.info("campaign saved id=%s slug=%s status=%s", row.id, row.slug, row.status)
        return row

    def load_file(self, path: str, by: str) -> list[Campaign]:
        specs = parse_file(path)
        return [self.save(spec, by) for spec in specs]

    def get(self, ref: int | str) -> Campaign:
        with self.runtime.session_factory() as session:
            stmt = select(Campaign).where(Campaign.id == int(ref)) if str(ref).isdigit() else \
                select(Campaign).where(Campaign.slug == ref)
            row = session.scalar(stmt)
        if row is None:
            raise CampaignError(f"没有这个活动 (no campaign {ref})")
        return row

    def list(self) -> list[Campaign]:
        with self.runtime.session_factory() as session:
            return list(session.scalars(select(Campaign).order_by(Campaign.id)))

    def set_status(self, ref: int | str, status: str) -> Campaign:
        if status not in CAMPAIGN_STATUSES:
            raise CampaignError(f"unknown status {status}")
        campaign = self.get(ref)
        with session_scope(self.runtime.session_factory) as session:
            row = session.get(Campaign, campaign.id)
            if row.status == ENDED and status != ENDED:
                raise CampaignError(f"{row.slug} has ended and cannot be reopened")
            row.status, row.updated_at = status, self.runtime.clock.now()
        return row

    def activate(self, ref):
        return self.set_status(ref, ACTIVE)

    def pause(self, ref):
        return self.set_status(ref, PAUSED)

    def end(self, ref):
        return self.set_status(ref, ENDED)

    # ---- actions -----------------------------------------------------------------------
    def fire(self, ref, scheduled_time: datetime, *, fire_key: str | None = None, queue=None) -> dict[str, Any]:
        from jobs.dispatch import fire_campaign

        return fire_campaign(self.runtime, self.settings, self.get(ref).id, scheduled_time, fire_key=fire_key,
                             queue=queue)

    def report(self, ref, *, chart_path: str | None = None) -> dict[str, Any]:
        from jobs.outcome import campaign_report

        return campaign_report(self.runtime, self.settings, self.get(ref).id, chart_path=chart_path)


def build_campaign_service(runtime) -> CampaignService:
    return CampaignService(runtime, campaign_settings(runtime.settings))


# ---- scheduler glue -------------------------------------------------------------------------
_KIND = {"trading_daily": "campaign", "event": "event", "pre_holiday": "pre_holiday", "birthday": "client_event",
         "series": "series", "once": "campaign"}


def register_campaign_job(queue, campaign: Campaign, settings: CampaignSettings) -> str:
    timing = campaign.timing
    name = f"{JOB_PREFIX}{campaign.slug}"
    at = time.fromisoformat(timing.get("time", "10:00"))
    kind = "commentary" if campaign.template == "after_close" else _KIND[timing["kind"]]
    kwargs = {"campaign_id": campaign.id}
    if timing["kind"] == "birthday":
        queue.run_daily(fire_campaign_job, at, name=name, kind=kind, kwargs=kwargs)
    elif timing["kind"] == "once":
        queue.run_once(fire_campaign_job, datetime.fromisoformat(timing["at"]), name=name, kind=kind, kwargs=kwargs)
    else:
        queue.run_on_trading_days(fire_campaign_job, at, name=name, kind=kind, kwargs=kwargs,
                                  pre_holiday=timing["kind"] == "pre_holiday",
                                  sessions_before=int(timing.get("sessions_before", 1)),
                                  min_days=settings.holiday_min_days)
    return name


def sync_jobs(queue, runtime) -> list[str]:
    """Make the scheduler's campaign jobs match the active campaigns (idempotent)."""
    service = build_campaign_service(runtime)
    wanted = {}
    for campaign in service.list():
        if campaign.status == ACTIVE:
            wanted[register_campaign_job(queue, campaign, service.settings)] = campaign.id
    for job in queue.jobs():
        if job.id.startswith(JOB_PREFIX) and ":deferred:" not in job.id and job.id not in wanted:
            queue.remove(job.id)
    return sorted(wanted)


def sync_campaign_jobs(context) -> None:
    sync_jobs(context.job_queue, context.runtime)


def fire_campaign_job(context) -> None:
    from jobs.dispatch import fire_campaign

    result = fire_campaign(context.runtime, campaign_settings(context.runtime.settings),
                           context.kwargs["campaign_id"], context.scheduled_time,
                           fire_key=context.kwargs.get("fire_key"), queue=context.job_queue)
    logger.info("campaign %s fired for %s: %s", context.kwargs["campaign_id"], context.scheduled_time.isoformat(),
                {k: v for k, v in result.items() if k != "note"})
