"""Sign-in (local and WeCom OAuth), sessions, CSRF and access logging."""

from __future__ import annotations

import logging
import re

from bot.web.settings import WebSettings
from tests.web.conftest import CORP_ID, PASSWORD, csrf_of, login

WXWORK_UA = "Mozilla/5.0 (iPhone) AppleWebKit/605 MicroMessenger/3.1 wxwork/4.1.0 NetType/WIFI"


def test_login_page_renders_in_chinese(app):
    page = app.test_client().get("/login")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "登录" in text and 'name="csrf_token"' in text
    assert "res.wx.qq.com" not in text  # development pages never load the JS-SDK


def test_password_sign_in_lands_on_role_home(app):
    for username, home in [("adv1", "/advisor/"), ("ops", "/ops/"), ("comp", "/compliance/"), ("admin", "/ops/")]:
        client = app.test_client()
        response = login(client, username)
        assert response.status_code == 302 and response.headers["Location"].endswith(home), username


def test_wrong_password_is_refused_and_logged_without_the_name(app, caplog):
    caplog.set_level(logging.WARNING, logger="bot.web.access")
    response = login(app.test_client(), "adv1", "wrong-password-x")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert "adv1" not in caplog.text and "reason=bad credentials" in caplog.text


def test_repeated_failures_lock_the_address_out(app, caplog):
    caplog.set_level(logging.WARNING, logger="bot.web.access")
    client = app.test_client()
    for _ in range(10):
        assert login(client, "adv1", "wrong-password-x").status_code == 401
    response = login(client, "adv1")  # even the right password waits now
    assert response.status_code == 429 and "登录失败次数过多" in response.get_data(as_text=True)
    assert "reason=too many failed sign-ins" in caplog.text


def test_deactivated_account_is_signed_out_at_once(app, accounts):
    client = app.test_client()
    login(client, "adv2")
    assert client.get("/advisor/").status_code == 200
    accounts.set_active("adv2", False)
    response = client.get("/advisor/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert login(app.test_client(), "adv2").status_code == 401


def test_post_without_csrf_token_is_refused(app, caplog):
    caplog.set_level(logging.WARNING, logger="bot.web.access")
    response = app.test_client().post("/login", data={"username": "adv1", "password": PASSWORD})
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)
    assert "reason=csrf" in caplog.text


def test_callback_is_exempt_from_csrf(app):
    # No codec is configured for "advisor" here: the callback intake answers itself (404), not CSRF (400).
    response = app.test_client().post("/wecom/advisor/callback?msg_signature=x&timestamp=1&nonce=n", data=b"<xml/>")
    assert response.status_code == 404


def test_unauthenticated_html_redirects_and_api_gets_json(app, caplog):
    caplog.set_level(logging.WARNING, logger="bot.web.access")
    client = app.test_client()
    response = client.get("/compliance/search?q=x")
    assert response.status_code == 302
    assert "/login?next=/compliance/search?q%3Dx" in response.headers["Location"]
    response = client.get("/content/", headers={"Accept": "application/json"})
    assert response.status_code == 401 and response.get_json()["error"] == "unauthenticated"
    assert "user=- path=/content/ reason=not signed in" in caplog.text


def test_next_is_only_followed_to_local_paths(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil"):
        response = client.post("/login", data={"username": "ops", "password": PASSWORD, "csrf_token": token,
                                               "next": evil})
        assert response.headers["Location"] == "/ops/"
        client.post("/logout", data={"csrf_token": csrf_of(client)})
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_logout_clears_the_session(as_role):
    client = as_role("ops")
    assert client.get("/ops/").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_of(client, "/ops/")})
    assert response.status_code == 302
    assert client.get("/ops/").status_code == 302


def test_session_cookie_is_secure_outside_development(runtime, accounts):
    from dataclasses import replace

    from bot.app import create_app

    settings = runtime.settings.model_copy(update={"server": runtime.settings.server.model_copy(
        update={"development": False})})
    prod = create_app(runtime=replace(runtime, settings=settings))
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    assert prod.config["SESSION_COOKIE_HTTPONLY"] is True
    assert prod.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 480 * 60
    client = prod.test_client()
    page = client.get("/login", base_url="https://bot.example")
    assert "res.wx.qq.com" not in page.get_data(as_text=True)  # login page has no JS-SDK
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post("/login", base_url="https://bot.example",
                           headers={"Referer": "https://bot.example/login"},
                           data={"username": "adv1", "password": PASSWORD, "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# ---- WeCom OAuth ------------------------------------------------------------------------------
def test_inside_wecom_login_redirects_to_oauth(app):
    client = app.test_client()
    response = client.get("/login?next=/advisor/", headers={"User-Agent": WXWORK_UA})
    assert response.headers["Location"].startswith("/auth/wecom")
    response = client.get(response.headers["Location"], headers={"User-Agent": WXWORK_UA})
    location = response.headers["Location"]
    assert location.startswith("https://open.weixin.qq.com/connect/oauth2/authorize?appid=" + CORP_ID)
    assert "redirect_uri=http%3A%2F%2Flocalhost%2Fauth%2Fwecom%2Fcallback" in location
    assert re.search(r"&state=[\w-]+#wechat_redirect$", location)


def _oauth(client, fake_wecom, code: str, info: dict):
    fake_wecom.codes[code] = info
    location = client.get("/auth/wecom").headers["Location"]
    state = re.search(r"&state=([\w-]+)#", location).group(1)
    return client.get(f"/auth/wecom/callback?code={code}&state={state}")


def test_oauth_signs_in_a_bound_member(app, fake_wecom):
    client = app.test_client()
    response = _oauth(client, fake_wecom, "code-li", {"errcode": 0, "UserId": "advisor-li"})
    assert response.headers["Location"] == "/advisor/"
    assert client.get("/advisor/").status_code == 200


def test_oauth_provisions_an_unknown_member_as_advisor(app, fake_wecom, accounts):
    client = app.test_client()
    response = _oauth(client, fake_wecom, "code-new", {"errcode": 0, "userid": "advisor-zhao"})
    assert response.headers["Location"] == "/advisor/"
    made = accounts.by_username("wx.advisor-zhao")
    assert made.role == "advisor" and made.wecom_userid == "advisor-zhao"


def test_oauth_refuses_outsiders_bad_state_and_bad_codes(app, fake_wecom, caplog):
    caplog.set_level(logging.WARNING)
    client = app.test_client()
    response = _oauth(client, fake_wecom, "code-out", {"errcode": 0, "OpenId": "o-123"})
    assert "/login" in response.headers["Location"]
    assert "reason=oauth identity is not a corp member" in caplog.text
    client.get("/auth/wecom")
    response = client.get("/auth/wecom/callback?code=code-li&state=forged")
    assert "/login" in response.headers["Location"] and "reason=oauth state mismatch" in caplog.text
    response = _oauth(client, fake_wecom, "code-bad", {"errcode": 40029, "errmsg": "invalid code"})
    assert "/login" in response.headers["Location"]
    assert client.get("/advisor/").status_code == 302


def test_oauth_without_auto_provisioning_refuses_unknown_members(runtime, accounts, fake_wecom):
    from dataclasses import replace

    from bot.app import create_app

    settings = runtime.settings.model_copy(update={"web": {"wecom_auto_provision_role": ""}})
    app = create_app(runtime=replace(runtime, settings=settings))
    client = app.test_client()
    response = _oauth(client, fake_wecom, "code-x", {"errcode": 0, "UserId": "nobody"})
    assert "/login" in response.headers["Location"]
    assert accounts.by_username("wx.nobody") is None


def test_web_settings_validate():
    assert WebSettings(oauth_redirect_base_url="https://a.example/").oauth_redirect_base_url == "https://a.example"
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        WebSettings(wecom_auto_provision_role="root")


def test_oauth_returns_to_the_page_that_asked(app, fake_wecom):
    client = app.test_client()
    fake_wecom.codes["code-next"] = {"errcode": 0, "UserId": "advisor-li"}
    response = client.get("/sidebar/", headers={"User-Agent": WXWORK_UA})
    assert response.headers["Location"] == "/login?next=/sidebar/"
    response = client.get(response.headers["Location"], headers={"User-Agent": WXWORK_UA})
    location = client.get(response.headers["Location"], headers={"User-Agent": WXWORK_UA}).headers["Location"]
    state = re.search(r"&state=([\w-]+)#", location).group(1)
    response = client.get(f"/auth/wecom/callback?code=code-next&state={state}")
    assert response.headers["Location"] == "/sidebar/"


def test_production_sidebar_loads_the_jssdk_from_res_wx_qq_com(runtime, accounts):
    from dataclasses import replace

    from bot.app import create_app

    settings = runtime.settings.model_copy(update={"server": runtime.settings.server.model_copy(
        update={"development": False})})
    prod_runtime = replace(runtime, settings=settings)
    prod_runtime.services = runtime.services
    prod = create_app(runtime=prod_runtime)
    client = prod.test_client()
    base = "https://bot.example"
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/login", base_url=base).get_data(as_text=True)).group(1)
    client.post("/login", base_url=base, headers={"Referer": base + "/login"},
                data={"username": "adv1", "password": PASSWORD, "csrf_token": token})
    page = client.get("/sidebar/", base_url=base)
    assert '<script src="https://res.wx.qq.com/open/js/jweixin-1.2.0.js"' in page.get_data(as_text=True)
    assert "https://res.wx.qq.com" in page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]


def test_wrong_role_gets_json_when_json_is_asked_for(as_role):
    response = as_role("adv1").get("/ops/", headers={"Accept": "application/json"})
    assert response.status_code == 403 and response.get_json()["message"] == "您没有权限访问此页面"


def test_decorators_on_another_blueprint(app):
    from flask import Blueprint

    from bot.web.auth import current_user, login_required, roles_required

    bp = Blueprint("probe", __name__)

    @bp.get("/probe/any")
    @login_required
    def anyone():
        return {"user": current_user().username}

    @bp.get("/api/probe/admin")
    @roles_required("admin")
    def admin_only():
        return {"ok": True}

    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/probe/any").status_code == 302
    assert client.get("/api/probe/admin").status_code == 401
    login(client, "ops")
    assert client.get("/probe/any").get_json() == {"user": "ops"}
    assert client.get("/api/probe/admin").get_json()["error"] == 403
