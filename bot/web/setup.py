"""`init_web(app)`: what the consoles need on the Flask app (CSRF, sessions, templates, errors).

Called once from `create_app`. WeCom callbacks never reach Flask (bot/web/callback.py answers them
in front of it; WeCom signs its requests), so CSRF does not concern them. JSON clients send the token from the page's ``<meta name="csrf-token">`` in an
``X-CSRFToken`` header.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from bot.web.accounts import ADMIN, ADVISOR, CENTRAL_OPS, COMPLIANCE, ROLE_LABELS
from bot.web.auth import _wants_json, current_user, log_denied
from bot.web.common import EXT
from bot.web.settings import WebSettings

log = logging.getLogger(__name__)

csrf = CSRFProtect()

# (endpoint, label, roles) for the top navigation.
NAV = [
    ("advisor.queue", "待审建议", (ADVISOR,)),
    ("advisor.clients", "我的客户", (ADVISOR, CENTRAL_OPS, ADMIN)),
    ("compliance.alerts", "合规告警", (COMPLIANCE,)),
    ("compliance.search", "存档检索", (COMPLIANCE,)),
    ("compliance.holds", "法律保全", (COMPLIANCE,)),
    ("content.index", "内容库", (ADVISOR, CENTRAL_OPS, COMPLIANCE, ADMIN)),
    ("content.hit_test", "命中测试", (ADVISOR, CENTRAL_OPS, COMPLIANCE, ADMIN)),
    ("ops.dashboard", "运营看板", (CENTRAL_OPS, ADMIN)),
    ("ops.campaigns", "活动报告", (CENTRAL_OPS, ADMIN)),
    ("admin.users", "账号管理", (ADMIN,)),
]

SEVERITY_LABELS = {"high": "高", "medium": "中", "low": "低"}
CSP = ("default-src 'self'; script-src 'self' https://res.wx.qq.com; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self' https://open.weixin.qq.com; base-uri 'self'; object-src 'none'")


def init_web(app: Flask) -> None:
    runtime = app.extensions["advisor_bot"]
    settings: WebSettings = runtime.settings.domain("web", WebSettings)
    app.extensions[EXT] = {"settings": settings}
    lifetime = timedelta(minutes=settings.session_lifetime_minutes)
    app.config.update(
        PERMANENT_SESSION_LIFETIME=lifetime,
        SESSION_COOKIE_NAME="advisor_bot_session",
        WTF_CSRF_TIME_LIMIT=int(lifetime.total_seconds()),
        WTF_CSRF_SSL_STRICT=not runtime.settings.server.development,
        WTF_CSRF_CHECK_DEFAULT=False,  # checked in _csrf below, which knows the bearer-token exception
    )
    csrf.init_app(app)
    production = not runtime.settings.server.development

    @app.before_request
    def _csrf():
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return
        if request.headers.get("Authorization", "").startswith("Bearer "):
            return  # service-to-service calls: a bearer token is never sent by a browser on its own
        csrf.protect()
    zone = ZoneInfo(runtime.settings.app.timezone)

    @app.template_filter("localtime")
    def _localtime(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if isinstance(value, str):  # services that answer JSON-ready dicts give ISO strings
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return value
        if not isinstance(value, datetime):
            return "—" if value is None else str(value)
        return value.astimezone(zone).strftime(fmt)

    @app.context_processor
    def _globals():
        user = current_user()
        nav = [(ep, label) for ep, label, roles in NAV if user is not None and user.role in roles]
        return {"current_user": user, "nav": nav, "role_labels": ROLE_LABELS,
                "severity_labels": SEVERITY_LABELS,
                "jssdk_script_url": settings.jssdk_script_url if production else ""}

    @app.after_request
    def _headers(response):
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            if current_user() is not None:
                response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        log_denied(f"csrf: {exc.description}")
        return _error(400, "页面已过期或请求无效，请刷新页面后重试")

    @app.errorhandler(403)
    def _forbidden(_exc):
        return _error(403, "您没有权限访问此页面")

    @app.errorhandler(404)
    def _not_found(_exc):
        return _error(404, "页面不存在")


def _error(status: int, message: str):
    if _wants_json():
        return jsonify({"error": status, "message": message}), status
    return render_template("error.html", status=status, message=message), status
