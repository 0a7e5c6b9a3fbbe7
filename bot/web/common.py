"""What every console view shares: the runtime, the `[web]` settings, services, small helpers."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, request

from bot.web.accounts import AccountService
from bot.web.settings import WebSettings

EXT = "advisor_bot_web"


def runtime():
    return current_app.extensions["advisor_bot"]


def _state() -> dict[str, Any]:
    state = current_app.extensions.get(EXT)
    if state is None:  # app built without init_web (e.g. a test app with one blueprint)
        state = current_app.extensions[EXT] = {}
    return state


def web_settings() -> WebSettings:
    state = _state()
    if "settings" not in state:
        state["settings"] = runtime().settings.domain("web", WebSettings)
    return state["settings"]


def accounts() -> AccountService:
    state = _state()
    if "accounts" not in state:
        rt = runtime()
        state["accounts"] = AccountService(rt.session_factory, rt.clock,
                                           min_password_length=web_settings().min_password_length,
                                           hash_method=web_settings().password_hash_method)
    return state["accounts"]


def service(name: str) -> Any | None:
    """The domain service `name`, or None when that domain is not installed yet (page says so)."""
    services = runtime().services
    if not services.available(name):
        return None
    return getattr(services, name)


def required_service(name: str) -> Any:
    """The domain service `name`; 404 when that domain is not installed (actions and detail pages)."""
    found = service(name)
    if found is None:
        abort(404)
    return found


def feature(name: str, method: str):
    """A method of a domain service, or None while that domain does not offer it yet (page says so)."""
    found = service(name)
    return getattr(found, method, None) if found is not None else None


def form_text(name: str, *, max_len: int = 4000, required: bool = False) -> str | None:
    """A stripped form field; None (and a Chinese flash) when required and missing or too long."""
    value = (request.form.get(name) or "").strip()
    if required and not value:
        flash("请填写必填项", "error")
        return None
    if len(value) > max_len:
        flash(f"内容过长（最多 {max_len} 个字符）", "error")
        return None
    return value


def page_args() -> tuple[int, int]:
    """(limit, offset) from ?page=, bounded."""
    size = web_settings().page_size
    try:
        page = max(1, min(int(request.args.get("page", "1")), 10_000))
    except ValueError:
        page = 1
    return size, (page - 1) * size
