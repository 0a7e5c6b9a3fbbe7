"""Flask application factory: thin web layer over the runtime."""

from __future__ import annotations

import logging

from flask import Flask

from bot.config import Settings, load_settings
from bot.refs import resolve
from bot.runtime import Runtime, build_runtime
from bot.web.setup import init_web
from bot.web import callback

# Blueprints other packages contribute: "module:attribute" of a flask.Blueprint.
BLUEPRINTS = [
    "bot.conversations.api:bp",
    "bot.web.auth:bp",
    "bot.web.advisor:bp",
    "bot.web.sidebar:bp",
    "bot.web.compliance:bp",
    "bot.web.content_console:bp",
    "bot.web.ops:bp",
    "bot.web.admin:bp",
]


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> Flask:
    if runtime is None:
        runtime = build_runtime(settings or load_settings())
    settings = runtime.settings
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.app.secret_key,
        MAX_CONTENT_LENGTH=settings.server.max_body_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not settings.server.development,
        JSON_AS_ASCII=False,
    )
    app.extensions["advisor_bot"] = runtime
    for target in BLUEPRINTS:
        app.register_blueprint(resolve(target))

    init_web(app)
    callback.install(app, runtime)  # /wecom/<app>/callback, in front of Flask (see bot/web/callback.py)

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    logging.getLogger(__name__).debug("app created with %d callback apps", len(settings.callback_apps()))
    return app
