"""The scheduler: two real instances against one PostgreSQL job store and one Redis fire each firing
once; stored jobs survive a restart and missed runs follow the misfire policy; errors go to the
error handlers; other domains' jobs are registered when present."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from jobs.job_queue import MISFIRE_GRACE, execute
from jobs.scheduler import build_scheduler, register_jobs
from tests.conftest import real_redis
from tests.jobs.conftest import REDIS_DB

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
def test_two_instances_fire_each_run_once(pg_url):
    redis = real_redis(REDIS_DB)
    # both instances are up (imports take seconds on a loaded machine) before the first firing
    first = (datetime.now(timezone.utc) + timedelta(seconds=8)).replace(microsecond=0)
    stop = first + timedelta(seconds=6, milliseconds=500)
    procs = [subprocess.Popen([sys.executable, "-m", "tests.jobs.scheduler_instance", pg_url, first.isoformat(),
                               stop.isoformat()],
                              cwd=ROOT, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
             for _ in range(2)]
    logs = [p.communicate(timeout=60)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), logs
    runs = [v.decode().split("|") for v in redis.lrange("probe:probe.every-second", 0, -1)]
    times = Counter(t for _, t in runs)
    assert len(times) >= 4, logs
    assert max(times.values()) == 1, f"a firing ran twice: {times.most_common(3)}"
    skipped = sum(log.count("already claimed by another instance") for log in logs)
    pids = Counter(pid for pid, _ in runs)
    print(f"\ntwo instances: {len(runs)} firings, each once; ran by pid {dict(pids)}; "
          f"{skipped} duplicate pick-ups skipped by the Redis lock")


def test_restart_keeps_jobs_and_applies_misfire_policy(runtime, clock, caplog):
    scheduler, queue = build_scheduler(runtime)
    scheduler.start(paused=True)
    queue.run_daily("tests.jobs.probe:record", time(15, 30), name="probe.daily", kind="commentary")
    stored = scheduler.get_job("probe.daily").next_run_time
    scheduler.shutdown(wait=False)
    # a new process: the same registration keeps the stored next run time (so a missed run is seen)
    scheduler2, queue2 = build_scheduler(runtime)
    scheduler2.start(paused=True)
    queue2.run_daily("tests.jobs.probe:record", time(15, 30), name="probe.daily", kind="commentary")
    job = scheduler2.get_job("probe.daily")
    assert job.next_run_time == stored
    assert job.misfire_grace_time == MISFIRE_GRACE["commentary"] and job.coalesce and job.max_instances == 1
    # a changed registration replaces it
    queue2.run_daily("tests.jobs.probe:record", time(15, 45), name="probe.daily", kind="commentary")
    assert scheduler2.get_job("probe.daily").next_run_time != stored
    scheduler2.shutdown(wait=False)


def test_missed_run_outside_grace_is_dropped(runtime):
    from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED

    from jobs.job_queue import _run_job

    scheduler, queue = build_scheduler(runtime)
    scheduler.start(paused=True)
    job = queue.run_repeating("tests.jobs.probe:record", 3600, name="probe.grace", kind="tracking")
    now = datetime.now(timezone.utc)
    events = _run_job(job, "default", [now - timedelta(hours=2), now - timedelta(seconds=5)])
    assert [e.code for e in events] == [EVENT_JOB_MISSED, EVENT_JOB_EXECUTED]
    scheduler.shutdown(wait=False)


def test_errors_go_to_error_handlers_and_lock_dedupes(runtime):
    scheduler, queue = build_scheduler(runtime)
    seen = []
    queue.add_error_handler(lambda ctx, exc: seen.append((ctx.job_name, type(exc).__name__)))
    when = datetime(2026, 9, 21, 7, 30, tzinfo=timezone.utc)
    assert execute("jobs.campaigns:fire_campaign_job", "broken", "campaign", {}, when) == "error"
    assert seen == [("broken", "KeyError")]
    assert execute("jobs.campaigns:fire_campaign_job", "broken", "campaign", {}, when) == "skipped"


def test_register_jobs_skips_missing_domains(runtime, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="jobs.scheduler")
    scheduler, queue = build_scheduler(runtime)
    scheduler.start(paused=True)
    names = register_jobs(queue, runtime)
    assert "campaigns.track_deliveries" in names and "campaigns.sync_jobs" in names
    for job in scheduler.get_jobs():
        assert job.coalesce and job.max_instances == 1
    from jobs.scheduler import DOMAIN_JOBS, _domain_callable

    for name, ref, _ in DOMAIN_JOBS:
        assert (name in names) == (_domain_callable(ref) is not None)
        if name not in names:
            assert f"periodic job {name} not registered" in caplog.text
    scheduler.shutdown(wait=False)


def test_start_registers_campaign_and_domain_jobs(runtime, clock):
    from jobs.campaigns import CampaignSpec
    from jobs.scheduler import start
    from jobs.triggers import TradingDayTrigger

    from tests.jobs.conftest import seed_clients

    seed_clients(runtime, None, 3)
    runtime.services.campaigns.save(CampaignSpec(slug="close", name="收盘点评", template="after_close",
                                                 status="active"), "ops")
    runtime.services.campaigns.save(CampaignSpec(slug="repo", name="逆回购", template="pre_holiday_repo",
                                                 status="active"), "ops")
    scheduler, queue = start(runtime)
    try:
        jobs = {j.id: j for j in scheduler.get_jobs()}
        assert isinstance(jobs["campaign:close"].trigger, TradingDayTrigger)
        assert str(jobs["campaign:repo"].trigger) == "pre_holiday[1,3][10:00 Asia/Shanghai]"
        assert jobs["campaign:close"].misfire_grace_time == MISFIRE_GRACE["commentary"]
        assert "contacts.poll_transfers" in jobs and "compliance.verify_archive" in jobs
        assert "contacts.recompute_tags" in jobs and "campaigns.track_deliveries" in jobs
        runtime.services.campaigns.pause("repo")
        from jobs.campaigns import sync_jobs

        sync_jobs(queue, runtime)
        assert scheduler.get_job("campaign:repo") is None
    finally:
        scheduler.shutdown(wait=False)
