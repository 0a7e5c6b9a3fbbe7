"""Session archive callbacks: `msgaudit_notify` means WeCom has new archived chat data."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def on_msgaudit_notify(update, ctx) -> None:
    """Pull from the stored cursor (resumes exactly where the last pull stopped), then screen it."""
    result = ctx.services.archive_puller.pull()
    logger.info("msgaudit_notify inbox id=%s: archived %d (cursor %d)", update.id, result["archived"],
                result["cursor"])
    if result["archived"]:
        ctx.services.surveillance.screen_new()
