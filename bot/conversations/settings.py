"""Settings for the `[conversations]` section, read with ``settings.domain("conversations", ...)``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_HANDOFF_KEYWORDS = ["转人工", "人工客服", "人工服务", "找人工", "要人工", "接人工", "找真人", "真人客服",
                            "真人回复", "找客服", "人工坐席"]
DEFAULT_NEVER_ANSWER = ["stock_pick", "prediction", "market_prediction", "account_operation", "complaint", "company",
                        "guarantee", "other_finance"]


class ConversationsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # WeCom app names ([wecom.apps.<name>]); empty = the first app of kind "kf" / "app".
    kf_app: str = ""
    card_app: str = ""

    # Who approves a suggestion: "owner" = the client's owner (contacts), falling back to the pool;
    # "pool" = always the central pool. The first pool advisor takes the card.
    routing: Literal["owner", "pool"] = "owner"
    pool_advisors: list[str] = Field(default_factory=list)
    # 微信客服 servicer userids for a handoff when the client's owner is not a servicer of the account.
    servicer_pool: list[str] = Field(default_factory=list)

    # Matching: candidates kept on a suggestion; an optional floor on top of the matcher's `confident`.
    match_k: int = Field(3, ge=1, le=20)
    min_auto_score: float = Field(0.0, ge=-1, le=2)
    # Intents the bot never answers (always a person), and intents that hand the session to a human.
    never_answer_intents: list[str] = Field(default_factory=lambda: list(DEFAULT_NEVER_ANSWER))
    handoff_intents: list[str] = Field(default_factory=lambda: ["human"])
    handoff_keywords: list[str] = Field(default_factory=lambda: list(DEFAULT_HANDOFF_KEYWORDS))

    # WeCom kf limits: replies only within this many hours of the client's last message, and at
    # most this many replies per client message.
    kf_reply_window_hours: float = Field(48.0, gt=0)
    kf_max_replies: int = Field(5, ge=1)
    kf_sync_limit: int = Field(1000, ge=1, le=1000)
    # Messages older than this when first seen are recorded but never answered by the bot.
    stale_question_hours: float = Field(24.0, gt=0)

    # Suggestions nobody acted on expire after this many hours (the kf window closes at 48 h anyway).
    pending_expiry_hours: float = Field(48.0, gt=0)
    # A send claimed but not finished (worker died mid-call) is retried after this many seconds,
    # with the same WeCom msgid, so WeCom drops the duplicate.
    send_lease_seconds: float = Field(120.0, gt=0)
    # Errcodes with which WeCom might refuse a repeated send_msg msgid (the simulator answers success);
    # a refusal with one of these means the earlier attempt was delivered.
    duplicate_msgid_errcodes: list[int] = Field(default_factory=list)

    holding_notice: str = "您好，您的问题已转交给专属顾问，稍后会由工作人员为您解答，请您稍候。"
    handoff_notice: str = "好的，正在为您转接人工客服，请稍候。"
    edit_link_message: str = "请在控制台修改建议回复后发送：{url}"
    console_base_url: str = "http://127.0.0.1:8000"
    edit_path: str = "/advisor/#s{id}"  # the advisor queue (bot/web/advisor.py), at this suggestion

    # Bearer token for /api/suggestions while bot/web/auth.py does not exist; empty = API closed.
    api_token: str = ""
    # Archive (session archive) direction: ids with these prefixes are external contacts.
    external_id_prefixes: list[str] = Field(default_factory=lambda: ["wm", "wo"])
