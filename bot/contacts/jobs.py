"""Scheduled job functions of the contacts domain; the scheduler registers them (each takes the runtime).

  assign_unassigned_clients  resigned members' unassigned clients → central pool / advisors with capacity
  poll_transfers             transfer results until final; success tags provenance; failures re-routed
  sync_wecom_tags            mirror + one batch of mark_tag differences
  recompute_tags             rule tags from CRM data (set-based SQL)
  refresh_contacts           details of contacts touched by add/edit events (externalcontact/get)
Each returns a JSON-friendly dict of counts (ids and numbers only: safe to log).
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def _contacts(runtime):
    return runtime.services.contacts


def assign_unassigned_clients(runtime) -> dict:
    report = _contacts(runtime).inheritance.assign_unassigned().as_dict()
    logger.info("assign_unassigned_clients: %s", report)
    return report


def poll_transfers(runtime) -> dict:
    report = _contacts(runtime).inheritance.poll()
    logger.info("poll_transfers: %s", report)
    return report


def sync_wecom_tags(runtime) -> dict:
    report = _contacts(runtime).tag_sync.run().as_dict()
    logger.info("sync_wecom_tags: %s", report)
    return report


def recompute_tags(runtime) -> dict:
    report = _contacts(runtime).recompute_tags().as_dict()
    logger.info("recompute_tags: %d changes in %.1fs", report["changed"], report["seconds"])
    return report


def refresh_contacts(runtime) -> dict:
    report = _contacts(runtime).resync.refresh_marked()
    logger.info("refresh_contacts: %s", report)
    return report
