import pytest
from wechatpy.exceptions import WeChatClientException


@pytest.fixture
def seeded(sim):
    sim.add_member("u1", "顾问一")
    sim.add_member("u2", "顾问二")
    sim.add_external_contact("u1", "wm_a", "客户A", state="ch1", callback=False)
    sim.add_external_contact("u1", "wm_b", "客户B", callback=False)
    sim.add_external_contact("u2", "wm_a", "客户A", callback=False)
    return sim


def test_get_list_and_follow_users(seeded, client):
    got = client.external_contact.get("wm_a")
    assert got["external_contact"]["name"] == "客户A"
    assert sorted(f["userid"] for f in got["follow_user"]) == ["u1", "u2"]
    assert got["follow_user"][0]["state"] == "ch1" and got["follow_user"][0]["tags"] == []
    assert client.external_contact.list("u1")["external_userid"] == ["wm_a", "wm_b"]
    assert client.external_contact.get_follow_user_list()["follow_user"] == ["u1", "u2"]
    with pytest.raises(WeChatClientException) as bad:
        client.external_contact.get("wm_nobody")
    assert bad.value.errcode == 40096
    seeded.add_member("u3", "新人")
    with pytest.raises(WeChatClientException) as none:
        client.external_contact.list("u3")
    assert none.value.errcode == 84061


def test_batch_get_by_user_pages(seeded, client):
    first = client.post("externalcontact/batch/get_by_user", data={"userid_list": ["u1", "u2"], "limit": 2})
    assert len(first["external_contact_list"]) == 2 and first["next_cursor"]
    second = client.post("externalcontact/batch/get_by_user",
                         data={"userid_list": ["u1", "u2"], "limit": 2, "cursor": first["next_cursor"]})
    assert len(second["external_contact_list"]) == 1 and second["next_cursor"] == ""
    assert second["external_contact_list"][0]["follow_info"]["userid"] == "u2"


def test_add_contact_posts_callback_with_welcome_code(sim, receiver):
    sim.add_member("u1", "顾问一")
    code = sim.add_external_contact("u1", "wm_c", "客户C", state="qr_7")
    event = receiver.events("change_external_contact")[-1]
    assert (event["ChangeType"], event["UserID"], event["ExternalUserID"], event["State"], event["WelcomeCode"]) == (
        "add_external_contact", "u1", "wm_c", "qr_7", code)
    sim.customer_deletes_member("u1", "wm_c")
    assert receiver.events()[-1]["ChangeType"] == "del_follow_user"
    assert sim.follow_users("wm_c") == []


def test_corp_tags_and_mark_tag(seeded, client):
    res = client.external_contact.add_corp_tag(None, "客户等级", None, [{"name": "高净值", "order": 1},
                                                                      {"name": "普通"}])
    group = res["tag_group"]
    tag_ids = {t["name"]: t["id"] for t in group["tag"]}
    # adding to the same group name reuses the group; a duplicate name is 40071
    more = client.post("externalcontact/add_corp_tag", data={"group_name": "客户等级", "tag": [{"name": "潜在"}]})
    assert more["tag_group"]["group_id"] == group["group_id"]
    with pytest.raises(WeChatClientException) as dup:
        client.post("externalcontact/add_corp_tag", data={"group_id": group["group_id"], "tag": [{"name": "普通"}]})
    assert dup.value.errcode == 40071
    with pytest.raises(WeChatClientException) as long_name:
        client.post("externalcontact/add_corp_tag", data={"group_name": "g", "tag": [{"name": "长" * 31}]})
    assert long_name.value.errcode == 40071
    client.external_contact.mark_tag("u1", "wm_a", add_tag=[tag_ids["高净值"]])
    assert seeded.contact_tags("u1", "wm_a") == {tag_ids["高净值"]}
    assert seeded.contact_tag_names("u1", "wm_a") == {("客户等级", "高净值")}
    assert seeded.tag_id("客户等级", "普通") == tag_ids["普通"]
    tags = client.external_contact.get("wm_a")["follow_user"][0]["tags"]
    assert tags == [{"group_name": "客户等级", "tag_name": "高净值", "tag_id": tag_ids["高净值"], "type": 1}]
    with pytest.raises(WeChatClientException) as unknown:
        client.external_contact.mark_tag("u1", "wm_a", add_tag=["etNOPE"])
    assert unknown.value.errcode == 40068
    with pytest.raises(WeChatClientException) as no_rel:
        client.external_contact.mark_tag("u2", "wm_b", add_tag=[tag_ids["普通"]])
    assert no_rel.value.errcode == 84061
    listed = client.post("externalcontact/get_corp_tag_list", data={"tag_id": [tag_ids["普通"]]})["tag_group"]
    assert [t["name"] for t in listed[0]["tag"]] == ["普通"]
    client.post("externalcontact/edit_corp_tag", data={"id": tag_ids["普通"], "name": "标准"})
    client.post("externalcontact/del_corp_tag", data={"tag_id": [tag_ids["高净值"]]})
    assert seeded.contact_tags("u1", "wm_a") == set()
    client.post("externalcontact/del_corp_tag", data={"group_id": [group["group_id"]]})
    assert client.post("externalcontact/get_corp_tag_list", data={})["tag_group"] == []


def test_group_chats(seeded, client):
    seeded.add_group_chat("wr1", "u1", "理财交流群", ["wm_a", "wm_b"])
    listed = client.post("externalcontact/groupchat/list", data={"limit": 10})
    assert listed["group_chat_list"] == [{"chat_id": "wr1", "status": 0}]
    chat = client.post("externalcontact/groupchat/get", data={"chat_id": "wr1", "need_name": 1})["group_chat"]
    assert chat["owner"] == "u1" and len(chat["member_list"]) == 3
    assert {m["name"] for m in chat["member_list"] if m["type"] == 2} == {"客户A", "客户B"}


def test_an_app_edits_only_its_own_tags(seeded, client, contacts_client):
    console = seeded.add_corp_tags("风险偏好", ["保守", "激进"])
    with pytest.raises(WeChatClientException) as forbidden:
        client.post("externalcontact/edit_corp_tag", data={"id": console["保守"], "name": "稳健"})
    assert forbidden.value.errcode == 48002
    contacts_client.post("externalcontact/edit_corp_tag", data={"id": console["保守"], "name": "稳健"})
    assert seeded.tag_id("风险偏好", "稳健") == console["保守"]
    client.external_contact.mark_tag("u1", "wm_a", add_tag=[console["激进"]])  # marking is allowed


def test_remark_endpoint_and_member_edit_callback(seeded, client, receiver):
    client.post("externalcontact/remark", data={"userid": "u1", "external_userid": "wm_a", "remark": "王总"})
    assert client.external_contact.get("wm_a")["follow_user"][0]["remark"] == "王总"
    assert receiver.events() == []  # API changes are not called back
    seeded.edit_external_contact("u1", "wm_a", remark="王总-VIP")
    assert receiver.events()[-1]["ChangeType"] == "edit_external_contact"
    with pytest.raises(WeChatClientException) as too_long:
        client.post("externalcontact/remark", data={"userid": "u1", "external_userid": "wm_a", "remark": "长" * 21})
    assert too_long.value.errcode == 40058


def test_console_and_group_actions_call_back(seeded, receiver):
    ids = seeded.add_corp_tags("来源", ["直播", "线下"], callback=True)
    seeded.add_group_chat("wr9", "u1", "新群", callback=True)
    seeded.group_chat_join("wr9", "wm_a")
    seeded.group_chat_leave("wr9", "wm_a")
    seeded.dismiss_group_chat("wr9")
    tags = receiver.events("change_external_tag")
    assert {t["Id"] for t in tags} == set(ids.values()) and tags[0]["ChangeType"] == "create"
    chats = receiver.events("change_external_chat")
    assert [(c["ChangeType"], c.get("UpdateDetail")) for c in chats] == [
        ("create", None), ("update", "add_member"), ("update", "del_member"), ("dismiss", None)]
    assert chats[1]["MemChangeList"]["Item"] == "wm_a" and chats[1]["JoinScene"] == "1"
