"""Periodic conversation upkeep, registered by the scheduler (jobs/scheduler.py DOMAIN_JOBS)."""

from __future__ import annotations


def tick_conversations(runtime) -> dict:
    """Expire stale suggestions, process stored messages and finish interrupted sends."""
    return runtime.services.conversations.tick()
