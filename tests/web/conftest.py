"""Fixtures for the consoles: a migrated SQLite database (copied from one migrated template per
session), real Redis DB 8, a manual clock, a fake WeCom HTTP endpoint for OAuth and JS-SDK tickets,
the Flask app, and signed-in test clients for each role."""

from __future__ import annotations

import shutil
import threading

import pytest
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from bot import migrate
from bot.app import create_app
from bot.clock import ManualClock
from bot.config import load_settings
from bot.runtime import build_runtime
from bot.web.accounts import AccountService
from tests.conftest import real_redis, utc

REDIS_DB = 8
FAST_HASH = "pbkdf2:sha256:1000"  # production uses scrypt; its cost is pointless in tests
PASSWORD = "correct-horse-battery"
CORP_ID = "wwwebtestcorp01"
# username -> (role, wecom userid)
USERS = {
    "adv1": ("advisor", "advisor-li"),
    "adv2": ("advisor", "advisor-wang"),
    "ops": ("central_ops", None),
    "comp": ("compliance", None),
    "comp2": ("compliance", None),
    "admin": ("admin", None),
}


class FakeWeCom:
    """Just the WeCom endpoints the consoles call: token, OAuth code -> userid, JS-SDK tickets."""

    def __init__(self):
        self.codes: dict[str, dict] = {}
        self.calls: list[str] = []
        app = Flask("fake-wecom")

        @app.get("/cgi-bin/gettoken")
        def gettoken():
            return jsonify(errcode=0, access_token="tok-1", expires_in=7200)

        @app.get("/cgi-bin/user/getuserinfo")
        def getuserinfo():
            self.calls.append("getuserinfo")
            found = self.codes.get(request.args.get("code", ""))
            return jsonify(found or {"errcode": 40029, "errmsg": "invalid code"})

        @app.get("/cgi-bin/get_jsapi_ticket")
        def corp_ticket():
            self.calls.append("get_jsapi_ticket")
            return jsonify(errcode=0, ticket="corp-ticket-1", expires_in=7200)

        @app.get("/cgi-bin/ticket/get")
        def agent_ticket():
            self.calls.append("ticket/get:" + request.args.get("type", ""))
            return jsonify(errcode=0, ticket="agent-ticket-1", expires_in=7200)

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}/cgi-bin/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """Migrated once, with the test accounts (scrypt hashing is deliberately slow)."""
    from bot.db import make_engine, make_session_factory

    path = tmp_path_factory.mktemp("webdb") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    service = AccountService(make_session_factory(engine), ManualClock(utc(2026, 11, 1)), min_password_length=10,
                             hash_method=FAST_HASH)
    for name, (role, userid) in USERS.items():
        service.add(name, PASSWORD, role, wecom_userid=userid)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def fake_wecom():
    fake = FakeWeCom()
    yield fake
    fake.close()


@pytest.fixture
def clock():
    return ManualClock(utc(2026, 11, 20, 2, 0, 0))


def web_settings(db_url: str, wecom_base: str, **extra):
    overrides = {
        "app": {"secret_key": "web-test-secret"},
        "database": {"url": db_url},
        "redis": {"url": f"redis://127.0.0.1:6379/{REDIS_DB}", "prefix": "t-web"},
        "server": {"development": True},
        "worker": {"embedded": False},
        "wecom": {"corp_id": CORP_ID, "api_base_url": wecom_base, "max_retries": 0,
                  "apps": {"advisor": {"kind": "app", "agent_id": 1000002, "secret": "advisor-secret"}}},
        "web": {"min_password_length": 10, "password_hash_method": FAST_HASH},
        "content": {"mode": "lexical"},  # the hit-test shows real matcher output without loading an encoder
    }
    for key, value in extra.items():
        overrides.setdefault(key, {}).update(value)
    return load_settings(overrides=overrides, environ={})


@pytest.fixture
def runtime(tmp_path, seeded_template, fake_wecom, clock):
    db = tmp_path / "web.db"
    shutil.copy(seeded_template[0], db)
    redis = real_redis(REDIS_DB)
    rt = build_runtime(web_settings(f"sqlite:///{db}", fake_wecom.base_url), clock=clock, redis=redis,
                       sleep=lambda s: None)
    yield rt
    rt.close()


@pytest.fixture
def accounts(runtime):
    return AccountService(runtime.session_factory, runtime.clock, min_password_length=10, hash_method=FAST_HASH)


@pytest.fixture
def app(runtime, accounts):
    flask_app = create_app(runtime=runtime)
    flask_app.config.update(TESTING=True)
    return flask_app


def login(client, username: str, password: str = PASSWORD):
    """Sign in through the real form, CSRF token included."""
    import re

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def csrf_of(client, path: str = "/") -> str:
    import re

    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


@pytest.fixture
def as_role(app):
    """as_role("adv1") -> a test client signed in as that user."""

    def make(username: str):
        client = app.test_client()
        response = login(client, username)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return make


@pytest.fixture(scope="session")
def content_tokenizer():
    """One jieba tokenizer for every test's matcher (loading its dictionary takes seconds)."""
    from content.settings import ContentSettings
    from content.tokenize import Tokenizer

    settings = ContentSettings()
    return Tokenizer(settings.user_dict, settings.index_dir)


def content_services(runtime, tokenizer):
    """content.service.build_content_services, with the shared tokenizer."""
    from content.matcher import Matcher
    from content.service import ContentService, ContentServices
    from content.settings import ContentSettings
    from content.sources import DatabaseSource

    settings = runtime.settings.domain("content", ContentSettings)
    library = ContentService(runtime.session_factory, runtime.clock)
    matcher = Matcher(DatabaseSource(library, runtime.session_factory, runtime.clock), settings, runtime.clock,
                      tokenizer=tokenizer)
    return ContentServices(library=library, matcher=matcher, settings=settings)


def seed(runtime, tokenizer) -> dict:
    """Two advisors' clients and suggestions, an inheritance in progress, an archived chat with an alert,
    a content item and a campaign that has run."""
    from tests.web.factories import add_campaign, add_contact, add_suggestion, add_transfer, archive_chat

    runtime.services.register("content", content_services(runtime, tokenizer))
    add_contact(runtime, "wm-li-client", "advisor-li", name="测试客户甲", tier="长尾", stage="衰退期",
                inherited_from="advisor-old")
    add_contact(runtime, "wm-wang-client", "advisor-wang", name="测试客户乙")
    add_transfer(runtime, "wm-wang-client", "advisor-wang", "central-ops-01", resigned=True)
    ids = {
        "s_li": add_suggestion(runtime, "advisor-li", "wm-li-client", "新股怎么申购？", "您好，新股申购……",
                               msgid="q-li-1"),
        "s_wang": add_suggestion(runtime, "advisor-wang", "wm-wang-client", "怎么开通创业板？", "您好，开通创业板需要……",
                                 msgid="q-wang-1"),
    }
    archive_chat(runtime, "advisor-old", "wm-li-client", [("out", "您好，我是您以前的服务顾问")])
    archive_chat(runtime, "advisor-li", "wm-li-client",
                 [("in", "最近有什么稳健的产品吗"), ("out", "这个产品保本保收益，稳赚不赔")])
    ids["alert"] = runtime.services.review.queue()[0]["id"]
    version = runtime.services.content.library.create_item(slug="ipo-howto", kind="faq", title="新股申购指南",
                                                          body="新股申购需要持有市值……", questions=["新股怎么申购"],
                                                          author="ops")
    ids["item"], ids["version"] = version.item_id, version.id
    add_campaign(runtime, "close-note", "收盘点评", treated=40, control=10, treated_replied=12, control_replied=1,
                 treated_reactivated=8, control_reactivated=1)
    return ids


@pytest.fixture(scope="session")
def seeded_template(template_db, tmp_path_factory, content_tokenizer):
    """The template with the seeded data, built once (archive, surveillance and content are slow-ish)."""
    path = tmp_path_factory.mktemp("webseed") / "seeded.db"
    shutil.copy(template_db, path)
    rt = build_runtime(web_settings(f"sqlite:///{path}", "http://127.0.0.1:9/cgi-bin/", redis={"url": "memory://"}),
                       clock=ManualClock(utc(2026, 11, 20, 2, 0, 0)))
    ids = seed(rt, content_tokenizer)
    rt.close()
    return path, ids


@pytest.fixture
def seeded(app, runtime, seeded_template, content_tokenizer):
    """The ids of the seeded data (every test's database is a copy of the seeded template)."""
    runtime.services.register("content", content_services(runtime, content_tokenizer))
    return dict(seeded_template[1])
