"""The simulator as WeCom's callback sender: plaintext XML built like WeCom's, encrypted with the real
WeCom scheme (AES via wechatpy's PrpCrypto, SHA-1 signature) and POSTed to the product's callback URL."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable
from urllib.parse import quote

import requests
from wechatpy.work.crypto import PrpCrypto

from .core import App, make_app
from .events import EventHelpers

WECOM_TIMEOUT = 5.0  # WeCom drops the connection after 5 s ...
WECOM_ATTEMPTS = 3   # ... and tries 3 times in total, only on timeout or network failure


def render_xml(fields: Iterable[tuple[str, Any]]) -> str:
    """WeCom's plaintext: strings in CDATA, integers bare, nested dicts as child elements."""
    return "<xml>" + "".join(_element(k, v) for k, v in fields) + "</xml>"


def _element(name: str, value: Any) -> str:
    if isinstance(value, dict):
        inner = "".join(_element(k, v) for k, v in value.items())
    elif isinstance(value, list):
        return "".join(_element(name, v) for v in value)
    elif isinstance(value, bool):
        inner = str(int(value))
    elif isinstance(value, int):
        inner = str(value)
    else:
        inner = "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"
    return f"<{name}>{inner}</{name}>"


@dataclass
class Delivery:
    """What happened to one event: the HTTP status of every attempt (None = timeout/network error)."""

    app: str
    plaintext: str
    statuses: list[int | None]
    bodies: list[str]

    @property
    def ok(self) -> bool:
        return any(s == 200 for s in self.statuses)


class CallbackSender(EventHelpers):
    """Sends encrypted callbacks to `url_for_app(app_name)` (or a "...{app}..." template string)."""

    def __init__(self, callback_url: str | Callable[[str], str], corp_id: str, apps: dict[str, Any],
                 clock: Any = None, timeout: float = WECOM_TIMEOUT):
        self.url_for_app = callback_url if callable(callback_url) else (lambda app: callback_url.format(app=app))
        self.corp_id = corp_id
        self.apps: dict[str, App] = {n: (a if isinstance(a, App) else make_app(n, a)) for n, a in apps.items()}
        self.clock = clock
        self.timeout = timeout
        self.deliveries: list[Delivery] = []
        self._http = requests.Session()

    def _encrypt(self, app: str, plaintext: str, timestamp: str, nonce: str) -> tuple[str, str]:
        """WeCom's scheme: AES-256-CBC of random16 + len + msg + CorpID (wechatpy's PrpCrypto), and
        msg_signature = sha1 of the sorted token, timestamp, nonce and ciphertext."""
        cfg = self.apps[app]
        key = base64.b64decode(cfg.encoding_aes_key + "=")
        encrypt = PrpCrypto(key).encrypt(plaintext, self.corp_id)
        encrypt = encrypt.decode() if isinstance(encrypt, bytes) else encrypt
        signature = hashlib.sha1("".join(sorted([cfg.token, timestamp, nonce, encrypt])).encode()).hexdigest()
        return encrypt, signature

    def _timestamp(self) -> str:
        return str(int(self.clock.now().timestamp() if self.clock else time.time()))

    def envelope(self, app: str, plaintext: str, timestamp: str | None = None,
                 nonce: str | None = None) -> tuple[str, dict[str, str]]:
        """Encrypt `plaintext` for `app`: the POST body and the query parameters WeCom sends."""
        timestamp = timestamp or self._timestamp()
        nonce = nonce or str(secrets.randbelow(10**10))
        encrypt, signature = self._encrypt(app, plaintext, timestamp, nonce)
        agent_id = self.apps[app].agent_id
        body = render_xml([("ToUserName", self.corp_id), ("AgentID", "" if agent_id is None else str(agent_id)),
                           ("Encrypt", encrypt)])
        return body, {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}

    def send_plaintext(self, app: str, plaintext: str, repeat: int = 1, retry: bool = True) -> Delivery:
        """POST one delivery; `repeat=N` sends the identical bytes N times (as WeCom's retries do).
        With `retry`, a timeout or network failure is retried up to 3 attempts in total, like WeCom."""
        body, params = self.envelope(app, plaintext)
        url = self.url_for_app(app)
        statuses: list[int | None] = []
        bodies: list[str] = []
        attempts = repeat if repeat > 1 else (WECOM_ATTEMPTS if retry else 1)
        for _ in range(attempts):
            try:
                res = self._http.post(url, params=params, data=body.encode(),
                                      headers={"Content-Type": "text/xml"}, timeout=self.timeout)
                statuses.append(res.status_code)
                bodies.append(res.text)
                if repeat <= 1:
                    break  # any HTTP answer ends WeCom's retries, even a 5xx
            except requests.RequestException:
                statuses.append(None)
                bodies.append("")
        delivery = Delivery(app, plaintext, statuses, bodies)
        self.deliveries.append(delivery)
        return delivery

    def send(self, app: str, fields: list[tuple[str, Any]], repeat: int = 1, retry: bool = True) -> Delivery:
        return self.send_plaintext(app, render_xml(fields), repeat=repeat, retry=retry)

    def verify_url(self, app: str, echo: str | None = None) -> tuple[int, str, str]:
        """WeCom's GET URL verification: returns (status, body, expected plaintext echostr)."""
        echo = echo or str(secrets.randbelow(10**19))
        timestamp, nonce = self._timestamp(), str(secrets.randbelow(10**10))
        echostr, signature = self._encrypt(app, echo, timestamp, nonce)
        # WeCom URL-encodes the parameters (echostr is base64 with + and /).
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in
                         [("msg_signature", signature), ("timestamp", timestamp), ("nonce", nonce),
                          ("echostr", echostr)])
        url = self.url_for_app(app)
        res = self._http.get(url + ("&" if "?" in url else "?") + query, timeout=self.timeout)
        return res.status_code, res.text, echo
