import pytest
from wechatpy.exceptions import WeChatClientException

AGENT = 1000002


def card(task_id, buttons=None):
    return {"touser": "u1", "msgtype": "template_card", "agentid": AGENT, "template_card": {
        "card_type": "button_interaction", "main_title": {"title": "审批：早评推送"}, "task_id": task_id,
        "button_list": buttons or [{"text": "通过", "style": 1, "key": "approve"},
                                   {"text": "驳回", "style": 2, "key": "reject"}]}}


@pytest.fixture
def staff(sim):
    sim.add_member("u1", "合规一")
    return sim


def test_text_send_and_invalid_users(staff, client):
    res = client.message.send_text(AGENT, "u1|ghost", "你好")
    assert res["invaliduser"] == "ghost" and res["msgid"]
    assert staff.app_messages("u1")[0]["text"] == {"content": "你好"}
    with pytest.raises(WeChatClientException) as all_bad:
        client.message.send_text(AGENT, "ghost", "你好")
    assert all_bad.value.errcode == 81013
    with pytest.raises(WeChatClientException) as agent:
        client.message.send_text(999, "u1", "你好")
    assert agent.value.errcode == 40056


def test_per_member_30_per_minute(staff, client):
    for i in range(30):
        client.message.send_text(AGENT, "u1", f"m{i}")
    with pytest.raises(WeChatClientException) as exc:
        client.message.send_text(AGENT, "u1", "one more")
    assert exc.value.errcode == 45009
    staff.advance(60)
    client.message.send_text(AGENT, "u1", "after a minute")


def test_card_validation(staff, client):
    for bad in [card("t" * 129), card("bad id!"),
                card("t1", [{"text": "x", "key": f"k{i}"} for i in range(7)]),
                card("t2", [{"text": "x"}])]:
        with pytest.raises(WeChatClientException) as exc:
            client.post("message/send", data=bad)
        assert exc.value.errcode == 40058
    client.post("message/send", data=card("dup"))
    with pytest.raises(WeChatClientException):
        client.post("message/send", data=card("dup"))


def test_click_posts_event_and_update_works_once(staff, client, receiver):
    sent = client.post("message/send", data=card("review-42"))
    assert sent["response_code"]
    code = staff.click_card("u1", "review-42", "approve")
    event = receiver.events("template_card_event")[-1]
    assert (event["FromUserName"], event["EventKey"], event["TaskId"], event["ResponseCode"], event["CardType"]) == (
        "u1", "approve", "review-42", code, "button_interaction")
    assert receiver.received[-1][0] == "app" and event["AgentID"] == str(AGENT)
    update = {"userids": ["u1"], "agentid": AGENT, "response_code": code, "button": {"replace_name": "已通过"}}
    client.post("message/update_template_card", data=update)
    assert staff.app_messages("u1")[0]["replaced_by"] == "已通过"
    with pytest.raises(WeChatClientException) as again:
        client.post("message/update_template_card", data=update)
    assert again.value.errcode == 40058
    with pytest.raises(ValueError):
        staff.click_card("u1", "review-42", "reject")  # the card was replaced


def test_response_code_expires_after_72h(staff, client, receiver):
    client.post("message/send", data=card("review-43"))
    code = staff.click_card("u1", "review-43", "reject")
    staff.advance(72 * 3600 + 1)
    with pytest.raises(WeChatClientException) as exc:
        client.post("message/update_template_card", data={
            "userids": ["u1"], "agentid": AGENT, "response_code": code, "button": {"replace_name": "已驳回"}})
    assert exc.value.errcode == 40058
