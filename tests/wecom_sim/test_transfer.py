import pytest
from wechatpy.exceptions import WeChatClientException

DAY = 86400


@pytest.fixture
def team(sim):
    for userid, name in [("old", "老顾问"), ("new", "新顾问"), ("third", "第三人")]:
        sim.add_member(userid, name)
    for i in range(3):
        sim.add_external_contact("old", f"wm{i}", f"客户{i}", callback=False)
    return sim


def transfer(client, handover, takeover, ids, **extra):
    data = {"handover_userid": handover, "takeover_userid": takeover, "external_userid": ids, **extra}
    return client.post("externalcontact/transfer_customer", data=data)


def result(client, handover, takeover, resigned=False):
    path = "externalcontact/resigned/transfer_result" if resigned else "externalcontact/transfer_result"
    res = client.post(path, data={"handover_userid": handover, "takeover_userid": takeover, "cursor": ""})
    return {c["external_userid"]: c["status"] for c in res["customer"]}


def test_in_service_transfer_waits_24h_then_moves_ownership(team, client, receiver):
    res = transfer(client, "old", "new", ["wm0", "wm_unknown"], transfer_success_msg="您好，由我继续为您服务")
    assert res["customer"] == [{"external_userid": "wm0", "errcode": 0},
                               {"external_userid": "wm_unknown", "errcode": 40096}]
    assert result(client, "old", "new") == {"wm0": 2}
    team.advance(23 * 3600)
    assert result(client, "old", "new") == {"wm0": 2} and team.follow_users("wm0") == ["old"]
    assert receiver.events() == []  # starting a transfer through the API calls nothing back
    team.advance(3600)
    assert result(client, "old", "new") == {"wm0": 1}
    assert team.follow_users("wm0") == ["new"]
    event = receiver.events("change_external_contact")[-1]
    assert (event["ChangeType"], event["UserID"], event["Source"]) == ("del_external_contact", "old",
                                                                      "DELETE_BY_TRANSFER")
    with pytest.raises(WeChatClientException) as too_long:
        transfer(client, "old", "new", ["wm1"], transfer_success_msg="长" * 201)
    assert too_long.value.errcode == 40058


def test_transfer_at_most_twice_in_90_days(team, client):
    assert transfer(client, "old", "new", ["wm1"])["customer"][0]["errcode"] == 0
    assert transfer(client, "old", "third", ["wm1"])["customer"][0]["errcode"] == 40100  # still waiting
    team.advance(DAY)
    assert transfer(client, "new", "third", ["wm1"])["customer"][0]["errcode"] == 0
    team.advance(DAY)
    assert transfer(client, "third", "old", ["wm1"])["customer"][0]["errcode"] == 40128
    team.advance(89 * DAY)
    assert transfer(client, "third", "old", ["wm1"])["customer"][0]["errcode"] == 0


def test_refused_and_over_limit_post_transfer_fail(team, client, receiver):
    team.refuse_transfer("wm0")
    team.set_customer_limit("third", 0)
    transfer(client, "old", "new", ["wm0"])
    transfer(client, "old", "third", ["wm1"])
    team.advance(DAY)
    assert result(client, "old", "new") == {"wm0": 3}
    assert result(client, "old", "third") == {"wm1": 4}
    fails = {(e["UserID"], e["ExternalUserID"]): e["FailReason"]
             for e in receiver.events("change_external_contact") if e["ChangeType"] == "transfer_fail"}
    assert fails == {("new", "wm0"): "customer_refused", ("third", "wm1"): "customer_limit_exceed"}
    assert team.follow_users("wm0") == ["old"] and team.follow_users("wm1") == ["old"]


def test_resigned_transfer_and_unassigned_list(team, client):
    with pytest.raises(WeChatClientException) as still_here:
        client.post("externalcontact/resigned/transfer_customer",
                    data={"handover_userid": "old", "takeover_userid": "new", "external_userid": ["wm0"]})
    assert still_here.value.errcode == 40097
    team.resign_member("old")
    page = client.post("externalcontact/get_unassigned_list", data={"page_size": 2})
    assert len(page["info"]) == 2 and not page["is_last"] and page["info"][0]["handover_userid"] == "old"
    rest = client.post("externalcontact/get_unassigned_list", data={"page_size": 2, "cursor": page["next_cursor"]})
    assert len(rest["info"]) == 1 and rest["is_last"]
    res = client.post("externalcontact/resigned/transfer_customer",
                      data={"handover_userid": "old", "takeover_userid": "new", "external_userid": ["wm0", "wm1"]})
    assert [c["errcode"] for c in res["customer"]] == [0, 0]
    assert [i["external_userid"] for i in
            client.post("externalcontact/get_unassigned_list", data={})["info"]] == ["wm2"]
    team.advance(DAY)
    assert result(client, "old", "new", resigned=True) == {"wm0": 1, "wm1": 1}
    assert client.external_contact.list("new")["external_userid"] == ["wm0", "wm1"]


def test_external_clock_moves_are_settled_on_the_next_api_call(team, client, receiver, clock):
    import time

    team.refuse_transfer("wm2")
    transfer(client, "old", "new", ["wm2"])
    clock.advance(DAY)  # the clock moved by someone else: no sim.advance
    assert result(client, "old", "new") == {"wm2": 3}
    deadline = time.monotonic() + 2
    while not receiver.events() and time.monotonic() < deadline:
        time.sleep(0.01)  # posted from a background thread so the API answer is not held up
    assert receiver.events()[-1]["FailReason"] == "customer_refused"
