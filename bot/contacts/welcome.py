"""Welcome messages (欢迎语): sent once when a client adds a member, within WeCom's 20 seconds.

Like every outbound message, the text passes the pre-send check first and is archived after it went
out. WeCom answers 41051 when the welcome code was used already (e.g. a redelivered event after a
crash): the message was sent, so that is success, not an error to retry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from wechatpy.exceptions import WeChatClientException

logger = logging.getLogger(__name__)

ALREADY_SENT = 41051


@dataclass(frozen=True)
class WelcomeOutcome:
    status: str  # sent | already_sent | blocked | no_content | no_code
    content_version_id: int | None = None


class WelcomeSender:
    def __init__(self, runtime, settings, wecom_client):
        self._runtime = runtime
        self._settings = settings
        self._wecom = wecom_client

    def _content(self):
        services = self._runtime.services
        if not self._settings.welcome_content or not services.available("content"):
            return None
        library = services.content.library
        item = library.get_item(self._settings.welcome_content)
        version = library.get_version(item.live_version_id) if item and item.live_version_id else None
        return version if library.is_sendable(version) else None

    def send(self, userid: str, external_userid: str, welcome_code: str) -> WelcomeOutcome:
        if not welcome_code:
            return WelcomeOutcome("no_code")
        version = self._content()
        if version is None:
            return WelcomeOutcome("no_content")
        from bot.compliance.presend import OutboundRequest

        decision = self._runtime.services.presend.check(OutboundRequest(
            channel="welcome", text=version.body, recipient=external_userid, origin="welcome",
            content_version_id=version.id, product_risk_level=version.risk_level))
        if not decision.allowed:
            return WelcomeOutcome("blocked", version.id)
        status = "sent"
        try:
            self._wecom().group_message.send_welcome_msg(welcome_code, text=version.body)
        except WeChatClientException as exc:
            if exc.errcode != ALREADY_SENT:
                raise  # e.g. 41096 another app is sending: the event is retried
            status = "already_sent"
        if status == "sent" and self._runtime.services.available("archive"):
            self._runtime.services.archive.record(
                "chat", "outbound", userid, external_userid, version.body, self._runtime.clock.now(),
                msgid=f"welcome:{welcome_code}", external_userid=external_userid, userid=userid,
                content_version_id=version.id, origin="welcome")
        logger.info("welcome message %s content_version=%s", status, version.id)
        return WelcomeOutcome(status, version.id)
