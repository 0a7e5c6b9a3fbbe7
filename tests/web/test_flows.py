"""The main flows through the Flask test client: approve / edit / ignore suggestions, the sidebar,
alert dispositions and export, legal holds, content edit -> submit -> approve -> retire, hit-test,
campaign report, and bad input that changes nothing."""

from __future__ import annotations

import io
import zipfile

from bot.web.jssdk import jsapi_signature
from tests.web.conftest import csrf_of


def test_edit_then_send_hands_the_reply_to_the_sidebar(as_role, seeded, runtime):
    client = as_role("adv1")
    token = csrf_of(client, "/advisor/")
    response = client.post(f"/advisor/suggestions/{seeded['s_li']}/edit",
                           data={"csrf_token": token, "text": "您好，新股申购需要先开通权限。"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "聊天工具栏" in page  # the flash says where to send it
    found = runtime.services.conversations.get(seeded["s_li"])
    assert found["state"] == "ready_for_sidebar" and found["edited_text"] == "您好，新股申购需要先开通权限。"
    assert found["decided_by"] == "advisor-li"
    assert "有 1 条已批准的回复" in page


def test_empty_edit_changes_nothing(as_role, seeded, runtime):
    client = as_role("adv1")
    token = csrf_of(client, "/advisor/")
    page = client.post(f"/advisor/suggestions/{seeded['s_li']}/edit", data={"csrf_token": token, "text": "  "},
                       follow_redirects=True).get_data(as_text=True)
    assert "请填写必填项" in page
    assert runtime.services.conversations.get(seeded["s_li"])["state"] == "pending"


def test_ignore_and_acting_twice(as_role, seeded, runtime):
    client = as_role("adv1")
    token = csrf_of(client, "/advisor/")
    client.post(f"/advisor/suggestions/{seeded['s_li']}/ignore", data={"csrf_token": token})
    assert runtime.services.conversations.get(seeded["s_li"])["state"] == "rejected"
    page = client.post(f"/advisor/suggestions/{seeded['s_li']}/edit", data={"csrf_token": token, "text": "x"},
                       follow_redirects=True).get_data(as_text=True)
    assert "该建议当前为「已忽略」，不能修改" in page


def test_blocked_reply_is_not_sent(as_role, seeded, runtime):
    client = as_role("adv1")
    token = csrf_of(client, "/advisor/")
    page = client.post(f"/advisor/suggestions/{seeded['s_li']}/edit",
                       data={"csrf_token": token, "text": "这只股票保本稳赚，赶紧买入"}, follow_redirects=True
                       ).get_data(as_text=True)
    assert "未发送" in page
    assert runtime.services.conversations.get(seeded["s_li"])["state"] == "failed"


def test_sidebar_send_approves_and_answers_the_text(as_role, seeded, runtime):
    client = as_role("adv1")
    token = csrf_of(client, "/advisor/")
    fragment = client.get("/sidebar/client/wm-li-client").get_data(as_text=True)
    assert "新股怎么申购" in fragment and "测试客户甲" in fragment
    response = client.post(f"/sidebar/suggestions/{seeded['s_li']}/send", json={"text": "您好，新股申购……"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert response.get_json() == {"state": "ready_for_sidebar", "text": "您好，新股申购……"}
    assert runtime.services.conversations.get(seeded["s_li"])["edited_text"] is None  # unchanged text: approve
    again = client.post(f"/sidebar/suggestions/{seeded['s_li']}/send", json={"text": "您好，新股申购……"},
                        headers={"X-CSRFToken": token})
    assert again.status_code == 200  # a resend of an approved reply is allowed (the chat send may have failed)
    assert client.post(f"/sidebar/suggestions/{seeded['s_li']}/send", json={"text": ""},
                       headers={"X-CSRFToken": token}).status_code == 400
    assert client.post(f"/sidebar/suggestions/{seeded['s_li']}/send", json={"text": "x"}).status_code == 400  # no CSRF


def test_sidebar_refuses_a_reply_the_compliance_check_blocks(as_role, seeded, runtime):
    client = as_role("adv1")
    token = csrf_of(client, "/advisor/")
    response = client.post(f"/sidebar/suggestions/{seeded['s_li']}/send", json={"text": "保本稳赚，闭眼买"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 409 and response.get_json()["error"] == "not_sendable"
    assert "未发送" in response.get_json()["message"]
    assert runtime.services.conversations.get(seeded["s_li"])["state"] == "failed"


def test_jssdk_config_signs_the_page_url(as_role, seeded, fake_wecom, clock):
    client = as_role("adv1")
    url = "http://localhost/sidebar/?from=toolbar"
    config = client.get("/sidebar/jssdk-config", query_string={"url": url + "#frag"}).get_json()
    assert config["corpid"] == "wwwebtestcorp01" and config["agentid"] == 1000002
    assert config["timestamp"] == int(clock.now().timestamp())
    assert config["signature"] == jsapi_signature("corp-ticket-1", config["nonceStr"], config["timestamp"], url)
    assert config["agentSignature"] == jsapi_signature("agent-ticket-1", config["nonceStr"], config["timestamp"], url)
    assert "ticket/get:agent_config" in fake_wecom.calls
    for bad in ("https://evil.example/sidebar/", "http://localhost/compliance/", ""):
        assert client.get("/sidebar/jssdk-config", query_string={"url": bad}).status_code == 400


def test_jsapi_signature_matches_the_documented_example():
    # WeCom's documented example (JS-SDK 签名算法).
    assert jsapi_signature("sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
                           "Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com?params=value") \
        == "0f9de62fce790f9a083d5c99e95740ceb90c27ed"


def test_sidebar_page_has_no_network_script_in_development(as_role, seeded):
    page = as_role("adv1").get("/sidebar/").get_data(as_text=True)
    assert "sidebar.js" in page and "res.wx.qq.com" not in page


def test_alert_claim_comment_close_reopen_escalate_and_export(as_role, seeded, runtime):
    client = as_role("comp")
    alert = seeded["alert"]
    token = csrf_of(client, f"/compliance/alerts/{alert}")
    post = lambda action, **data: client.post(f"/compliance/alerts/{alert}/{action}",  # noqa: E731
                                              data={"csrf_token": token, **data}, follow_redirects=True)
    assert "请选择结案结论" in post("close", outcome="").get_data(as_text=True)
    assert "已认领" in post("claim").get_data(as_text=True)
    other = as_role("comp2")
    token2 = csrf_of(other, f"/compliance/alerts/{alert}")
    refused = other.post(f"/compliance/alerts/{alert}/close", data={"csrf_token": token2, "outcome": "violation"},
                         follow_redirects=True).get_data(as_text=True)
    assert "只有认领人可以结案" in refused
    post("comment", note="已联系投顾核实")
    page = post("close", outcome="violation", note="确认承诺收益").get_data(as_text=True)
    assert "已结案" in page and "已联系投顾核实" in page
    found = runtime.services.review.get(alert)["alert"]
    assert found["status"] == "closed" and found["disposition"] == "violation" and found["assignee"] == "web:comp"
    assert "请填写必填项" in post("reopen", note="").get_data(as_text=True)
    post("reopen", note="复核")
    post("escalate", note="需要合规负责人判断")
    assert runtime.services.review.get(alert)["alert"]["status"] == "escalated"
    runtime.services.register("case_export", _exporter(runtime, client))
    response = client.post(f"/compliance/alerts/{alert}/export", data={"csrf_token": token})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert any(n.endswith("manifest.json") for n in names) and any(n.endswith("messages.csv") for n in names)


def _exporter(runtime, client):
    import tempfile

    from bot.compliance.export import CaseExporter

    return CaseExporter(runtime.session_factory, runtime.clock, export_dir=tempfile.mkdtemp())


def test_conversation_view_shows_alerts_inline_and_search_finds_them(as_role, seeded):
    client = as_role("comp")
    page = client.get("/compliance/conversations/wm-li-client").get_data(as_text=True)
    assert "稳赚不赔" in page and "最近有什么稳健的产品吗" in page and f"告警 #{seeded['alert']}" in page
    found = client.get("/compliance/search", query_string={"q": "保本"}).get_data(as_text=True)
    assert "稳赚不赔" in found and "最近有什么稳健" not in found
    bad = client.get("/compliance/search", query_string={"from": "2026/1/1"}).get_data(as_text=True)
    assert "日期格式应为" in bad


def test_legal_hold_place_and_release(as_role, seeded, runtime):
    client = as_role("comp")
    token = csrf_of(client, "/compliance/holds")
    page = client.post("/compliance/holds", data={"csrf_token": token, "kind": "client", "target": "wm-li-client",
                                                  "reason": "投诉调查"}, follow_redirects=True).get_data(as_text=True)
    assert "已设置法律保全" in page and "投诉调查" in page
    assert runtime.services.holds.is_on_hold(external_userid="wm-li-client")
    hold_id = runtime.services.holds.list()[0]["id"]
    page = client.post(f"/compliance/holds/{hold_id}/release", data={"csrf_token": token, "reason": ""},
                       follow_redirects=True).get_data(as_text=True)
    assert "请填写必填项" in page and runtime.services.holds.is_on_hold(external_userid="wm-li-client")
    client.post(f"/compliance/holds/{hold_id}/release", data={"csrf_token": token, "reason": "调查结束"})
    assert not runtime.services.holds.is_on_hold(external_userid="wm-li-client")


def test_content_edit_submit_approve_retire(as_role, seeded, runtime):
    ops, comp = as_role("ops"), as_role("comp")
    item = seeded["item"]
    token = csrf_of(ops, f"/content/{item}/edit")
    form = {"csrf_token": token, "title": "新股申购指南（2026版）", "body": "新股申购需要持有沪深市值……",
            "questions": "新股怎么申购\n怎么打新", "topics": "新股", "segments": "", "risk_level": "",
            "url": "", "valid_from": "", "valid_until": "2026-12-31"}
    bad = ops.post(f"/content/{item}/edit", data={**form, "url": "ftp://x"})
    assert bad.status_code == 400 and "内容校验未通过" in bad.get_data(as_text=True)
    assert "链接：必须是 http(s) 链接" in bad.get_data(as_text=True)
    empty = ops.post(f"/content/{item}/edit", data={**form, "questions": ""}).get_data(as_text=True)
    assert "问答类内容至少需要一个问法" in empty
    assert len(runtime.services.content.library.versions(item)) == 1
    ops.post(f"/content/{item}/edit", data=form)
    versions = runtime.services.content.library.versions(item)
    assert len(versions) == 2 and versions[-1].questions == ["新股怎么申购", "怎么打新"]
    edit_page = ops.get(f"/content/{item}/edit").get_data(as_text=True)
    assert 'value="2026-12-31"' in edit_page  # the stored end-of-day bound reads back as the typed date
    new = versions[-1].id
    ops.post(f"/content/versions/{new}/submit", data={"csrf_token": token})
    comp_token = csrf_of(comp, f"/content/{item}")
    runtime.services.content.library.submit(seeded["version"], "ops")
    runtime.services.content.library.approve(seeded["version"], "comp")  # v1 live: v2 shows its changes
    review = comp.get(f"/content/{item}").get_data(as_text=True)
    assert "与线上版本相比改动了" in review and "标题" in review and "问法" in review
    page = comp.post(f"/content/versions/{new}/approve", data={"csrf_token": comp_token},
                     follow_redirects=True).get_data(as_text=True)
    assert "已审批通过并上线" in page
    assert runtime.services.content.library.get_item(item).live_version_id == new
    comp.post(f"/content/versions/{new}/retire", data={"csrf_token": comp_token, "note": "过期"})
    assert runtime.services.content.library.get_item(item).live_version_id is None


def test_author_cannot_approve_own_version(as_role, accounts, seeded, runtime):
    accounts.add("comp-author", "correct-horse-battery", "compliance")
    version = runtime.services.content.library.create_item(slug="own", kind="article", title="t", body="b",
                                                          author="comp-author")
    runtime.services.content.library.submit(version.id, "comp-author")
    client = as_role("comp-author")
    token = csrf_of(client, "/content/")
    page = client.post(f"/content/versions/{version.id}/approve", data={"csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "未做任何修改" in page and "作者不能审批自己的版本" in page
    assert runtime.services.content.library.get_version(version.id).status == "submitted"
    page = client.post(f"/content/versions/{seeded['version']}/approve", data={"csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "该版本当前为「草稿」，只有「待审批」的版本可以这样操作" in page


def test_hit_test_shows_candidates_scores_and_reasons(as_role, seeded, runtime):
    runtime.services.content.library.submit(seeded["version"], "ops")
    runtime.services.content.library.approve(seeded["version"], "comp")
    page = as_role("adv1").get("/content/hit-test", query_string={"q": "新股怎么申购"}).get_data(as_text=True)
    assert "新股申购指南" in page and "综合得分" in page and "原因" in page
    page = as_role("adv1").get("/content/hit-test", query_string={"q": "明天哪只股票会涨"}).get_data(as_text=True)
    assert "人工处理" in page or "未命中" in page


def test_campaign_report_shows_funnel_and_lift(as_role, seeded):
    page = as_role("ops").get("/ops/campaigns/close-note").get_data(as_text=True)
    assert "收盘点评" in page and "实验组" in page and "对照组" in page
    assert "30.0%" in page and "10.0%" in page  # reply rates 12/40 and 1/10
    assert "+20.0 个百分点" in page
    assert as_role("ops").get("/ops/campaigns/nope").status_code == 404
    listing = as_role("admin").get("/ops/campaigns").get_data(as_text=True)
    assert "收盘点评" in listing


def test_dashboard_shows_inheritance_and_says_what_is_not_enabled(as_role, seeded):
    page = as_role("ops").get("/ops/").get_data(as_text=True)
    assert "进行中的客户继承" in page
    assert "advisor-wang → central-ops-01" in page and "离职继承" in page and "等待客户确认" in page
    assert "资产层级" in page and "长尾" in page and "衰退期" in page


def test_verification_status_page(as_role, seeded, runtime):
    client = as_role("comp")
    assert "尚未运行过校验" in client.get("/compliance/verification").get_data(as_text=True)
    runtime.services.archive_verifier.verify()
    page = client.get("/compliance/verification").get_data(as_text=True)
    assert "完整" in page and "校验记录数：3" in page
