import pytest
import requests
from wechatpy.exceptions import WeChatClientException


@pytest.fixture
def kf(sim):
    sim.add_member("servicer1", "接待员")
    sim.kf_add_account("wkACC1", "投顾小助手", servicers=["servicer1"])
    return sim


def test_user_message_posts_callback_and_sync_msg_pages(kf, kf_client, receiver):
    for i in range(3):
        kf.kf_user_says("wkACC1", "wmU1", f"问题{i}")
    event = receiver.events("kf_msg_or_event")[-1]
    assert receiver.received[-1][0] == "kf" and event["OpenKfId"] == "wkACC1"
    page1 = kf_client.post("kf/sync_msg", data={"token": event["Token"], "limit": 2, "open_kfid": "wkACC1"})
    assert page1["has_more"] == 1 and [m["text"]["content"] for m in page1["msg_list"]] == ["问题0", "问题1"]
    msg = page1["msg_list"][0]
    assert msg["origin"] == 3 and msg["external_userid"] == "wmU1" and msg["msgtype"] == "text"
    page2 = kf_client.kf.sync_msg(event["Token"], cursor=page1["next_cursor"])  # wechatpy's own method
    assert page2["has_more"] == 0 and [m["text"]["content"] for m in page2["msg_list"]] == ["问题2"]
    empty = kf_client.kf.sync_msg(event["Token"], cursor=page2["next_cursor"])
    assert empty["msg_list"] == [] and empty["next_cursor"] == page2["next_cursor"]


def test_sync_token_valid_ten_minutes_and_three_days_readable(kf, kf_client, receiver):
    kf.kf_user_says("wkACC1", "wmU1", "旧消息")
    token = receiver.events("kf_msg_or_event")[-1]["Token"]
    kf.advance(601)
    with pytest.raises(WeChatClientException) as stale:
        kf_client.kf.sync_msg(token)
    assert stale.value.errcode == 95007
    kf.advance(3 * 86400)
    kf.kf_user_says("wkACC1", "wmU1", "新消息")
    fresh = receiver.events("kf_msg_or_event")[-1]["Token"]
    assert [m["text"]["content"] for m in kf_client.kf.sync_msg(fresh)["msg_list"]] == ["新消息"]


def test_send_msg_five_per_user_message_and_48h(kf, kf_client):
    with pytest.raises(WeChatClientException) as never:
        kf_client.kf_message.send_text("wmU1", "wkACC1", "您好")
    assert never.value.errcode == 95002
    kf.kf_user_says("wkACC1", "wmU1", "在吗")
    for i in range(5):
        kf_client.kf_message.send_text("wmU1", "wkACC1", f"回复{i}")
    with pytest.raises(WeChatClientException) as count:
        kf_client.kf_message.send_text("wmU1", "wkACC1", "第六条")
    assert count.value.errcode == 95001
    kf.kf_user_says("wkACC1", "wmU1", "还有问题")
    kf_client.kf_message.send_text("wmU1", "wkACC1", "好的")
    kf.advance(48 * 3600 + 1)
    with pytest.raises(WeChatClientException) as late:
        kf_client.kf_message.send_text("wmU1", "wkACC1", "迟到的回复")
    assert late.value.errcode == 95002
    assert [m["text"]["content"] for m in kf.kf_sent("wmU1")] == [f"回复{i}" for i in range(5)] + ["好的"]


def test_send_msg_dedupes_by_msgid_and_checks_length(kf, kf_client):
    kf.kf_user_says("wkACC1", "wmU1", "在吗")
    a = kf_client.kf_message.send_text("wmU1", "wkACC1", "一次", msgid="reply-1")
    b = kf_client.kf_message.send_text("wmU1", "wkACC1", "一次", msgid="reply-1")
    assert a["msgid"] == b["msgid"] == "reply-1" and len(kf.kf_sent("wmU1")) == 1
    with pytest.raises(WeChatClientException) as long_text:
        kf_client.kf_message.send_text("wmU1", "wkACC1", "字" * 683)  # 2049 bytes
    assert long_text.value.errcode == 45002
    with pytest.raises(WeChatClientException) as bad_kf:
        kf_client.kf_message.send_text("wmU1", "wkNOPE", "x")
    assert bad_kf.value.errcode == 95000


def test_service_state_transitions_and_send_only_in_0_or_1(kf, kf_client):
    kf.kf_user_says("wkACC1", "wmU1", "转人工")
    assert kf_client.kf.get_service_state("wkACC1", "wmU1")["service_state"] == 0
    kf_client.kf.trans_service_state("wkACC1", "wmU1", 1)
    kf_client.kf_message.send_text("wmU1", "wkACC1", "我是助手")
    with pytest.raises(WeChatClientException) as bad_servicer:
        kf_client.kf.trans_service_state("wkACC1", "wmU1", 3, "nobody")
    assert bad_servicer.value.errcode == 95014
    res = kf_client.kf.trans_service_state("wkACC1", "wmU1", 3, "servicer1")
    assert res["msg_code"]
    state = kf_client.kf.get_service_state("wkACC1", "wmU1")
    assert (state["service_state"], state["servicer_userid"]) == (3, "servicer1")
    with pytest.raises(WeChatClientException) as human:
        kf_client.kf_message.send_text("wmU1", "wkACC1", "机器人插话")
    assert human.value.errcode == 95018
    with pytest.raises(WeChatClientException) as back:
        kf_client.kf.trans_service_state("wkACC1", "wmU1", 1)
    assert back.value.errcode == 95016
    kf.kf_end_session("wkACC1", "wmU1")
    assert kf.kf_state("wkACC1", "wmU1") == 4
    kf.kf_user_says("wkACC1", "wmU1", "新会话")
    assert kf.kf_state("wkACC1", "wmU1") == 0
    system = [m for m in kf_client.kf.sync_msg("")["msg_list"] if m["origin"] == 4]
    assert system[0]["event"]["event_type"] == "session_status_change"


def test_account_and_servicer_list(kf, kf_client):
    assert kf_client.kf.get_account_list()["account_list"][0]["open_kfid"] == "wkACC1"
    assert kf_client.kf.get_servicer_list("wkACC1")["servicer_list"] == [{"userid": "servicer1", "status": 0}]
    # requests log keeps what the product called
    assert [r.path for r in kf.requests][-2:] == ["kf/account/list", "kf/servicer/list"]
    assert requests.get(kf.base_url + "kf/nope").status_code == 404


def test_customer_batchget_and_control_endpoint_from_another_process(kf, kf_client, receiver):
    control = kf.base_url.replace("/cgi-bin/", "/_sim/")
    res = requests.post(control + "kf_user_says", json={"open_kfid": "wkACC1", "external_userid": "wmU9",
                                                        "text": "你好", "nickname": "小王"}).json()
    assert res["errcode"] == 0 and res["result"][0]["statuses"] == [200]
    got = kf_client.post("kf/customer/batchget", data={"external_userid_list": ["wmU9", "wmNone"]})
    assert got["customer_list"][0]["nickname"] == "小王" and got["invalid_external_userid"] == ["wmNone"]
    log = requests.post(control + "request_log", json={"path": "kf/customer/batchget"}).json()["result"]
    assert log[0]["body"]["external_userid_list"] == ["wmU9", "wmNone"] and log[0]["errcode"] == 0
