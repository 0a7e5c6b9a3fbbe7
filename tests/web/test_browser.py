"""Browser tests in headless Debian Chromium: each role signs in and walks its main flow; screenshots
of the main pages (desktop and phone width) go to tests/artifacts/screenshots/ (gitignored).

No network: the app runs on 127.0.0.1 in a thread, every other request is aborted, and development
pages never include the WeCom JS-SDK script (the sidebar test injects a stand-in `wx`)."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}  # WeCom's in-app browser on a phone
SIDEBAR = {"width": 360, "height": 720}  # the chat toolbar panel

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(),
                                 reason="needs Debian chromium at /usr/bin/chromium (apt-get install -y chromium)")]

FAKE_WX = """
window.__wxCalls = [];
window.wx = {
  config: function (c) { window.__wxCalls.push(['config', c]); },
  ready: function (f) { setTimeout(f, 0); },
  error: function () {},
  agentConfig: function (c) { window.__wxCalls.push(['agentConfig', c]); setTimeout(c.success, 0); },
  invoke: function (name, args, cb) {
    window.__wxCalls.push([name, args]);
    if (name === 'getCurExternalContact') { cb({err_msg: 'getCurExternalContact:ok', userId: 'wm-li-client'}); }
    else if (name === 'sendChatMessage') { cb({err_msg: 'sendChatMessage:ok'}); }
  }
};
"""


def expect(locator):
    """Playwright's retrying assertion: after a form post the old page may still be showing."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield instance
        instance.close()


@pytest.fixture
def live(app, seeded):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def open_page(browser, live):
    contexts, blocked = [], []

    def make(username: str | None, viewport=DESKTOP, init_script: str | None = None):
        context = browser.new_context(viewport=viewport, locale="zh-CN")
        contexts.append(context)

        def refuse(route):
            blocked.append(route.request.url)
            route.abort()

        context.route(re.compile(r"^(?!" + re.escape(live) + r").*"), refuse)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.js_errors = errors
        if username:
            page.goto(live + "/login")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", "correct-horse-battery")
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/login" not in url)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not blocked, f"pages ship their own CSS/JS, yet tried to fetch {blocked}"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_login_page_on_a_phone(open_page, live):
    page = open_page(None, PHONE)
    page.goto(live + "/login")
    assert page.locator("h1").inner_text() == "投顾助手 · 登录"
    shot(page, "login-phone")
    assert not page.js_errors


def test_advisor_edits_a_suggestion_with_the_keyboard(open_page, live, runtime, seeded):
    from tests.web.factories import add_suggestion

    second = add_suggestion(runtime, "advisor-li", "wm-li-client", "在吗？", None, msgid="q-li-2")
    page = open_page("adv1")
    assert page.url.endswith("/advisor/")
    assert page.locator(".suggestion.selected").get_attribute("data-id") == str(seeded["s_li"])
    shot(page, "advisor-queue-desktop")
    page.goto(live + f"/advisor/#s{second}")  # the approval card's link selects its suggestion
    assert page.locator(".suggestion.selected").get_attribute("data-id") == str(second)
    page.keyboard.press("k")
    assert page.locator(".suggestion.selected").get_attribute("data-id") == str(seeded["s_li"])
    page.keyboard.press("j")
    assert page.locator(".suggestion.selected").get_attribute("data-id") == str(second)
    page.keyboard.press("i")  # ignore the second one
    page.wait_for_load_state()
    expect(page.locator(".flashes")).to_contain_text("已忽略")
    assert runtime.services.conversations.get(second)["state"] == "rejected"
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert page.locator(".suggestion.selected").get_attribute("data-id") == str(seeded["s_li"])
    page.keyboard.press("e")
    box = page.locator(".suggestion.selected textarea")
    expect(box).to_be_visible()
    box.fill("您好，新股申购需要先开通权限，额度按持有市值计算。")
    box.press("Control+Enter")
    page.wait_for_load_state()
    expect(page.locator(".flashes")).to_contain_text("聊天工具栏")
    assert runtime.services.conversations.get(seeded["s_li"])["state"] == "ready_for_sidebar"
    shot(page, "advisor-queue-after-edit")
    page.set_viewport_size(PHONE)
    shot(page, "advisor-queue-phone")
    page.set_viewport_size(DESKTOP)
    page.goto(live + "/advisor/clients/wm-li-client")
    assert "advisor-old" in page.content()
    shot(page, "advisor-client-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "advisor-client-phone")
    page.goto(live + "/advisor/clients/wm-wang-client")
    assert "403" in page.locator("h1").inner_text()
    assert not [e for e in page.js_errors if "403" not in e]


def test_sidebar_sends_the_suggestion_through_the_jssdk(open_page, live, runtime, seeded):
    page = open_page("adv1", SIDEBAR, init_script=FAKE_WX)
    page.goto(live + "/sidebar/")
    page.wait_for_selector("[data-send]")
    assert "测试客户甲" in page.locator("#sidebar-body").inner_text()
    shot(page, "sidebar")
    page.click("[data-send]")
    page.locator("#sidebar-status", has_text="已发送到聊天窗口").wait_for()
    calls = page.evaluate("window.__wxCalls")
    names = [c[0] for c in calls]
    assert names[:2] == ["config", "agentConfig"] and "getCurExternalContact" in names
    agent = dict(calls)["agentConfig"]
    assert agent["agentid"] == 1000002 and agent["jsApiList"] == ["getCurExternalContact", "sendChatMessage"]
    sent = [c[1] for c in calls if c[0] == "sendChatMessage"][0]
    assert sent == {"msgtype": "text", "text": {"content": "您好，新股申购……"}}
    assert runtime.services.conversations.get(seeded["s_li"])["state"] == "ready_for_sidebar"
    assert not page.js_errors


def test_compliance_closes_an_alert(open_page, live, runtime, seeded):
    page = open_page("comp")
    assert page.url.endswith("/compliance/")
    shot(page, "compliance-alerts-desktop")
    page.click(f"a[href='/compliance/alerts/{seeded['alert']}']")
    page.click("button:has-text('认领')")
    page.select_option("#close-form select[name=outcome]", "false_positive")
    page.fill("#close-form textarea[name=note]", "客户原话引用，非投顾承诺")
    page.click("#close-form button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator(".flashes")).to_contain_text("已结案")
    assert runtime.services.review.get(seeded["alert"])["alert"]["disposition"] == "false_positive"
    shot(page, "compliance-alert-closed")
    page.goto(live + "/compliance/conversations/wm-li-client")
    assert page.locator(".msg.flagged").count() == 1
    shot(page, "compliance-conversation-desktop")
    page.set_viewport_size(PHONE)
    page.goto(live + f"/compliance/alerts/{seeded['alert']}")
    shot(page, "compliance-alert-phone")
    page.goto(live + "/compliance/search?q=保本")
    shot(page, "compliance-search-phone")
    assert not page.js_errors


def test_content_is_edited_submitted_and_approved(open_page, live, runtime, seeded):
    item = seeded["item"]
    runtime.services.content.library.submit(seeded["version"], "ops")
    runtime.services.content.library.approve(seeded["version"], "comp2")  # v1 is live; v2 will change it
    ops = open_page("ops")
    ops.goto(live + f"/content/{item}/edit")
    ops.fill("input[name=title]", "新股申购指南（修订）")
    ops.click("#content-edit button[type=submit]")
    ops.wait_for_load_state()
    expect(ops.locator(".flashes")).to_contain_text("已保存为新版本 v2")
    ops.click("button:has-text('提交审批')")
    expect(ops.locator(".flashes")).to_contain_text("已提交审批")
    comp = open_page("comp")
    comp.goto(live + f"/content/{item}")
    assert "与线上版本相比改动了：标题" in comp.locator(".changes").inner_text()
    shot(comp, "content-review-desktop")
    comp.click("button:has-text('审批通过')")
    comp.wait_for_load_state()
    expect(comp.locator(".flashes")).to_contain_text("已审批通过并上线")
    latest = runtime.services.content.library.versions(item)[-1]
    assert latest.status == "approved" and latest.title == "新股申购指南（修订）" and latest.approved_by == "comp"
    shot(comp, "content-item-desktop")
    comp.goto(live + "/content/hit-test?q=新股怎么申购")
    assert comp.locator("#hit-result .candidates li").count() >= 1
    shot(comp, "content-hit-test-desktop")
    comp.set_viewport_size(PHONE)
    shot(comp, "content-hit-test-phone")
    assert not ops.js_errors and not comp.js_errors


def test_operations_open_a_campaign_report(open_page, live):
    page = open_page("ops")
    shot(page, "ops-dashboard-desktop")
    page.goto(live + "/ops/campaigns")
    page.click("a:has-text('收盘点评')")
    expect(page.locator("#lift")).to_contain_text("+20.0 个百分点")
    shot(page, "ops-campaign-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "ops-campaign-phone")
    assert not page.js_errors
