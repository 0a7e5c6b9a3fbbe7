"""The scheduler process: APScheduler with its job store in the product database.

Several instances may run (`advisor-bot scheduler` on each host, plus the embedded one inside `serve`):
they share the SQLAlchemy job store, and each firing takes a Redis lock keyed by job id + scheduled
fire time, so a firing runs exactly once even when two instances pick it up at the same moment. We
chose the per-run lock over a leader lease: no fail-over delay when an instance dies, no lease renewal
thread, and a job run by the "wrong" instance is harmless because the lock is on the firing itself.
"""

from __future__ import annotations

import logging
import threading
from datetime import time, timedelta

from apscheduler.events import EVENT_JOB_ERROR
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from bot.refs import resolve
from jobs import calendar
from jobs.job_queue import JobQueue, ScheduledTimeExecutor
from jobs.settings import campaign_settings

logger = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"

# Periodic jobs other domains expose: (name, "module:function", every). Imported lazily; skipped
# with a log line when the domain has not shipped them.
# A timedelta repeats; a time of day runs daily (Asia/Shanghai).
DOMAIN_JOBS = [
    ("contacts.assign_unassigned_clients", "bot.contacts.jobs:assign_unassigned_clients", timedelta(hours=1)),
    ("contacts.poll_transfers", "bot.contacts.jobs:poll_transfers", timedelta(minutes=30)),
    ("contacts.sync_wecom_tags", "bot.contacts.jobs:sync_wecom_tags", timedelta(minutes=10)),
    ("contacts.recompute_tags", "bot.contacts.jobs:recompute_tags", time(7, 0)),
    ("contacts.refresh_contacts", "bot.contacts.jobs:refresh_contacts", timedelta(minutes=5)),
    ("compliance.verify_archive", "bot.compliance.jobs:verify_archive", timedelta(hours=6)),
    ("compliance.screen_archive", "bot.compliance.jobs:screen_archive", timedelta(minutes=5)),
    ("compliance.pull_archive", "bot.compliance.jobs:pull_archive", timedelta(minutes=15)),
    ("conversations.tick", "bot.conversations.jobs:tick_conversations", timedelta(minutes=1)),
]


def build_scheduler(runtime) -> tuple[BackgroundScheduler, JobQueue]:
    cs = campaign_settings(runtime.settings)
    calendar.configure(calendar.TradingCalendar.from_settings(cs))
    store = SQLAlchemyJobStore(engine=runtime.engine, tablename=JOB_TABLE)
    # Instances starting together on a fresh database would race to create the job table (PostgreSQL
    # refuses the loser): create it once, under a lock shared by every instance.
    with runtime.redis.lock(f"{runtime.settings.redis.prefix}:scheduler:create-table", timeout=60,
                            blocking_timeout=60):
        store.jobs_t.create(runtime.engine, checkfirst=True)
    scheduler = BackgroundScheduler(
        jobstores={"default": store},
        executors={"default": ScheduledTimeExecutor(cs.scheduler_threads)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=cs.timezone,
    )
    queue = JobQueue(scheduler, runtime, timezone_name=cs.timezone, lock_seconds=cs.run_lock_seconds)

    def on_event(event) -> None:  # failures outside `execute` (e.g. a job that cannot be loaded)
        if event.code == EVENT_JOB_ERROR and event.exception is not None:
            from jobs.job_queue import JobContext

            queue.handle_error(JobContext(runtime, event.job_id, "scheduler", event.scheduled_run_time, {}, queue),
                               event.exception)

    scheduler.add_listener(on_event, EVENT_JOB_ERROR)
    return scheduler, queue


def _domain_callable(ref: str):
    try:
        return resolve(ref)
    except (ImportError, AttributeError):
        return None


def run_domain_job(context) -> None:
    """Adapter: other domains' jobs take the runtime."""
    func = _domain_callable(context.kwargs["target"])
    if func is None:
        logger.warning("job %s: %s is no longer available; skipped", context.job_name, context.kwargs["target"])
        return
    logger.info("job %s done: %s", context.job_name, func(context.runtime))  # dicts of counts: safe to log


def register_jobs(queue: JobQueue, runtime) -> list[str]:
    """Every periodic job of the product; idempotent (unchanged jobs keep their stored next run)."""
    from jobs import campaigns, delivery

    cs = campaign_settings(runtime.settings)
    names = []
    queue.run_repeating(delivery.track_deliveries, timedelta(minutes=cs.delivery_poll_minutes),
                        name="campaigns.track_deliveries", kind="tracking")
    queue.run_repeating(campaigns.sync_campaign_jobs, timedelta(minutes=1), name="campaigns.sync_jobs",
                        kind="maintenance")
    names += ["campaigns.track_deliveries", "campaigns.sync_jobs"]
    for name, ref, every in DOMAIN_JOBS:
        if _domain_callable(ref) is None:
            logger.info("periodic job %s not registered: %s is not available yet", name, ref)
            continue
        if isinstance(every, time):
            queue.run_daily(run_domain_job, every, name=name, kind="maintenance", kwargs={"target": ref})
        else:
            queue.run_repeating(run_domain_job, every, name=name, kind="maintenance", kwargs={"target": ref})
        names.append(name)
    names += campaigns.sync_jobs(queue, runtime)
    return names


def start(runtime, *, paused_registration: bool = True) -> tuple[BackgroundScheduler, JobQueue]:
    """Start a scheduler: load stored jobs paused, (re)register, then resume so misfires are judged
    against the stored next run times."""
    scheduler, queue = build_scheduler(runtime)
    # One instance registers at a time, so instances starting together never interleave job writes.
    with runtime.redis.lock(f"{runtime.settings.redis.prefix}:scheduler:register", timeout=120,
                            blocking_timeout=120):
        scheduler.start(paused=paused_registration)
        register_jobs(queue, runtime)
    scheduler.resume()
    logger.info("scheduler started with %d jobs", len(scheduler.get_jobs()))
    return scheduler, queue


def start_embedded_scheduler(runtime):
    """BACKGROUND_STARTERS entry: the scheduler inside `serve` when [campaigns] scheduler_embedded."""
    if not campaign_settings(runtime.settings).scheduler_embedded:
        return None
    return start(runtime)


def run_forever(runtime, stop_event: threading.Event | None = None) -> None:
    stop_event = stop_event or threading.Event()
    scheduler, _queue = start(runtime)
    try:
        while not stop_event.wait(1.0):
            pass
    finally:
        scheduler.shutdown(wait=True)
        logger.info("scheduler stopped")
