import pytest
from wechatpy.exceptions import WeChatClientException


@pytest.fixture
def book(sim):
    sim.add_member("u1", "顾问一")
    sim.add_member("u2", "顾问二")
    sim.add_external_contact("u1", "wmA", "客户A", callback=False)
    sim.add_external_contact("u1", "wmB", "客户B", callback=False)
    sim.add_external_contact("u2", "wmB", "客户B", callback=False)
    return sim


def add(client, **data):
    return client.post("externalcontact/add_msg_template", data={"chat_type": "single", **data})


def send_result(client, msgid, userid):
    res = client.post("externalcontact/get_groupmsg_send_result", data={"msgid": msgid, "userid": userid})
    return {r["external_userid"]: r["status"] for r in res["send_list"]}


def test_nothing_sent_until_member_confirms(book, client):
    res = add(client, sender="u1", external_userid=["wmA", "wmB", "wmX"], text={"content": "今日早评"})
    assert res["fail_list"] == ["wmX"]
    msgid = res["msgid"]
    task = client.post("externalcontact/get_groupmsg_task", data={"msgid": msgid})["task_list"]
    assert task == [{"userid": "u1", "status": 0}]
    assert send_result(client, msgid, "u1") == {"wmA": 0, "wmB": 0}
    book.customer_deletes_member("u1", "wmB")
    assert book.confirm_groupmsg(msgid, "u1") == {"wmA": 1, "wmB": 2}
    assert client.post("externalcontact/get_groupmsg_task", data={"msgid": msgid})["task_list"][0]["status"] == 2
    assert send_result(client, msgid, "u1") == {"wmA": 1, "wmB": 2}
    listed = client.post("externalcontact/get_groupmsg_list_v2", data={
        "chat_type": "single", "start_time": book.core.ts() - 60, "end_time": book.core.ts() + 60})
    assert [m["msgid"] for m in listed["group_msg_list"]] == [msgid]


def test_without_sender_every_follow_user_gets_a_task(book, client):
    msgid = add(client, external_userid=["wmB"], text={"content": "hi"})["msgid"]
    tasks = client.post("externalcontact/get_groupmsg_task", data={"msgid": msgid})["task_list"]
    assert sorted(t["userid"] for t in tasks) == ["u1", "u2"]


def test_monthly_cap_marks_status_3(book, client, clock):
    book.set_groupmsg_cap(2)
    statuses = []
    for i in range(3):
        msgid = add(client, sender="u1", external_userid=["wmA"], text={"content": f"第{i}条"})["msgid"]
        statuses.append(book.confirm_groupmsg(msgid, "u1")["wmA"])
    assert statuses == [1, 1, 3] and book.groupmsg_received("wmA") == 2
    book.advance(31 * 86400)  # next month: the count starts again
    msgid = add(client, sender="u1", external_userid=["wmA"], text={"content": "新月份"})["msgid"]
    assert book.confirm_groupmsg(msgid, "u1") == {"wmA": 1}


def test_default_cap_is_days_in_month(book, client):
    assert book.groupmsg.cap(book.clock.now()) == 31  # March


def test_validation(book, client):
    for data, code in [
        ({"sender": "u1", "text": {"content": "字" * 1334}}, 45002),
        ({"sender": "u1", "text": {}}, 44004),
        ({"sender": "u1", "text": {"content": "x"}, "attachments": [{"msgtype": "link", "link": {}}] * 10}, 40058),
        ({"sender": "ghost", "text": {"content": "x"}}, 60111),
        ({"external_userid": ["wmX"], "text": {"content": "x"}}, 41048),
    ]:
        with pytest.raises(WeChatClientException) as exc:
            add(client, **data)
        assert exc.value.errcode == code, data


def test_remind_three_times_a_day_and_cancel(book, client):
    msgid = add(client, sender="u1", text={"content": "提醒测试"})["msgid"]
    for _ in range(3):
        client.post("externalcontact/remind_groupmsg_send", data={"msgid": msgid})
    with pytest.raises(WeChatClientException) as exc:
        client.post("externalcontact/remind_groupmsg_send", data={"msgid": msgid})
    assert exc.value.errcode == 45009
    book.advance(86400)
    client.post("externalcontact/remind_groupmsg_send", data={"msgid": msgid})
    client.post("externalcontact/cancel_groupmsg_send", data={"msgid": msgid})
    with pytest.raises(ValueError):
        book.confirm_groupmsg(msgid, "u1")


def test_welcome_code_once_within_20s(sim, client):
    sim.add_member("u1", "顾问一")
    code = sim.add_external_contact("u1", "wmW", "新客户", callback=False)
    client.post("externalcontact/send_welcome_msg", data={"welcome_code": code, "text": {"content": "欢迎"}})
    assert sim.welcome_messages("wmW")[0]["text"] == {"content": "欢迎"}
    with pytest.raises(WeChatClientException) as twice:
        client.post("externalcontact/send_welcome_msg", data={"welcome_code": code, "text": {"content": "欢迎"}})
    assert twice.value.errcode == 41051
    late = sim.add_external_contact("u1", "wmL", "慢客户", callback=False)
    sim.advance(21)
    with pytest.raises(WeChatClientException) as expired:
        client.post("externalcontact/send_welcome_msg", data={"welcome_code": late, "text": {"content": "欢迎"}})
    assert expired.value.errcode == 41051
