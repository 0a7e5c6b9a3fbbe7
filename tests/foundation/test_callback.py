"""Callback intake: verification, signature, decryption, safe XML, dedupe, durability."""

from __future__ import annotations

from sqlalchemy import func, select, text

from bot.app import create_app
from bot.models import InboxEvent
from tests.conftest import SAMPLE_AES_KEY, SAMPLE_CORP_ID, SAMPLE_TOKEN
from tests.foundation.callback_helpers import contact_event_xml, encrypt_callback, text_message_xml

SAMPLE_ECHO = {
    "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
    "timestamp": "1409659589",
    "nonce": "263014780",
    "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
}


def _count(runtime) -> int:
    with runtime.session() as s:
        return s.scalar(select(func.count()).select_from(InboxEvent))


def _post(client, plaintext, app="advisor", token=SAMPLE_TOKEN, key=SAMPLE_AES_KEY):
    params, body = encrypt_callback(token, key, SAMPLE_CORP_ID, plaintext)
    return client.post(f"/wecom/{app}/callback", query_string=params, data=body, content_type="text/xml")


def test_official_sample_verifies(runtime):
    client = create_app(runtime=runtime).test_client()
    res = client.get("/wecom/advisor/callback", query_string=SAMPLE_ECHO)
    assert res.status_code == 200
    assert res.get_data(as_text=True) == "1616140317555161061"
    assert res.mimetype == "text/plain"


def test_url_encoded_sample_verifies(runtime):
    # WeCom URL-encodes the parameters; '+' and '/' in echostr must survive.
    from urllib.parse import urlencode

    client = create_app(runtime=runtime).test_client()
    res = client.get("/wecom/advisor/callback?" + urlencode(SAMPLE_ECHO))
    assert res.get_data(as_text=True) == "1616140317555161061"


def test_bad_signature_on_verification_is_refused(runtime):
    client = create_app(runtime=runtime).test_client()
    res = client.get("/wecom/advisor/callback", query_string={**SAMPLE_ECHO, "msg_signature": "0" * 40})
    assert res.status_code == 403


def test_unknown_app_is_404_and_stores_nothing(runtime):
    client = create_app(runtime=runtime).test_client()
    res = _post(client, text_message_xml(SAMPLE_CORP_ID, "1"), app="nope")
    assert res.status_code == 404
    assert _count(runtime) == 0


def test_text_message_stored_once_despite_retries(runtime):
    client = create_app(runtime=runtime).test_client()
    xml = text_message_xml(SAMPLE_CORP_ID, "1234567890123456")
    for _ in range(3):  # WeCom re-encrypts each retry with a fresh random prefix
        res = _post(client, xml)
        assert res.status_code == 200 and res.get_data(as_text=True) == "success"
    with runtime.session() as s:
        rows = s.scalars(select(InboxEvent)).all()
    assert len(rows) == 1
    assert rows[0].kind == "msg:text" and rows[0].payload == xml and rows[0].status == "pending"


def test_contact_events_deduplicated_without_colliding(runtime):
    client = create_app(runtime=runtime).test_client()
    add = contact_event_xml(SAMPLE_CORP_ID, "add_external_contact", "zhangsan", "wmEXT1", 1700000000,
                            "<State><![CDATA[s]]></State><WelcomeCode><![CDATA[W1]]></WelcomeCode>")
    edit = contact_event_xml(SAMPLE_CORP_ID, "edit_external_contact", "zhangsan", "wmEXT1", 1700000000)
    other = contact_event_xml(SAMPLE_CORP_ID, "edit_external_contact", "lisi", "wmEXT1", 1700000000)
    for xml in (add, add, add, edit, edit, other):
        assert _post(client, xml).status_code == 200
    with runtime.session() as s:
        kinds = s.scalars(select(InboxEvent.kind)).all()
    assert kinds == ["event:change_external_contact"] * 3


def test_bad_signature_post_is_refused_and_stores_nothing(runtime):
    client = create_app(runtime=runtime).test_client()
    params, body = encrypt_callback(SAMPLE_TOKEN, SAMPLE_AES_KEY, SAMPLE_CORP_ID, text_message_xml(SAMPLE_CORP_ID, "9"))
    params["msg_signature"] = "f" * 40
    res = client.post("/wecom/advisor/callback", query_string=params, data=body)
    assert res.status_code == 403
    assert _count(runtime) == 0


def test_message_for_another_corp_is_refused(runtime):
    client = create_app(runtime=runtime).test_client()
    params, body = encrypt_callback(SAMPLE_TOKEN, SAMPLE_AES_KEY, "wwOTHERCORP", text_message_xml("wwOTHERCORP", "9"))
    res = client.post("/wecom/advisor/callback", query_string=params, data=body)
    assert res.status_code == 403
    assert _count(runtime) == 0


def test_oversized_body_is_refused(runtime):
    client = create_app(runtime=runtime).test_client()
    big = "<xml><Encrypt>" + "A" * 70000 + "</Encrypt></xml>"
    res = client.post("/wecom/advisor/callback", query_string={"msg_signature": "x", "timestamp": "1", "nonce": "1"},
                      data=big)
    assert res.status_code == 413
    assert _count(runtime) == 0


def test_malformed_xml_is_refused(runtime):
    client = create_app(runtime=runtime).test_client()
    res = client.post("/wecom/advisor/callback", query_string={"msg_signature": "x", "timestamp": "1", "nonce": "1"},
                      data=b"<xml><Encrypt>abc</Encrypt")
    assert res.status_code == 400
    assert _count(runtime) == 0


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><Encrypt>&lol3;</Encrypt></xml>"""


def test_entity_expansion_in_envelope_is_refused(runtime):
    client = create_app(runtime=runtime).test_client()
    res = client.post("/wecom/advisor/callback", query_string={"msg_signature": "x", "timestamp": "1", "nonce": "1"},
                      data=BILLION_LAUGHS)
    assert res.status_code == 400
    assert _count(runtime) == 0


def test_entity_expansion_inside_encrypted_payload_is_refused(runtime):
    client = create_app(runtime=runtime).test_client()
    inner = BILLION_LAUGHS.replace("<xml><Encrypt>&lol3;</Encrypt></xml>",
                                   "<xml><MsgType>text</MsgType><Content>&lol3;</Content><MsgId>1</MsgId></xml>")
    res = _post(client, inner)
    assert res.status_code == 400
    assert _count(runtime) == 0


def test_failed_inbox_write_answers_500_so_wecom_retries(runtime):
    client = create_app(runtime=runtime).test_client()
    with runtime.engine.begin() as conn:
        conn.execute(text("ALTER TABLE inbox_event RENAME TO inbox_event_gone"))
    res = _post(client, text_message_xml(SAMPLE_CORP_ID, "77"))
    assert res.status_code == 500
    assert res.get_data(as_text=True) != "success"


def test_other_methods_are_refused_and_other_paths_reach_flask(runtime):
    client = create_app(runtime=runtime).test_client()
    res = client.put("/wecom/advisor/callback", data=b"<xml/>")
    assert res.status_code == 405 and "POST" in res.headers["Allow"]
    assert client.get("/healthz").get_json() == {"ok": True}
    assert client.get("/wecom/a/b/callback").status_code == 404  # not an app name: Flask answers
    assert _count(runtime) == 0


def test_oversized_body_without_declared_length_is_refused(runtime):
    # A chunked upload declares no length: the intake reads no more than the limit and refuses the rest.
    client = create_app(runtime=runtime).test_client()
    big = ("<xml><Encrypt>" + "A" * 70000 + "</Encrypt></xml>").encode()
    import io

    res = client.post("/wecom/advisor/callback", query_string={"msg_signature": "x", "timestamp": "1", "nonce": "1"},
                      input_stream=io.BytesIO(big), headers={"Transfer-Encoding": "chunked"})
    assert res.status_code == 413
    assert _count(runtime) == 0
