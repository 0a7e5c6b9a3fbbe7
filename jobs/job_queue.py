"""A JobQueue in the python-telegram-bot shape over APScheduler 3.

Jobs live in the persistent SQLAlchemy job store, so every callback is stored by reference
("module:function") and runs through `execute`, which
  1. takes a Redis lock keyed by job id + scheduled fire time (SET NX with a TTL): when several
     scheduler instances share the job store, only the first to claim a firing runs it;
  2. calls `callback(context)` with the runtime, the clock and the scheduled time;
  3. routes any exception to the queue's error handlers (one place), never swallowing it silently.

Misfire policy: `misfire_grace_time` per job kind (MISFIRE_GRACE, seconds a late run may still
start; later runs are dropped with a warning; with coalesce=True a backlog collapses into one run).
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Any

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.refs import resolve
from jobs.triggers import TradingDayTrigger

logger = logging.getLogger(__name__)

MISFIRE_GRACE: dict[str, int] = {
    "commentary": 2 * 3600,      # after-close commentary is stale after ~17:30
    "event": 3 * 3600,           # IPO / dividend reminders must land before the afternoon
    "pre_holiday": 4 * 3600,     # reverse repo trades until 15:30 on the last day
    "client_event": 8 * 3600,    # birthday greetings: same day only
    "series": 24 * 3600,         # dormant wake-up steps: a day late is fine
    "campaign": 3 * 3600,        # other campaigns
    "tracking": 15 * 60,         # delivery polling: the next poll will do
    "maintenance": 3600,         # other domains' periodic jobs
}
DAYS_ALL = (0, 1, 2, 3, 4, 5, 6)

_runtime = None
_queue: "JobQueue | None" = None


@dataclass
class JobContext:
    runtime: Any
    job_name: str
    kind: str
    scheduled_time: datetime
    kwargs: dict = field(default_factory=dict)
    job_queue: "JobQueue | None" = None

    @property
    def now(self) -> datetime:
        return self.runtime.clock.now()


def _ref(callback: Callable | str) -> str:
    if isinstance(callback, str):
        return callback
    return f"{callback.__module__}:{callback.__qualname__}"


def bind(runtime, queue: "JobQueue | None") -> None:
    """The process's runtime for stored jobs (a stored job can only hold picklable references)."""
    global _runtime, _queue
    _runtime, _queue = runtime, queue


def _lock_key(runtime, name: str, scheduled_time: datetime) -> str:
    return f"{runtime.settings.redis.prefix}:jobs:run:{name}:{scheduled_time.astimezone(timezone.utc).isoformat()}"


def execute(callback_ref: str, name: str, kind: str, kwargs: dict | None = None,
            scheduled_time: datetime | None = None) -> str:
    """Run one firing of a registered job (the function APScheduler stores for every job)."""
    runtime, queue = _runtime, _queue
    if runtime is None:
        raise RuntimeError("jobs.job_queue.bind(runtime) was not called in this process")
    scheduled_time = scheduled_time or runtime.clock.now()
    ttl = queue.lock_seconds if queue else 172800
    if not runtime.redis.set(_lock_key(runtime, name, scheduled_time), "1", nx=True, ex=ttl):
        logger.info("job %s at %s already claimed by another instance; skipping", name, scheduled_time.isoformat())
        return "skipped"
    context = JobContext(runtime, name, kind, scheduled_time, dict(kwargs or {}), queue)
    try:
        resolve(callback_ref)(context)
    except Exception as exc:  # routed to the error handlers: one place
        if queue is None:
            raise
        queue.handle_error(context, exc)
        return "error"
    return "done"


class ScheduledTimeExecutor(ThreadPoolExecutor):
    """Thread pool that hands `execute` the scheduled fire time APScheduler 3 otherwise keeps to itself."""

    def _do_submit_job(self, job, run_times):
        def callback(f):
            exc = f.exception()
            if exc:
                self._run_job_error(job.id, exc, getattr(exc, "__traceback__", None))
            else:
                self._run_job_success(job.id, f.result())

        self._pool.submit(_run_job, job, job._jobstore_alias, run_times).add_done_callback(callback)


def _run_job(job, jobstore_alias, run_times):
    events = []
    for run_time in run_times:
        late = datetime.now(timezone.utc) - run_time
        if job.misfire_grace_time is not None and late > timedelta(seconds=job.misfire_grace_time):
            events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, jobstore_alias, run_time))
            logger.warning("job %s missed its %s run by %s (grace %ss): dropped", job.id, run_time.isoformat(),
                           late, job.misfire_grace_time)
            continue
        kwargs = dict(job.kwargs)
        if job.func is execute:
            kwargs["scheduled_time"] = run_time
        retval = job.func(*job.args, **kwargs)
        events.append(JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, jobstore_alias, run_time, retval=retval))
    return events


def _log_error(context: JobContext, exc: BaseException) -> None:
    logger.error("job %s (%s) scheduled %s failed: %s\n%s", context.job_name, context.kind,
                 context.scheduled_time.isoformat(), type(exc).__name__,
                 "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))


class JobQueue:
    """Register jobs the python-telegram-bot way; all go to the persistent store with
    max_instances=1 and coalesce=True (scheduler defaults) and a per-kind misfire grace time."""

    def __init__(self, scheduler, runtime, *, timezone_name: str = "Asia/Shanghai", lock_seconds: int = 172800):
        self.scheduler = scheduler
        self.runtime = runtime
        self.timezone = timezone_name
        self.lock_seconds = lock_seconds
        self.error_handlers: list[Callable[[JobContext, BaseException], None]] = [_log_error]
        bind(runtime, self)

    # ---- errors ----------------------------------------------------------------------
    def add_error_handler(self, handler: Callable[[JobContext, BaseException], None]) -> None:
        self.error_handlers.append(handler)

    def handle_error(self, context: JobContext, exc: BaseException) -> None:
        for handler in self.error_handlers:
            try:
                handler(context, exc)
            except Exception:  # an error handler failing must not hide the original error
                print(f"error handler {handler!r} failed", file=sys.stderr)

    # ---- registration ----------------------------------------------------------------
    def run_daily(self, callback, time: time, days=DAYS_ALL, *, name: str, kind: str = "campaign",  # noqa: F811
                  kwargs: dict | None = None, misfire_grace_time: int | None = None):
        """Every day in `days` (0 = Monday, as python-telegram-bot) at wall-clock `time` (market zone)."""
        dow = ",".join(str(d) for d in days)
        trigger = CronTrigger(day_of_week=dow, hour=time.hour, minute=time.minute, timezone=self.timezone)
        return self._add(callback, trigger, name, kind, kwargs, misfire_grace_time)

    def run_repeating(self, callback, interval: float | timedelta, *, name: str, kind: str = "tracking",
                      first: datetime | None = None, kwargs: dict | None = None,
                      misfire_grace_time: int | None = None):
        seconds = interval.total_seconds() if isinstance(interval, timedelta) else float(interval)
        trigger = IntervalTrigger(seconds=seconds, start_date=first, timezone=self.timezone)
        return self._add(callback, trigger, name, kind, kwargs, misfire_grace_time)

    def run_on_trading_days(self, callback, time: time, *, name: str, kind: str = "campaign",  # noqa: F811
                            pre_holiday: bool = False, sessions_before: int = 1, min_days: int = 3,
                            kwargs: dict | None = None, misfire_grace_time: int | None = None):
        """XSHG trading days at `time`; with pre_holiday only the last `sessions_before` before a closure."""
        trigger = TradingDayTrigger(time, timezone=self.timezone, pre_holiday=pre_holiday,
                                    sessions_before=sessions_before, min_days=min_days)
        return self._add(callback, trigger, name, kind, kwargs, misfire_grace_time)

    def run_once(self, callback, when: datetime, *, name: str, kind: str = "campaign", kwargs: dict | None = None,
                 misfire_grace_time: int | None = None):
        return self._add(callback, DateTrigger(run_date=when, timezone=self.timezone), name, kind, kwargs,
                         misfire_grace_time)

    def _add(self, callback, trigger, name, kind, kwargs, misfire_grace_time):
        if kind not in MISFIRE_GRACE and misfire_grace_time is None:
            raise ValueError(f"unknown job kind {kind!r}; known: {', '.join(sorted(MISFIRE_GRACE))}")
        grace = misfire_grace_time if misfire_grace_time is not None else MISFIRE_GRACE[kind]
        job_kwargs = {"callback_ref": _ref(callback), "name": name, "kind": kind, "kwargs": dict(kwargs or {})}
        existing = self.scheduler.get_job(name)
        if (existing is not None and str(existing.trigger) == str(trigger) and existing.kwargs == job_kwargs
                and existing.misfire_grace_time == grace):
            return existing  # unchanged: keep its stored next run time, so missed runs are detected
        return self.scheduler.add_job(execute, trigger, id=name, name=name, kwargs=job_kwargs,
                                      misfire_grace_time=grace, coalesce=True, max_instances=1,
                                      replace_existing=True)

    # ---- inspection -----------------------------------------------------------------
    def jobs(self):
        return self.scheduler.get_jobs()

    def get(self, name: str):
        return self.scheduler.get_job(name)

    def remove(self, name: str) -> bool:
        if self.scheduler.get_job(name) is None:
            return False
        self.scheduler.remove_job(name)
        return True

    def fire(self, name: str, scheduled_time: datetime) -> str:
        """Run one firing of job `name` now, synchronously (tests on the simulator clock, operators)."""
        job = self.scheduler.get_job(name)
        if job is None:
            raise KeyError(f"no job named {name!r}")
        return execute(**{**job.kwargs, "scheduled_time": scheduled_time})
