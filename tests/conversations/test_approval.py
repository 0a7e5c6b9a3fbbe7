"""Approval and sending rules: the console API, compliance at send time, a dead worker's claim, the
48-hour window, expiry, the app-chat edit, and archived one-to-one chats (sidebar)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, update

from bot.compliance.models import OutboundBlock
from bot.conversations.models import Suggestion
from bot.conversations.sending import SendRetryable
from bot.conversations.service import ArchivedMessageError
from bot.conversations.store import InvalidState
from tests.conversations.harness import ADVISOR, API_TOKEN, OPEN_KFID, POOL_ADVISOR

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def _routed(env, external_userid="wmAPR01", text="我的账户有个问题想请顾问看看"):
    env.sim.kf_user_says(OPEN_KFID, external_userid, text)
    env.drain()
    with env.runtime.session_factory() as session:
        return session.scalars(select(Suggestion).where(Suggestion.external_userid == external_userid)
                               .order_by(Suggestion.id.desc())).first()


def _texts(env, external_userid):
    return [m["text"]["content"] for m in env.sim.kf_sent(external_userid)]


def test_console_api_validates_and_answers_json(make_env):
    env = make_env()
    row = _routed(env)
    base = f"{env.url}/api/suggestions"
    assert requests.get(base, timeout=5).status_code == 401
    assert requests.get(base, headers={"Authorization": "Bearer wrong"}, timeout=5).status_code == 401
    listed = requests.get(base, params={"advisor": POOL_ADVISOR}, headers=AUTH, timeout=5).json()["suggestions"]
    assert [s["id"] for s in listed] == [row.id]
    one = requests.get(f"{base}/{row.id}", headers=AUTH, timeout=5).json()
    assert one["question"] == "我的账户有个问题想请顾问看看" and one["events"][0]["event"] == "created"
    assert requests.get(f"{base}/999", headers=AUTH, timeout=5).status_code == 404
    assert requests.get(base, params={"state": "nope"}, headers=AUTH, timeout=5).status_code == 400
    bad = requests.post(f"{base}/{row.id}/edit", json={"actor": POOL_ADVISOR}, headers=AUTH, timeout=5)
    assert bad.status_code == 400 and bad.json()["error"] == "text_required"
    empty = requests.post(f"{base}/{row.id}/edit", json={"actor": POOL_ADVISOR, "text": "  "}, headers=AUTH, timeout=5)
    assert empty.status_code == 400
    assert requests.post(f"{base}/{row.id}/ignore", json={}, headers=AUTH, timeout=5).status_code == 400
    other = requests.post(f"{base}/{row.id}/ignore", json={"actor": "stranger"}, headers=AUTH, timeout=5)
    assert other.status_code == 403
    assert env.service.get(row.id)["state"] == "pending"  # bad input changed nothing
    ignored = requests.post(f"{base}/{row.id}/ignore", json={"actor": POOL_ADVISOR}, headers=AUTH, timeout=5)
    assert ignored.status_code == 200 and ignored.json()["state"] == "rejected"
    again = requests.post(f"{base}/{row.id}/approve", json={"actor": POOL_ADVISOR}, headers=AUTH, timeout=5)
    assert again.status_code == 409 and again.json()["state"] == "rejected"
    card = [m for m in env.sim.app_messages(POOL_ADVISOR) if m["msgtype"] == "template_card"][0]
    assert card["replaced_by"] == "已忽略"


def test_compliance_blocks_at_send_time(make_env):
    env = make_env()
    row = _routed(env, "wmBLK01")
    state = env.service.edit(row.id, "这款产品保本保收益，稳赚不赔。", POOL_ADVISOR)["state"]
    assert state == "failed" and "compliance_blocked" in env.service.get(row.id)["last_error"]
    assert _texts(env, "wmBLK01") == [env.service.settings.holding_notice]
    with env.runtime.session_factory() as session:
        block = session.scalars(select(OutboundBlock)).one()
    assert block.origin == f"suggestion:{row.id}" and block.channel == "kf"


def test_a_dead_workers_claim_is_taken_over_with_the_same_msgid(make_env):
    env = make_env()
    row = _routed(env, "wmDEAD1")
    with env.runtime.session() as session:
        session.execute(update(Suggestion).where(Suggestion.id == row.id)
                        .values(edited_text="您好，已为您查询，请留意短信通知。", state="sending", decided_by=POOL_ADVISOR,
                                sending_since=env.runtime.clock.now()))
    # The dead worker's call had reached WeCom before it died.
    env.runtime.wecom.client("kf").kf_message.send_text("wmDEAD1", OPEN_KFID, "您好，已为您查询，请留意短信通知。",
                                                        msgid=row.send_msgid)
    assert env.service.resume() == 0  # still inside its lease: nobody else touches it
    env.sim.advance(env.service.settings.send_lease_seconds + 1)
    assert env.service.resume() == 1
    assert env.service.get(row.id)["state"] == "sent"
    assert _texts(env, "wmDEAD1") == [env.service.settings.holding_notice, "您好，已为您查询，请留意短信通知。"]


def test_outside_the_48_hour_window_nothing_is_sent(make_env):
    env = make_env(pending_expiry_hours=100)
    row = _routed(env, "wmWIN01")
    env.sim.advance(timedelta(hours=49))
    assert env.service.edit(row.id, "您好，久等了。", POOL_ADVISOR)["state"] == "failed"
    assert env.service.get(row.id)["last_error"] == "kf_window_closed"
    assert not any((c.body or {}).get("msgid") == row.send_msgid for c in env.sim.calls("kf/send_msg"))


def test_unanswered_suggestions_expire_and_their_cards_say_so(make_env):
    env = make_env()
    row = _routed(env, "wmEXP01")
    env.sim.advance(timedelta(hours=49))
    assert env.service.approval.expire_stale() == 1
    assert env.service.get(row.id)["state"] == "expired"
    card = [m for m in env.sim.app_messages(POOL_ADVISOR) if m["task_id"] == row.card_task_id][0]
    assert card["replaced_by"] == "已过期"  # closed with the response_code message/send returned
    with pytest.raises(InvalidState):
        env.service.edit(row.id, "您好", POOL_ADVISOR)


def test_edit_typed_in_the_app_chat_after_pressing_edit(make_env):
    env = make_env()
    row = _routed(env, "wmCHAT1")
    env.sim.click_card(POOL_ADVISOR, row.card_task_id, "sug_edit")
    env.drain()
    env.sim.callbacks.text_message(POOL_ADVISOR, "您好，您的问题已记录，顾问今天会回电。", app="advisor")
    env.drain()
    assert env.service.get(row.id)["state"] == "sent"
    assert _texts(env, "wmCHAT1")[-1] == "您好，您的问题已记录，顾问今天会回电。"
    assert env.service.get(row.id)["events"][-1]["actor"] == POOL_ADVISOR


def test_a_click_from_someone_else_changes_nothing(make_env):
    env = make_env()
    row = _routed(env, "wmOTH01")
    env.sim.add_member("intruder", "路人")
    env.sim.callbacks.template_card_event("intruder", row.card_task_id, "sug_ignore", "RC-fake")
    env.drain()
    assert env.service.get(row.id)["state"] == "pending"


def test_archived_one_to_one_chat_goes_to_the_sidebar(make_env):
    env = make_env()
    now_ms = int(env.runtime.clock.now().timestamp() * 1000)
    with pytest.raises(ArchivedMessageError):
        env.service.accept_archived_message({"msgid": "m0", "from": "wmARC01", "tolist": [ADVISOR, "x"],
                                             "msgtime": now_ms, "msgtype": "text", "text": {"content": "?"}})
    question = {"msgid": "arc-1", "action": "send", "from": "wmARC01", "tolist": [ADVISOR], "roomid": "",
                "msgtime": now_ms, "msgtype": "text", "text": {"content": "我的账户想请您看一下"}}
    out = env.service.accept_archived_message(question)
    assert out["recorded"] and env.service.accept_archived_message(question)["recorded"] is False
    suggestion = env.service.get(out["suggestion_id"])
    assert suggestion["channel"] == "archive" and suggestion["advisor_userid"] == ADVISOR
    assert "not_kf_channel" in suggestion["reasons"]
    assert [m["task_id"] for m in env.sim.app_messages(ADVISOR)] == [_task(env, out["suggestion_id"])]
    reply = "您好，我稍后帮您看一下账户情况。"
    assert env.service.edit(out["suggestion_id"], reply, ADVISOR)["state"] == "ready_for_sidebar"
    assert env.sim.calls("kf/send_msg") == []  # the advisor sends it from the sidebar, not the bot
    env.service.accept_archived_message({"msgid": "arc-2", "from": ADVISOR, "tolist": ["wmARC01"], "roomid": "",
                                         "msgtime": now_ms + 5000, "msgtype": "text", "text": {"content": reply}})
    assert env.service.get(out["suggestion_id"])["state"] == "sent"


def _task(env, suggestion_id):
    with env.runtime.session_factory() as session:
        return session.get(Suggestion, suggestion_id).card_task_id


def test_a_card_wecom_refuses_is_left_for_the_console_not_retried(make_env):
    env = make_env(pool_advisors=["ghost"])  # not a member: message/send answers 81013
    row = _routed(env, "wmGHOST")
    assert env.runtime.inbox.counts().get("pending", 0) == 0  # the event did not fail
    found = env.service.get(row.id)
    assert found["state"] == "pending" and found["last_error"] == "card_refused:81013"
    calls = len(env.sim.calls("message/send"))
    assert env.service.resume() == 0 and len(env.sim.calls("message/send")) == calls


def test_console_api_for_a_signed_in_advisor(make_env):
    import re

    from bot.web.accounts import AccountService

    env = make_env()
    row = _routed(env, "wmWEB01")
    accounts = AccountService(env.runtime.session_factory, env.runtime.clock, hash_method="pbkdf2:sha256:1000")
    accounts.add("adv-lisi", "correct-horse-battery", "advisor", wecom_userid=POOL_ADVISOR)
    accounts.add("adv-other", "correct-horse-battery", "advisor", wecom_userid="someone")
    app = env.server.app

    def signed_in(username):
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert client.post("/login", data={"username": username, "password": "correct-horse-battery",
                                           "csrf_token": token}).status_code == 302
        page = client.get("/", follow_redirects=True).get_data(as_text=True)  # the signed-in session's token
        return client, re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)

    other, _ = signed_in("adv-other")
    assert other.get("/api/suggestions").get_json()["suggestions"] == []  # only their own
    assert other.get(f"/api/suggestions/{row.id}").status_code == 403
    client, token = signed_in("adv-lisi")
    assert [s["id"] for s in client.get("/api/suggestions").get_json()["suggestions"]] == [row.id]
    assert client.post(f"/api/suggestions/{row.id}/ignore", json={}).status_code == 400  # no CSRF token
    done = client.post(f"/api/suggestions/{row.id}/ignore", json={}, headers={"X-CSRFToken": token})
    assert done.status_code == 200 and done.get_json()["state"] == "rejected"
    assert env.service.get(row.id)["events"][-1]["actor"] == POOL_ADVISOR


def test_an_archived_question_whose_card_fails_is_finished_by_tick(make_env):
    env = make_env()
    now_ms = int(env.runtime.clock.now().timestamp() * 1000)
    env.sim.fail_next("message/send", -1)
    out = env.service.accept_archived_message({"msgid": "arc-9", "from": "wmARC09", "tolist": [ADVISOR], "roomid": "",
                                               "msgtime": now_ms, "msgtype": "text",
                                               "text": {"content": "我的账户想请您看一下"}})
    assert out == {"recorded": True, "suggestion_id": None, "deferred": True}
    assert env.sim.app_messages(ADVISOR) == []
    assert env.service.tick() == {"expired": 0, "processed": 1, "resumed": 0}
    [card] = env.sim.app_messages(ADVISOR)
    assert card["msgtype"] == "template_card"


def test_a_rate_limited_card_is_sent_later(make_env):
    import time

    env = make_env()
    env.sim.fail_next("message/send", 45009)  # 30 app messages a minute per member
    row = _routed(env, "wmRATE1")
    assert env.runtime.inbox.counts().get("pending", 0) == 0  # the client's message was handled
    assert env.service.get(row.id)["state"] == "pending" and env.sim.app_messages(POOL_ADVISOR) == []
    time.sleep(0.25)  # the client's local back-off (rate_limit_backoff_seconds) ends
    assert env.service.tick()["resumed"] == 1
    assert [m["task_id"] for m in env.sim.app_messages(POOL_ADVISOR)] == [row.card_task_id]


def test_a_duplicate_msgid_refusal_counts_as_sent(make_env):
    env = make_env(duplicate_msgid_errcodes=[95099])  # should real WeCom refuse a repeated msgid
    row = _routed(env, "wmDUPID")
    env.sim.fail_next("kf/send_msg", 95099)
    assert env.service.edit(row.id, "您好，已为您处理。", POOL_ADVISOR)["state"] == "sent"
    other = _routed(env, "wmDUPID2")
    env.sim.fail_next("kf/send_msg", 95098)  # any other unknown code: not confirmed, retried later
    with pytest.raises(SendRetryable):
        env.service.edit(other.id, "您好。", POOL_ADVISOR)
    assert env.service.get(other.id)["state"] == "approved"


def test_an_out_of_scope_question_goes_to_the_advisor_with_its_reason(make_env):
    """The content scope check keeps a question no item answers from the library; the suggestion says why."""
    from bot.conversations.policy import reason_label

    env = make_env()
    row = _routed(env, "wmOOS01", "帮我看看这个基金经理靠不靠谱")  # no intent rule names it
    assert row.state != "sent" and "out_of_scope" in row.reasons and row.content_version_id is None
    assert reason_label("out_of_scope").startswith("超出内容库范围")


def test_a_question_about_a_term_the_library_never_mentions_goes_to_the_advisor_with_its_reason(make_env):
    from bot.conversations.policy import reason_label

    env = make_env(with_content=True)
    row = _routed(env, "wmTERM01", "CDR是什么")  # no item of the starter pack mentions CDR
    assert row.state != "sent" and "unknown_term" in row.reasons and row.content_version_id is None
    assert reason_label("unknown_term") == "内容库中没有该名词的解释"
