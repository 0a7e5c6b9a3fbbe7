"""The auto-answer policy is a pure function: every failing condition is a reason to ask a person."""

from __future__ import annotations

import pytest

from bot.conversations.policy import AUTO, HANDOFF, ROUTE, Facts, asks_for_human, decide, reason_label, suitable
from bot.conversations.settings import ConversationsSettings

SETTINGS = ConversationsSettings()
GOOD = Facts(channel="kf", confident=True, score=0.9, has_content=True, content_sendable=True,
             auto_reply_allowed=True, reply_text="开户需要身份证和银行卡。", compliance_ok=True, suitable=True,
             kf_window_open=True, kf_replies_left=5)


def _with(**changes) -> Facts:
    return Facts(**{**GOOD.__dict__, **changes})


def test_all_conditions_met_answers_automatically():
    assert decide(GOOD, SETTINGS).action == AUTO


@pytest.mark.parametrize("changes, reason", [
    ({"confident": False}, "not_confident"),
    ({"content_sendable": False}, "content_not_sendable"),
    ({"auto_reply_allowed": False}, "auto_reply_not_allowed"),
    ({"compliance_ok": False}, "compliance_blocked"),
    ({"compliance_ok": None}, "compliance_unavailable"),
    ({"suitable": False}, "suitability"),
    ({"kf_window_open": False}, "kf_window_closed"),
    ({"kf_replies_left": 0}, "kf_reply_limit"),
    ({"stale": True}, "stale_question"),
    ({"channel": "archive"}, "not_kf_channel"),
    ({"has_content": False}, "no_content"),
    ({"reply_text": "长" * 700}, "reply_too_long"),
    ({"intent": "stock_pick"}, "never_answer:stock_pick"),
    ({"intent": "market_prediction"}, "never_answer:market_prediction"),
    ({"intent": "prediction"}, "never_answer:prediction"),
    ({"intent": "account_operation"}, "never_answer:account_operation"),
    ({"intent": "complaint"}, "never_answer:complaint"),
])
def test_any_failing_condition_routes_to_a_person(changes, reason):
    decision = decide(_with(**changes), SETTINGS)
    assert decision.action == ROUTE and reason in decision.reasons
    assert reason_label(reason)  # every reason has a Chinese label for the card


def test_score_floor_is_a_setting():
    assert decide(_with(score=0.5), ConversationsSettings(min_auto_score=0.6)).reasons == ("score_below_floor",)


def test_asking_for_a_person_hands_off_even_a_confident_match():
    assert decide(_with(handoff_requested=True), SETTINGS).action == HANDOFF
    assert decide(_with(intent="human"), SETTINGS).action == HANDOFF
    assert decide(_with(intent="complaint"), ConversationsSettings(handoff_intents=["human", "complaint"])).action \
        == HANDOFF


@pytest.mark.parametrize("text, wanted", [("转人工", True), ("我要 人工 客服", True), ("请帮我找真人", True),
                                          ("人工智能选股靠谱吗", False), ("佣金多少", False)])
def test_handoff_keywords(text, wanted):
    assert asks_for_human(text, SETTINGS) is wanted


@pytest.mark.parametrize("product, client, ok", [(None, None, True), ("R1", None, True), ("R3", None, False),
                                                 ("R3", "C3", True), ("R4", "C3", False), ("R2", "C5", True)])
def test_suitability(product, client, ok):
    assert suitable(product, client) is ok
