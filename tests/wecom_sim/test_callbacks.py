import threading

import pytest
from werkzeug.serving import make_server
from wechatpy.work import parse_message
from wechatpy.work.crypto import WeChatCrypto

from bot.wecom.simulator import CallbackSender, render_xml

from .conftest import APPS, CORP_ID, Receiver

SAMPLE = {"token": "QDG6eK", "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"}
SAMPLE_CORP = "wx5823bf96d3bd56c7"


def test_official_sample_verification_decrypts():
    crypto = WeChatCrypto(SAMPLE["token"], SAMPLE["encoding_aes_key"], SAMPLE_CORP)
    echostr = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
    plain = crypto.check_signature("5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780", echostr)
    assert plain == "1616140317555161061"


def test_sender_verify_url_with_sample_app():
    rec = Receiver({"sample": SAMPLE}, corp_id=SAMPLE_CORP)
    server = make_server("127.0.0.1", 0, rec)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        sender = CallbackSender(f"http://127.0.0.1:{server.server_port}/wecom/{{app}}/callback", SAMPLE_CORP,
                                {"sample": SAMPLE})
        status, body, expected = sender.verify_url("sample", echo="1616140317555161061")
        assert (status, body) == (200, expected)
    finally:
        server.shutdown()
        server.server_close()


def test_render_xml_uses_cdata_for_strings_and_bare_ints():
    xml = render_xml([("ToUserName", "ww1"), ("CreateTime", 1409659589), ("Content", "a]]>b")])
    assert xml == ("<xml><ToUserName><![CDATA[ww1]]></ToUserName><CreateTime>1409659589</CreateTime>"
                   "<Content><![CDATA[a]]]]><![CDATA[>b]]></Content></xml>")


def test_envelope_has_corp_agent_and_encrypt(sim, receiver):
    sim.callbacks.text_message("zhangsan", "你好", msg_id=123)
    body = receiver.raw_bodies[-1].decode()
    assert body.startswith(f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
                           "<AgentID><![CDATA[1000002]]></AgentID><Encrypt><![CDATA[")
    app, msg = receiver.received[-1]
    assert app == "app" and msg["MsgType"] == "text" and msg["Content"] == "你好" and msg["MsgId"] == "123"
    assert msg["ToUserName"] == CORP_ID and msg["FromUserName"] == "zhangsan" and msg["AgentID"] == "1000002"


def test_every_contact_change_type_reaches_the_contacts_app(sim, receiver):
    cb = sim.callbacks
    cb.add_external_contact("u1", "wm1", state="ch_a", welcome_code="WC1")
    cb.add_half_external_contact("u1", "wm1", state="s", welcome_code="WC2")
    cb.edit_external_contact("u1", "wm1")
    cb.del_external_contact("u1", "wm1", source="DELETE_BY_TRANSFER")
    cb.del_follow_user("u1", "wm1")
    cb.transfer_fail("u2", "wm1", "customer_refused")
    cb.transfer_fail("u2", "wm1", "customer_limit_exceed")
    with pytest.raises(ValueError):
        cb.transfer_fail("u2", "wm1", "other")
    events = receiver.events("change_external_contact")
    assert [e["ChangeType"] for e in events] == [
        "add_external_contact", "add_half_external_contact", "edit_external_contact", "del_external_contact",
        "del_follow_user", "transfer_fail", "transfer_fail"]
    assert {a for a, _ in receiver.received} == {"contacts"}
    assert events[0]["State"] == "ch_a" and events[0]["WelcomeCode"] == "WC1" and events[0]["FromUserName"] == "sys"
    assert events[3]["Source"] == "DELETE_BY_TRANSFER"
    assert [e["FailReason"] for e in events[5:]] == ["customer_refused", "customer_limit_exceed"]
    # wechatpy 2.0 parses them as ChangeExternalContactEvent
    plain = render_xml([("ToUserName", CORP_ID), ("FromUserName", "sys"), ("CreateTime", 1), ("MsgType", "event"),
                        ("Event", "change_external_contact"), ("ChangeType", "add_external_contact"),
                        ("UserID", "u1"), ("ExternalUserID", "wm1")])
    assert type(parse_message(plain)).__name__ == "ChangeExternalContactEvent"


def test_other_event_kinds(sim, receiver):
    cb = sim.callbacks
    cb.external_chat("wr1", "update", update_detail="add_member", join_scene=1, mem_change_list=["wm1", "wm2"])
    cb.external_tag("et1", "create", "tag_group")
    cb.kf_msg_or_event("wk1", "ENCtoken")
    cb.template_card_event("u1", "task1", "approve", "RC1")
    cb.msgaudit_notify()
    by_event = {x["Event"]: (a, x) for a, x in receiver.received}
    assert by_event["change_external_chat"][1]["MemChangeList"]["Item"] == ["wm1", "wm2"]
    assert by_event["change_external_tag"][1]["TagType"] == "tag_group"
    assert by_event["kf_msg_or_event"] == ("kf", {**by_event["kf_msg_or_event"][1], "Token": "ENCtoken"})
    card = by_event["template_card_event"][1]
    assert (card["EventKey"], card["TaskId"], card["ResponseCode"], card["CardType"]) == (
        "approve", "task1", "RC1", "button_interaction")
    assert by_event["msgaudit_notify"][0] == "app"


def test_repeat_sends_identical_deliveries(sim, receiver):
    delivery = sim.callbacks.add_external_contact("u1", "wm1", repeat=3)
    assert delivery.statuses == [200, 200, 200]
    assert len(set(receiver.raw_bodies)) == 1


def test_no_retry_on_http_error_but_retry_on_network_failure(sim, receiver):
    receiver.status = 500
    assert sim.callbacks.edit_external_contact("u1", "wm1").statuses == [500]
    dead = CallbackSender("http://127.0.0.1:9/wecom/{app}/callback", CORP_ID, APPS, timeout=0.2)
    assert dead.edit_external_contact("u1", "wm1").statuses == [None, None, None]


def test_ciphertext_layout_matches_the_reference_independently_of_wechatpy():
    import base64
    import hashlib
    import struct

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    sender = CallbackSender("http://unused/{app}", SAMPLE_CORP, {"sample": SAMPLE})
    body, params = sender.envelope("sample", "<xml><Content><![CDATA[你好]]></Content></xml>", "1409659589", "263014780")
    encrypt = body.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    expected_sig = hashlib.sha1("".join(sorted([SAMPLE["token"], "1409659589", "263014780", encrypt])).encode())
    assert params["msg_signature"] == expected_sig.hexdigest()
    key = base64.b64decode(SAMPLE["encoding_aes_key"] + "=")
    raw = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor().update(base64.b64decode(encrypt))
    assert len(raw) % 32 == 0 and 1 <= raw[-1] <= 32  # PKCS#7 padded to 32
    raw = raw[:-raw[-1]]
    (length,) = struct.unpack(">I", raw[16:20])
    assert raw[20:20 + length].decode() == "<xml><Content><![CDATA[你好]]></Content></xml>"
    assert raw[20 + length:].decode() == SAMPLE_CORP
