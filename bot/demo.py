"""`advisor-bot demo`: the embedded default, the WeCom simulator and a short scripted scenario.

Everything runs locally: the bot (Flask's server in a thread, with the inbox worker thread), the
simulator acting as WeCom, and the scenario acting as clients and an advisor. A new user sees events
flow without a WeCom corp.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Callable

from werkzeug.serving import make_server

from bot import migrate
from bot.config import load_settings
from bot.runtime import build_runtime

DEMO_CORP = "wwdemo0000000001"
ADVISOR, OPS = "zhangsan", "central_ops"
CLIENT = "wmDEMOclient0001"
KF_ACCOUNT = "wkDEMOkf00000001"


def _aes_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()[:43]


def _demo_apps() -> dict:
    return {
        "advisor": {"kind": "app", "agent_id": 1000002, "secret": "demo-advisor-secret", "token": "DemoAdvisor",
                    "encoding_aes_key": _aes_key()},
        "contacts": {"kind": "contacts", "secret": "demo-contacts-secret", "token": "DemoContacts",
                     "encoding_aes_key": _aes_key()},
        "kf": {"kind": "kf", "secret": "demo-kf-secret", "token": "DemoKf", "encoding_aes_key": _aes_key()},
        "archive": {"kind": "archive", "secret": "demo-archive-secret", "token": "DemoArchive",
                    "encoding_aes_key": _aes_key()},
    }


class Demo:
    def __init__(self, config_path: str | None, port: int, echo: Callable[[str], None]):
        from bot.wecom.simulator import Simulator

        self.sim = Simulator(DEMO_CORP, _demo_apps())
        sim_url = self.sim.start()
        self.settings = load_settings(config_path, overrides={
            "wecom": {"corp_id": DEMO_CORP, "api_base_url": sim_url, "apps": _demo_apps_from(self.sim)},
            "server": {"development": True},
            "worker": {"poll_interval_seconds": 0.05},
            "conversations": {"pool_advisors": [ADVISOR], "servicer_pool": [ADVISOR]},
            "contacts": {"central_ops_userid": OPS},
            "campaigns": {"scheduler_embedded": False},
        })
        migrate.upgrade(self.settings.database.url)
        self.runtime = build_runtime(self.settings)
        self.echo = echo
        self.port = port

    def start_bot(self) -> str:
        from bot.app import create_app
        from bot.server import _start_background

        app = create_app(runtime=self.runtime)
        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        threading.Thread(target=self.server.serve_forever, name="demo-http", daemon=True).start()
        _start_background(self.runtime)
        url = f"http://127.0.0.1:{self.server.server_port}"
        self.sim.connect_product(url + "/wecom/{app}/callback")
        return url

    def wait_idle(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            counts = self.runtime.inbox.counts()
            if not counts.get("pending") and not counts.get("processing"):
                return
            time.sleep(0.1)

    def step(self, title: str) -> None:
        self.echo("")
        self.echo(f"▶ {title}")

    def run(self) -> None:
        self._load_content()
        url = self.start_bot()
        self.echo(f"机器人已启动 (bot): {url}    WeCom 模拟器 (simulator): {self.sim.base_url}")
        self.step("企业微信校验回调 URL (WeCom verifies the callback URL)")
        status, body, expected = self.sim.callbacks.verify_url("advisor")
        self.echo(f"  GET /wecom/advisor/callback → {status}, 回显 {'一致' if body == expected else '不一致'}")

        self.step("客户添加顾问为好友 (a client adds advisor 张三 on WeCom)")
        self.sim.add_member(ADVISOR, "张三")
        self.sim.add_member(OPS, "集中运营")
        self.sim.add_external_contact(ADVISOR, CLIENT, "王阿姨", state="demo-qr")
        self.wait_idle()
        self._report_contact()

        self.step("顾问在应用里发消息，企业微信重试投递 3 次 (the same message delivered 3 times)")
        delivery = self.sim.callbacks.text_message(ADVISOR, "今天收盘点评什么时候发？", app="advisor", repeat=3)
        self.wait_idle()
        self.echo(f"  HTTP 应答: {delivery.statuses}; 收件箱 (inbox): {self.runtime.inbox.counts()}")

        self._kf_scenario()
        self.step("完成 (done)")
        self.echo(f"  收件箱状态 (inbox): {self.runtime.inbox.counts()}")

    def _load_content(self) -> None:
        from content.importer import import_path

        library = self.runtime.services.content.library
        report = import_path(library, self.runtime.services.content.settings.starter_pack_dir, actor="demo",
                             progress=False)
        self.echo(f"内容库 (content library): 入库 {report.created} 条，未变 {report.unchanged} 条")

    def _report_contact(self) -> None:
        services = self.runtime.services
        if services.available("contacts"):
            contact = services.contacts.get(CLIENT)
            self.echo(f"  客户已登记 (contact stored): {contact is not None}, 归属顾问 (owner): "
                      f"{services.contacts.owner_of(CLIENT)}")
        else:
            self.echo(f"  收件箱 (inbox): {self.runtime.inbox.counts()}")

    def _kf_scenario(self) -> None:
        self.sim.kf_add_account(KF_ACCOUNT, "XX证券客服", servicers=[ADVISOR])
        conversations = self.runtime.services.conversations
        for question in ("买股票的手续费怎么收？", "明天买哪只股票能涨停？"):
            self.step(f"客户在微信客服提问 (client asks on 微信客服): 「{question}」")
            before = len(self.sim.kf_sent(CLIENT))
            self.sim.kf_user_says(KF_ACCOUNT, CLIENT, question)
            self.wait_idle()
            for message in self.sim.kf_sent(CLIENT)[before:]:
                self.echo(f"  机器人发给客户 (bot → client): 「{_text_of(message)[:70]}」")
        cards = [m for m in self.sim.app_messages(ADVISOR) if m.get("msgtype") == "template_card"]
        if not cards:
            return
        self.step("顾问在企业微信里收到审批卡片，修改后发送 (the advisor edits the suggestion and sends it)")
        pending = conversations.list_for(ADVISOR, "pending", 10)
        for item in pending:
            edited = "您好，个股涨跌无法预测，我们不提供具体买卖建议。稍后您的专属顾问会联系您，介绍适合您风险等级的投资知识。"
            result = conversations.edit(item["id"], edited, ADVISOR)
            self.echo(f"  建议 #{item['id']} 状态 (state): {result['state']}")
        self.wait_idle()
        for message in self.sim.kf_sent(CLIENT)[-1:]:
            self.echo(f"  客户收到 (client received): 「{_text_of(message)[:70]}」")
        self.step("客户要求转人工 (the client asks for a person)")
        self.sim.kf_user_says(KF_ACCOUNT, CLIENT, "转人工")
        self.wait_idle()
        self.echo(f"  会话状态 (kf session state): {self.sim.kf_state(KF_ACCOUNT, CLIENT)} (3 = 人工接待)")


def _text_of(message: dict) -> str:
    return (message.get("text") or {}).get("content", "")


def _demo_apps_from(sim) -> dict:
    return {name: {"kind": a.kind, "agent_id": a.agent_id, "secret": a.secret, "token": a.token,
                   "encoding_aes_key": a.encoding_aes_key} for name, a in sim.core.apps.items()}


def run_demo(config_path: str | None, *, port: int = 0, keep_running: bool = False,
             echo: Callable[[str], None] = print) -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the scenario narrates; no access log
    demo = Demo(config_path, port, echo)
    try:
        demo.run()
        if keep_running:
            echo("")
            echo(f"继续运行中，按 Ctrl+C 退出 (serving on http://127.0.0.1:{demo.server.server_port}; Ctrl+C to stop)")
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        demo.server.shutdown()
        demo.sim.stop()
