"""WeCom JS-SDK signatures for the chat-toolbar sidebar (no Flask here).

A page calls ``wx.config`` with the corp jsapi_ticket signature and ``wx.agentConfig`` with the app's
agent ticket signature; both are ``sha1("jsapi_ticket=T&noncestr=N&timestamp=S&url=U")`` where U is the
page URL without its ``#fragment``. Tickets come from wechatpy's ``client.jsapi`` (cached by wechatpy
in the client's Redis session, so all processes share them).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict, dataclass


def jsapi_signature(ticket: str, noncestr: str, timestamp: int | str, url: str) -> str:
    plain = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url}"
    return hashlib.sha1(plain.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class JsSdkConfig:
    corpid: str
    agentid: int | None
    timestamp: int
    nonceStr: str
    signature: str
    agentSignature: str

    def as_dict(self) -> dict:
        return asdict(self)


class JsSdkSigner:
    def __init__(self, client, clock):
        self._client = client  # a WeComClient (wechatpy WeChatClient) for the sidebar's app
        self._clock = clock

    def config_for(self, url: str) -> JsSdkConfig:
        url = url.split("#", 1)[0]
        corp_ticket = self._client.jsapi.get_jsapi_ticket()
        agent_ticket = self._client.jsapi.get_agent_jsapi_ticket()
        nonce = secrets.token_hex(8)
        timestamp = int(self._clock.now().timestamp())
        return JsSdkConfig(
            corpid=self._client.corp_id,
            agentid=getattr(self._client, "agent_id", None),
            timestamp=timestamp,
            nonceStr=nonce,
            signature=jsapi_signature(corp_ticket, nonce, timestamp, url),
            agentSignature=jsapi_signature(agent_ticket, nonce, timestamp, url),
        )
