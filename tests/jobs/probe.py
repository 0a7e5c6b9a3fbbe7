"""Job callbacks for the multi-instance scheduler test (stored by reference in the job store)."""

import os
import time


def record(context) -> None:
    context.runtime.redis.rpush(f"probe:{context.job_name}", f"{os.getpid()}|{context.scheduled_time.isoformat()}")
    time.sleep(0.2)
