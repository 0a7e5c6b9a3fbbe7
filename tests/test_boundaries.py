"""Architectural boundaries that keep the product honest."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["bot", "handlers", "content", "jobs"]


def _sources():
    for package in PACKAGES:
        yield from (ROOT / package).rglob("*.py")


def test_only_bot_wecom_knows_wecom_hosts():
    offenders = [str(p.relative_to(ROOT)) for p in _sources()
                 if "qyapi.weixin.qq.com" in p.read_text(encoding="utf-8")
                 and not p.relative_to(ROOT).as_posix().startswith(("bot/wecom/", "bot/config.py"))]
    assert offenders == []


def test_business_logic_never_imports_flask():
    allowed = ("bot/app.py", "bot/server.py", "bot/demo.py", "bot/web/", "bot/wecom/simulator/")
    offenders = []
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(allowed) or rel.endswith("/api.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "flask" or n.startswith("flask.") or n.startswith("flask_") for n in names):
                offenders.append(rel)
    assert offenders == []


def test_intake_logs_carry_no_secrets_or_message_text(runtime_for_logs, caplog):
    from bot.app import create_app
    from tests.conftest import SAMPLE_AES_KEY, SAMPLE_CORP_ID, SAMPLE_TOKEN
    from tests.foundation.callback_helpers import encrypt_callback, text_message_xml

    caplog.set_level(logging.DEBUG)
    client = create_app(runtime=runtime_for_logs).test_client()
    secret_text = "我的身份证号是110101199001011234"
    params, body = encrypt_callback(SAMPLE_TOKEN, SAMPLE_AES_KEY, SAMPLE_CORP_ID,
                                    text_message_xml(SAMPLE_CORP_ID, "42", secret_text))
    client.post("/wecom/advisor/callback", query_string=params, data=body)
    client.post("/wecom/advisor/callback", query_string={**params, "msg_signature": "0" * 40}, data=body)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for needle in (secret_text, SAMPLE_AES_KEY, SAMPLE_TOKEN, "advisor-secret"):
        assert needle not in logged
