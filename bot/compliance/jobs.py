"""Scheduled compliance-archive jobs (registered by the scheduler): each takes the runtime."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def verify_archive(runtime) -> dict:
    """Verify the whole hash chain and store the result (status, checked, first broken link, at)."""
    return runtime.services.archive_verifier.verify(store=True).as_dict()


def screen_archive(runtime) -> dict:
    """Screen newly archived messages with the lexicon (a safety net beside the post-pull screen)."""
    return runtime.services.surveillance.screen_new()


def pull_archive(runtime) -> dict:
    """Pull the session archive even without a notify (a missed callback must not leave a gap).
    Skipped while no session-archive app is configured (the firm has not bought 会话内容存档)."""
    from bot.compliance.archive_settings import archive_settings

    app = archive_settings(runtime.settings).app
    if app not in runtime.settings.wecom.apps and not runtime.services.available("archive_source"):
        return {"skipped": f"no [wecom.apps.{app}] configured"}
    return runtime.services.archive_puller.pull()
