"""End to end through the simulator: WeCom posts encrypted callbacks to the running bot, the worker
drains the inbox, the bot pulls with kf/sync_msg and answers with kf/send_msg or asks an advisor with
an interactive card; clicks come back as template_card_event."""

from __future__ import annotations

import time

import requests
from sqlalchemy import func, select

from bot.compliance.archive_models import ArchiveMessage
from bot.conversations.models import ConversationMessage, Suggestion, SuggestionEvent
from tests.conversations.harness import API_TOKEN, OPEN_KFID, POOL_ADVISOR

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def _only_suggestion(env, external_userid):
    with env.runtime.session_factory() as session:
        rows = session.scalars(select(Suggestion).where(Suggestion.external_userid == external_userid)).all()
        assert len(rows) == 1, [r.state for r in rows]
        return rows[0]


def _events(env, suggestion_id):
    with env.runtime.session_factory() as session:
        return [(e.event, e.actor) for e in session.scalars(
            select(SuggestionEvent).where(SuggestionEvent.suggestion_id == suggestion_id).order_by(SuggestionEvent.id))]


def _texts(env, external_userid):
    return [m["text"]["content"] for m in env.sim.kf_sent(external_userid)]


def test_faq_question_is_answered_automatically(make_env):
    env = make_env(with_content=True)
    env.sim.kf_user_says(OPEN_KFID, "wmFAQ01", "买股票的手续费怎么收？")
    env.drain()
    row = _only_suggestion(env, "wmFAQ01")
    assert row.decision == "auto" and row.state == "sent" and row.reasons == []
    assert row.candidates and row.candidates[0]["score"] is not None and row.content_version_id
    assert _texts(env, "wmFAQ01") == [row.proposed_text]
    assert [e for e, _ in _events(env, row.id)] == ["created", "approved", "sending", "sent"]
    assert env.sim.app_messages(POOL_ADVISOR) == []  # nobody had to approve it
    with env.runtime.session_factory() as session:
        directions = session.scalars(select(ConversationMessage.direction).where(
            ConversationMessage.external_userid == "wmFAQ01").order_by(ConversationMessage.id)).all()
    assert directions == ["in", "out"]
    with env.runtime.session_factory() as session:  # and both are in the compliance archive
        archived = session.execute(select(ArchiveMessage.direction, ArchiveMessage.suggestion_id,
                                          ArchiveMessage.content_version_id, ArchiveMessage.origin)
                                   .where(ArchiveMessage.external_userid == "wmFAQ01")
                                   .order_by(ArchiveMessage.chain_seq)).all()
    assert archived == [("inbound", None, None, "client"),
                        ("outbound", str(row.id), str(row.content_version_id), "auto_reply")]


def test_stock_tip_is_routed_edited_and_sent_exactly_once(make_env):
    env = make_env(with_content=True)
    sim = env.sim
    sim.kf_user_says(OPEN_KFID, "wmTIP01", "帮我推荐一只明天能涨停的股票")
    env.drain()
    row = _only_suggestion(env, "wmTIP01")
    assert row.state == "pending" and row.decision == "route"
    assert any(r.startswith("never_answer:") for r in row.reasons)
    assert _texts(env, "wmTIP01") == [env.service.settings.holding_notice]  # told once that a person answers
    [card] = sim.app_messages(POOL_ADVISOR)
    assert card["task_id"] == row.card_task_id

    # 修改: the advisor gets a link to the console edit page.
    sim.click_card(POOL_ADVISOR, row.card_task_id, "sug_edit")
    env.drain()
    link = [m for m in sim.app_messages(POOL_ADVISOR) if m["msgtype"] == "text"]
    assert link and link[0]["text"]["content"].endswith(f"http://127.0.0.1:8000/advisor/#s{row.id}")

    # The console saves the edit; WeCom answers too late (the message IS delivered, we never hear so).
    edited = "您好，个股问题需要由持牌投资顾问解答，稍后您的专属顾问会联系您。"
    sim.delay("kf/send_msg", 1.5)
    res = requests.post(f"{env.url}/api/suggestions/{row.id}/edit", json={"text": edited, "actor": POOL_ADVISOR},
                        headers=AUTH, timeout=10)
    assert res.status_code == 502
    sim.delay("kf/send_msg", 0)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(c.errcode == 0 for c in sim.calls("kf/send_msg")
                                                  if (c.body or {}).get("msgid") == row.send_msgid):
        time.sleep(0.05)

    # The worker process is restarted; the advisor presses 发送 twice and WeCom repeats the callback.
    env.restart_worker()
    code = sim.click_card(POOL_ADVISOR, row.card_task_id, "sug_send")
    sim.callbacks.template_card_event(POOL_ADVISOR, row.card_task_id, "sug_send", code, repeat=3)
    env.sim.clock.advance(1)
    sim.click_card(POOL_ADVISOR, row.card_task_id, "sug_send")
    env.drain()
    env.drain()

    assert _texts(env, "wmTIP01") == [env.service.settings.holding_notice, edited]  # exactly once
    calls = [c for c in sim.calls("kf/send_msg") if (c.body or {}).get("msgid") == row.send_msgid]
    # Every retry reused the msgid and WeCom dropped the duplicates (on a loaded machine a retry can
    # itself time out and be retried once more; the client still gets the text once, asserted above).
    assert len(calls) >= 2
    row = _only_suggestion(env, "wmTIP01")
    assert row.state == "sent" and row.edited_text == edited and row.proposed_text is None
    events = _events(env, row.id)
    assert ("edited", POOL_ADVISOR) in events and ("approved", POOL_ADVISOR) in events
    assert [e for e, _ in events].count("sent") == 1 and ("failed", "system") in events
    card = [m for m in sim.app_messages(POOL_ADVISOR) if m["msgtype"] == "template_card"][0]
    assert card["replaced_by"] == "已修改并发送"
    with env.runtime.session() as session:  # the app messages to the advisor are archived too
        app_rows = session.execute(select(ArchiveMessage.msgtype, ArchiveMessage.receiver, ArchiveMessage.origin)
                                   .where(ArchiveMessage.channel == "app",
                                          ArchiveMessage.suggestion_id == str(row.id))).all()
    assert ("template_card", POOL_ADVISOR, "approval_card") in app_rows
    assert ("text", POOL_ADVISOR, "approval_edit_link") in app_rows


def test_kf_five_message_limit_is_respected(make_env):
    env = make_env()
    sim = env.sim
    for i in range(6):
        sim.kf_user_says(OPEN_KFID, "wmLIM01", f"我的账户第{i + 1}个问题想请顾问看看")
    env.drain()
    with env.runtime.session_factory() as session:
        ids = session.scalars(select(Suggestion.id).where(Suggestion.external_userid == "wmLIM01")
                              .order_by(Suggestion.id)).all()
    assert len(ids) == 6 and len(_texts(env, "wmLIM01")) == 1  # the holding notice, once
    states = [env.service.edit(i, f"您好，这是第{n + 1}条回复。", POOL_ADVISOR)["state"] for n, i in enumerate(ids)]
    assert states == ["sent"] * 4 + ["failed"] * 2
    assert len(_texts(env, "wmLIM01")) == 5
    assert env.service.get(ids[-1])["last_error"] == "kf_reply_limit"
    assert [c.errcode for c in sim.calls("kf/send_msg") if c.errcode != 0] == []  # never asked WeCom for a 6th

    sim.kf_user_says(OPEN_KFID, "wmLIM01", "好的，那我再问一个问题")  # a new client message: budget again
    env.drain()
    with env.runtime.session_factory() as session:
        last = session.scalar(select(func.max(Suggestion.id)))
    assert env.service.edit(last, "好的，请讲。", POOL_ADVISOR)["state"] == "sent"
    # A reply was sent since the first notice, so the new question is acknowledged once again.
    assert _texts(env, "wmLIM01")[5:] == [env.service.settings.holding_notice, "好的，请讲。"]


def test_handoff_to_a_person_and_back(make_env):
    env = make_env()
    sim = env.sim
    sim.kf_user_says(OPEN_KFID, "wmHUM01", "转人工")
    env.drain()
    assert sim.kf_state(OPEN_KFID, "wmHUM01") == 3
    assert sim.calls("kf/service_state/trans")[-1].body["servicer_userid"] == "wangwu"
    assert _texts(env, "wmHUM01") == [env.service.settings.handoff_notice]
    assert env.service.in_human_conversation("wmHUM01") is True
    assert _only_suggestion(env, "wmHUM01").state == "handed_off"

    sim.kf_user_says(OPEN_KFID, "wmHUM01", "我想问一下开户的事")  # the person answers, not the bot
    sim.kf_servicer_says(OPEN_KFID, "wmHUM01", "wangwu", "您好，我是王五，请讲。")
    env.drain()
    assert len(_texts(env, "wmHUM01")) == 1
    with env.runtime.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Suggestion)
                              .where(Suggestion.external_userid == "wmHUM01")) == 1
        assert session.scalar(select(func.count()).select_from(ConversationMessage)
                              .where(ConversationMessage.external_userid == "wmHUM01")) == 4  # 2 in, notice, servicer

    sim.kf_end_session(OPEN_KFID, "wmHUM01")
    env.drain()
    assert env.service.in_human_conversation("wmHUM01") is False
    sim.kf_user_says(OPEN_KFID, "wmHUM01", "再问个账户的问题")  # back with the bot: a suggestion again
    env.drain()
    with env.runtime.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Suggestion)
                              .where(Suggestion.external_userid == "wmHUM01")) == 2
    assert len(_texts(env, "wmHUM01")) == 2  # the holding notice for the new question


def test_a_product_answer_needs_a_suitable_client(make_env):
    env = make_env(with_content=True)
    env.sim.kf_user_says(OPEN_KFID, "wmSUIT1", "创业板怎么开")  # an R4 answer; this client has no rating
    env.drain()
    row = _only_suggestion(env, "wmSUIT1")
    assert row.state == "pending" and row.reasons == ["suitability"] and row.proposed_text
    assert _texts(env, "wmSUIT1") == [env.service.settings.holding_notice]
