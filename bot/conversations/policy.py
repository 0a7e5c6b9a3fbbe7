"""When may the bot answer by itself? A pure function of the facts gathered for one question.

The bot answers on 微信客服 only when every condition holds; any failing condition is a reason, and
the suggestion goes to a person instead. Handoff (a client asking for a person) wins over everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.conversations.settings import ConversationsSettings

AUTO, ROUTE, HANDOFF = "auto", "route", "handoff"
MAX_KF_TEXT_BYTES = 2048

# Advisor-facing labels for the reason codes (cards, console).
REASON_LABELS = {
    "handoff_requested": "客户要求人工服务",
    "not_kf_channel": "顾问一对一会话，由顾问发送",
    "not_confident": "匹配置信度不足",
    "score_below_floor": "匹配分数低于自动回复下限",
    "no_content": "内容库没有可用答案",
    "content_not_sendable": "内容未审核或已过期",
    "auto_reply_not_allowed": "该内容不允许自动回复",
    "reply_too_long": "回复超过微信客服长度限制",
    "compliance_blocked": "未通过合规预检",
    "compliance_unavailable": "合规预检不可用",
    "suitability": "适当性不匹配（客户风险等级不足）",
    "kf_window_closed": "已超过客户最后发言48小时",
    "kf_reply_limit": "已达到微信客服回复条数上限",
    "stale_question": "问题发出时间过久",
    "content_unavailable": "内容服务不可用",
    "out_of_scope": "超出内容库范围（预测、荐股、办事请求或闲聊等）",
    "unknown_term": "内容库中没有该名词的解释",
}
NEVER_ANSWER_LABELS = {
    "stock_pick": "荐股类问题", "prediction": "行情预测类问题", "market_prediction": "行情预测类问题",
    "account_operation": "账户操作类问题", "complaint": "投诉",
}


def reason_label(code: str) -> str:
    if code.startswith("never_answer:"):
        return NEVER_ANSWER_LABELS.get(code.split(":", 1)[1], "需人工回答的问题")
    return REASON_LABELS.get(code, code)


@dataclass(frozen=True)
class Facts:
    channel: str  # kf | archive
    intent: str | None = None
    handoff_requested: bool = False
    confident: bool = False
    score: float | None = None
    has_content: bool = False
    content_sendable: bool = False
    auto_reply_allowed: bool = False
    reply_text: str | None = None
    compliance_ok: bool | None = None  # None: not checked (no text) or checker unavailable
    suitable: bool = True
    kf_window_open: bool = True
    kf_replies_left: int = 5
    stale: bool = False


@dataclass(frozen=True)
class Decision:
    action: str
    reasons: tuple[str, ...] = field(default_factory=tuple)


def decide(facts: Facts, settings: ConversationsSettings) -> Decision:
    if facts.handoff_requested or (facts.intent and facts.intent in settings.handoff_intents):
        return Decision(HANDOFF, ("handoff_requested",))
    reasons: list[str] = []
    if facts.intent and facts.intent in settings.never_answer_intents:
        reasons.append(f"never_answer:{facts.intent}")
    if facts.channel != "kf":
        reasons.append("not_kf_channel")
    if not facts.has_content:
        reasons.append("no_content")
    else:
        if not facts.confident:
            reasons.append("not_confident")
        if facts.score is not None and facts.score < settings.min_auto_score:
            reasons.append("score_below_floor")
        if not facts.content_sendable:
            reasons.append("content_not_sendable")
        if not facts.auto_reply_allowed:
            reasons.append("auto_reply_not_allowed")
        if facts.reply_text and len(facts.reply_text.encode()) > MAX_KF_TEXT_BYTES:
            reasons.append("reply_too_long")
        if facts.compliance_ok is None:
            reasons.append("compliance_unavailable")
        elif not facts.compliance_ok:
            reasons.append("compliance_blocked")
        if not facts.suitable:
            reasons.append("suitability")
    if facts.channel == "kf":
        if not facts.kf_window_open:
            reasons.append("kf_window_closed")
        if facts.kf_replies_left < 1:
            reasons.append("kf_reply_limit")
    if facts.stale:
        reasons.append("stale_question")
    return Decision(ROUTE if reasons else AUTO, tuple(reasons))


_LEVEL = re.compile(r"(\d)")


def _level(value: str | None) -> int | None:
    if not value:
        return None
    found = _LEVEL.search(str(value))
    return int(found.group(1)) if found else None


def suitable(product_risk_level: str | None, client_risk_level: str | None) -> bool:
    """适当性: a product rated Rn may go to a client rated Cn or higher. Content without a product risk
    passes; a rated product to a client whose rating is unknown does not (except R1)."""
    product = _level(product_risk_level)
    if product is None or product <= 1:
        return True
    client = _level(client_risk_level)
    return client is not None and client >= product


def asks_for_human(text: str, settings: ConversationsSettings) -> bool:
    compact = re.sub(r"\s+", "", text or "")
    return any(keyword in compact for keyword in settings.handoff_keywords)
