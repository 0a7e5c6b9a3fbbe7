"""Sign-in and roles for the consoles and the JSON APIs.

Two ways in: WeCom OAuth (automatic when the page is opened inside WeCom, User-Agent ``wxwork``) and
a local username/password (administrators, development). Use in any blueprint::

    from bot.web.auth import current_user, login_required, roles_required, forbid

    @bp.get("/x")
    @roles_required("advisor", "admin")
    def x(): user = current_user(); ...

Every refusal is logged on ``bot.web.access``: user id, path, reason (never names or message text).
Requests under ``/api/`` (or asking for JSON) get a JSON 401/403 instead of a redirect or a page.
"""

from __future__ import annotations

import functools
import logging
import secrets
from urllib.parse import urlsplit

from flask import (Blueprint, abort, flash, g, jsonify, redirect, render_template, request, session,
                   url_for)
from wechatpy.exceptions import WeChatClientException

from bot.web.accounts import ADMIN, ADVISOR, CENTRAL_OPS, COMPLIANCE, Account
from bot.web.common import accounts, runtime, web_settings

access_log = logging.getLogger("bot.web.access")
log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, template_folder="templates", static_folder="static",
               static_url_path="/web-static")

SESSION_USER = "uid"
SESSION_STATE = "oauth_state"
HOME_BY_ROLE = {ADVISOR: "advisor.queue", CENTRAL_OPS: "ops.dashboard", COMPLIANCE: "compliance.alerts",
                ADMIN: "ops.dashboard"}


# ---- the signed-in user -----------------------------------------------------------------------
def current_user() -> Account | None:
    """The signed-in, still active account (re-read once per request, so a deactivation bites at once)."""
    if "web_user" not in g:
        user = None
        uid = session.get(SESSION_USER)
        if isinstance(uid, int):
            user = accounts().get(uid)
            if user is not None and not user.active:
                user = None
            if user is None:
                session.pop(SESSION_USER, None)
        g.web_user = user
    return g.web_user


def _wants_json() -> bool:
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def log_denied(reason: str, user: Account | None = None) -> None:
    user = user if user is not None else current_user()
    access_log.warning("access denied user=%s path=%s reason=%s", user.id if user else "-", request.path, reason)


def forbid(reason: str):
    """Refuse the current request with 403 and log why. Use for object-level checks in views."""
    log_denied(reason)
    abort(403)


def _unauthenticated():
    log_denied("not signed in", None)
    if _wants_json():
        return jsonify({"error": "unauthenticated", "message": "请先登录"}), 401
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def login_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if current_user() is None:
            return _unauthenticated()
        return view(*args, **kwargs)

    return wrapper


def roles_required(*roles: str):
    """Signed in and holding one of ``roles``; anything else is 401 (not signed in) or 403."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                return _unauthenticated()
            if user.role not in roles:
                forbid(f"role {user.role} not in {','.join(roles)}")
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _home_for(user: Account) -> str:
    return url_for(HOME_BY_ROLE.get(user.role, "auth.login"))


def _start_session(user: Account) -> None:
    session.clear()  # no fixation: a fresh session for every sign-in
    session[SESSION_USER] = user.id
    session.permanent = True
    g.web_user = user


def _failure_key() -> str:
    """Failed sign-ins are counted per client address (behind a proxy: configure ProxyFix upstream)."""
    return f"{runtime().settings.redis.prefix}:web:login-failures:{request.remote_addr or '-'}"


def in_wecom() -> bool:
    return "wxwork" in request.headers.get("User-Agent", "").lower()


def _wecom_configured() -> bool:
    return web_settings().wecom_app in runtime().settings.wecom.apps


# ---- views -----------------------------------------------------------------------------------
@bp.get("/")
def home():
    user = current_user()
    if user is None:
        return redirect(url_for("auth.login"))
    return redirect(_home_for(user))


@bp.route("/login", methods=["GET", "POST"])
def login():
    settings = web_settings()
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user() is not None:
            return redirect(next_url or _home_for(current_user()))
        if in_wecom() and _wecom_configured() and not request.args.get("local"):
            return redirect(url_for("auth.wecom_start", next=next_url))
        return render_template("auth/login.html", next=next_url, local=settings.local_login_enabled,
                               wecom=_wecom_configured())
    if not settings.local_login_enabled:
        log_denied("local sign-in disabled", None)
        abort(403)
    throttle = _failure_key()
    if int(runtime().redis.get(throttle) or 0) >= settings.login_max_failures:
        log_denied("too many failed sign-ins", None)
        flash(f"登录失败次数过多，请 {settings.login_lockout_minutes} 分钟后再试", "error")
        return render_template("auth/login.html", next=next_url, local=True, wecom=_wecom_configured()), 429
    username = (request.form.get("username") or "").strip()
    user = accounts().authenticate(username, request.form.get("password") or "")
    if user is None:
        pipe = runtime().redis.pipeline()
        pipe.incr(throttle)
        pipe.expire(throttle, settings.login_lockout_minutes * 60)
        pipe.execute()
        access_log.warning("sign-in failed user=- path=%s reason=bad credentials", request.path)
        flash("用户名或密码错误，或账号已停用", "error")
        return render_template("auth/login.html", next=next_url, local=True, wecom=_wecom_configured()), 401
    runtime().redis.delete(throttle)
    _start_session(user)
    log.info("signed in user=%s via password", user.id)
    return redirect(next_url or _home_for(user))


@bp.post("/logout")
def logout():
    user = current_user()
    session.clear()
    if user is not None:
        log.info("signed out user=%s", user.id)
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))


@bp.get("/auth/wecom")
def wecom_start():
    if not _wecom_configured():
        flash("企业微信登录尚未配置", "error")
        return redirect(url_for("auth.login", local=1))
    state = secrets.token_hex(16)  # WeCom allows only [a-zA-Z0-9] in state
    session[SESSION_STATE] = state
    session["oauth_next"] = _safe_next(request.args.get("next"))
    base = web_settings().oauth_redirect_base_url or request.host_url.rstrip("/")
    client = runtime().wecom.client(web_settings().wecom_app)
    return redirect(client.oauth.authorize_url(base + url_for("auth.wecom_callback"), state=state))


@bp.get("/auth/wecom/callback")
def wecom_callback():
    expected = session.pop(SESSION_STATE, None)
    next_url = _safe_next(session.pop("oauth_next", None))
    code = request.args.get("code", "")
    if not expected or not secrets.compare_digest(expected, request.args.get("state", "")):
        log_denied("oauth state mismatch", None)
        flash("登录链接已失效，请重新进入", "error")
        return redirect(url_for("auth.login", local=1))
    if not code or len(code) > 512:
        log_denied("oauth without code", None)
        flash("企业微信未授权登录", "error")
        return redirect(url_for("auth.login", local=1))
    try:
        info = runtime().wecom.client(web_settings().wecom_app).oauth.get_user_info(code)
    except WeChatClientException as exc:
        log.warning("wecom oauth failed errcode=%s", exc.errcode)
        flash("企业微信登录失败，请稍后重试", "error")
        return redirect(url_for("auth.login", local=1))
    wecom_userid = info.get("UserId") or info.get("userid")
    if not wecom_userid:  # an outsider (OpenId only) is not a member of the corp
        log_denied("oauth identity is not a corp member", None)
        flash("仅限本公司企业微信成员登录", "error")
        return redirect(url_for("auth.login", local=1))
    user = accounts().sign_in_wecom(wecom_userid, provision_role=web_settings().wecom_auto_provision_role)
    if user is None:
        log_denied("wecom member has no active account", None)
        flash("您的账号尚未开通或已停用，请联系管理员", "error")
        return redirect(url_for("auth.login", local=1))
    _start_session(user)
    log.info("signed in user=%s via wecom", user.id)
    return redirect(next_url or _home_for(user))
