"""Text messages advisors send to the self-built app: after "修改" on a card, the edited reply."""

from __future__ import annotations


def on_text(update, ctx) -> None:
    data = update.data
    ctx.services.conversations.on_advisor_text(data.get("FromUserName") or "", data.get("Content") or "")
