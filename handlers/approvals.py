"""Approval card clicks (`template_card_event`; wechatpy parses it as an unknown event)."""

from __future__ import annotations

from bot.filters import Filter

# Only cards this domain sent (task ids "sug-..."), so other domains may add their own cards.
SUGGESTION_CARD = Filter(lambda u: str(u.data.get("TaskId") or "").startswith("sug-"), "suggestion_card")


def on_template_card_event(update, ctx) -> None:
    data = update.data
    ctx.services.conversations.on_card_click(event_key=data.get("EventKey") or "", task_id=data.get("TaskId") or "",
                                             response_code=data.get("ResponseCode"),
                                             from_user=data.get("FromUserName") or "")
