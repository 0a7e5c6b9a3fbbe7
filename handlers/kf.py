"""微信客服 callbacks: `kf_msg_or_event` only says that something arrived; the service pulls it."""

from __future__ import annotations


def on_kf_msg_or_event(update, ctx) -> None:
    data = update.data
    ctx.services.conversations.on_kf_event(data.get("OpenKfId") or "", data.get("Token") or "")
