"""The product's own WeCom client (bot.wecom.client) against the simulator, tokens cached in Redis DB 2:
the simulator must accept exactly what the product sends."""

from __future__ import annotations

import pytest

from bot.config import load_settings
from bot.wecom.client import WeComGateway
from tests.conftest import real_redis

from .conftest import APPS, CORP_ID

REDIS_DB = 2

pytestmark = pytest.mark.redis


@pytest.fixture
def gateway(sim):
    settings = load_settings(environ={}, overrides={"wecom": {
        "corp_id": CORP_ID, "api_base_url": sim.base_url, "timeout_seconds": 2,
        "apps": {name: dict(app) for name, app in APPS.items()}}})
    return WeComGateway(settings.wecom, real_redis(REDIS_DB), "t-wecom-sim", sleep=lambda s: None)


def test_product_card_round_trip(sim, gateway, receiver):
    sim.add_member("officer", "合规官")
    client = gateway.client("app")
    sent = client.template_card.send_button_card(1000002, "officer", "review-7", "早评待审", "请审批",
                                                 [{"text": "通过", "key": "approve"}, {"text": "驳回", "key": "reject"}])
    assert sent["errcode"] == 0 and sent["response_code"]
    code = sim.click_card("officer", "review-7", "approve")
    assert receiver.events("template_card_event")[-1]["ResponseCode"] == code
    client.template_card.update_template_card(1000002, ["officer"], code, "已通过")
    assert sim.app_messages("officer")[0]["replaced_by"] == "已通过"


def test_product_transfer_and_groupmsg_classes(sim, gateway, clock):
    for userid in ("old", "new"):
        sim.add_member(userid, userid)
    sim.add_external_contact("old", "wmP", "客户P", callback=False)
    client = gateway.client("contacts")
    assert client.customer_transfer.transfer_customer("old", "new", ["wmP"], "您好")["customer"][0]["errcode"] == 0
    sim.advance(86400)
    assert client.customer_transfer.transfer_result("old", "new")["customer"][0]["status"] == 1
    msgid = client.group_message.add_msg_template({"chat_type": "single", "sender": "new",
                                                   "external_userid": ["wmP"], "text": {"content": "早评"}})["msgid"]
    sim.confirm_groupmsg(msgid, "new")
    result = client.group_message.get_groupmsg_send_result(msgid, "new")
    assert result["send_list"][0]["status"] == 1
    # a day later the token had expired: the product saw 42001, refetched once and went on
    assert len(sim.calls("gettoken")) == 2 and 42001 in [r.errcode for r in sim.requests]
    assert all(r.params["corpsecret"] == "***" for r in sim.calls("gettoken"))  # the log keeps no secret
