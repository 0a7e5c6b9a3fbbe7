"""Fixtures: a running simulator on a manual clock, and real wechatpy clients pointed at it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from wechatpy.work import WeChatClient

from bot.clock import ManualClock
from bot.wecom.simulator import Simulator

CORP_ID = "wwsimcorp0001"
APPS = {
    "app": {"kind": "app", "agent_id": 1000002, "secret": "app-secret-0001", "token": "apptoken",
            "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"},
    "contacts": {"kind": "contacts", "secret": "contacts-secret-01", "token": "ctoken",
                 "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"},
    "kf": {"kind": "kf", "secret": "kf-secret-000001", "token": "kftoken",
           "encoding_aes_key": "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"},
}


class SimClient(WeChatClient):
    """wechatpy's work client; fetch_access_token hardcodes qyapi.weixin.qq.com, so point it here."""

    def __init__(self, base_url: str, *args, **kwargs):
        self.API_BASE_URL = base_url
        super().__init__(*args, **kwargs)

    def fetch_access_token(self):
        return self._fetch_access_token(url=self.API_BASE_URL + "gettoken",
                                        params={"corpid": self.corp_id, "corpsecret": self.secret})


@pytest.fixture
def clock():
    return ManualClock(datetime(2026, 3, 10, 2, 0, tzinfo=timezone.utc))


@pytest.fixture
def sim(clock):
    with Simulator(CORP_ID, APPS, clock=clock) as simulator:
        yield simulator


@pytest.fixture
def client(sim):
    return SimClient(sim.base_url, CORP_ID, APPS["app"]["secret"], timeout=5)


@pytest.fixture
def kf_client(sim):
    return SimClient(sim.base_url, CORP_ID, APPS["kf"]["secret"], timeout=5)


class Receiver:
    """A tiny product stand-in: verifies and decrypts callbacks with wechatpy, records plaintexts."""

    def __init__(self, apps: dict, corp_id: str = CORP_ID):
        from wechatpy.work.crypto import WeChatCrypto

        self.crypto = {n: WeChatCrypto(a["token"], a["encoding_aes_key"], corp_id) for n, a in apps.items()}
        self.received: list[tuple[str, dict]] = []
        self.status = 200
        self.raw_bodies: list[bytes] = []

    def __call__(self, environ, start_response):
        import xmltodict
        from werkzeug.wrappers import Request, Response

        req = Request(environ)
        app = req.path.split("/")[2]
        crypto = self.crypto[app]
        args = req.args
        try:
            if req.method == "GET":
                body = crypto.check_signature(args["msg_signature"], args["timestamp"], args["nonce"],
                                              args["echostr"])
            else:
                self.raw_bodies.append(req.get_data())
                plain = crypto.decrypt_message(req.get_data(), args["msg_signature"], args["timestamp"],
                                               args["nonce"])
                self.received.append((app, xmltodict.parse(plain)["xml"]))
                body = "success"
        except Exception as exc:  # noqa: BLE001 - a test receiver answers 400 on any crypto failure
            return Response(f"bad: {exc!r}", status=400)(environ, start_response)
        return Response(body, status=self.status if req.method == "POST" else 200)(environ, start_response)

    def events(self, event: str | None = None) -> list[dict]:
        return [x for _, x in self.received if event is None or x.get("Event") == event]


@pytest.fixture
def receiver(sim):
    import threading

    from werkzeug.serving import make_server

    rec = Receiver(APPS)
    server = make_server("127.0.0.1", 0, rec, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    sim.connect_product(f"http://127.0.0.1:{server.server_port}/wecom/{{app}}/callback")
    yield rec
    server.shutdown()
    server.server_close()


@pytest.fixture
def contacts_client(sim):
    return SimClient(sim.base_url, CORP_ID, APPS["contacts"]["secret"], timeout=5)
