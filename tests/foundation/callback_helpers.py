"""Build genuine encrypted WeCom callbacks for tests (the same crypto WeCom uses)."""

from __future__ import annotations

import secrets
import time

from wechatpy.work.crypto import WeChatCrypto
from xml.etree.ElementTree import fromstring


def text_message_xml(corp_id: str, msg_id: str, content: str = "你好", from_user: str = "zhangsan") -> str:
    return (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><FromUserName><![CDATA[{from_user}]]>"
            f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId><AgentID>1000002</AgentID></xml>")


def contact_event_xml(corp_id: str, change_type: str, userid: str, external_userid: str, create_time: int,
                      extra: str = "") -> str:
    return (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[{change_type}]]></ChangeType>"
            f"<UserID><![CDATA[{userid}]]></UserID><ExternalUserID><![CDATA[{external_userid}]]></ExternalUserID>"
            f"{extra}</xml>")


def encrypt_callback(token: str, aes_key: str, corp_id: str, plaintext: str, agent_id: str = "1000002"):
    """Return (query params, body) exactly as WeCom would POST them."""
    crypto = WeChatCrypto(token, aes_key, corp_id)
    nonce = secrets.token_hex(8)
    timestamp = str(int(time.time()))
    envelope = fromstring(crypto.encrypt_message(plaintext, nonce, timestamp))
    encrypt = envelope.findtext("Encrypt")
    params = {"msg_signature": envelope.findtext("MsgSignature"), "timestamp": timestamp, "nonce": nonce}
    body = (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><AgentID><![CDATA[{agent_id}]]></AgentID>"
            f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>")
    return params, body.encode()
