"""One real scheduler instance (run as a subprocess by test_scheduler.py)."""

import logging
import sys
import time
from datetime import datetime, timezone

import redis

from bot.config import load_settings
from bot.runtime import build_runtime
from jobs.scheduler import build_scheduler


def main(db_url: str, first: str, stop: str) -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(process)d %(name)s %(message)s")
    settings = load_settings(overrides={"database": {"url": db_url}, "redis": {"url": "redis://127.0.0.1:6379/7"}},
                             environ={})
    runtime = build_runtime(settings, redis=redis.Redis(host="127.0.0.1", db=7))
    scheduler, queue = build_scheduler(runtime)
    scheduler.start(paused=True)
    queue.run_repeating("tests.jobs.probe:record", 1, name="probe.every-second", kind="tracking",
                        first=datetime.fromisoformat(first))
    scheduler.resume()
    time.sleep(max(0.0, (datetime.fromisoformat(stop) - datetime.now(timezone.utc)).total_seconds()))
    scheduler.shutdown(wait=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
