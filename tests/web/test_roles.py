"""The role matrix: each role sees exactly what it should, by navigation and by direct URL."""

from __future__ import annotations

import logging

from tests.web.conftest import csrf_of

ROLES = ("adv1", "adv2", "ops", "comp", "admin")


def matrix(ids):
    """(method, path) -> the users that get 200; everyone else gets 403."""
    return {
        ("GET", "/advisor/"): {"adv1", "adv2"},
        ("GET", "/advisor/clients/wm-li-client"): {"adv1", "ops", "admin"},
        ("GET", "/advisor/clients/wm-wang-client"): {"adv2", "ops", "admin"},
        ("GET", "/sidebar/"): {"adv1", "adv2"},
        ("GET", "/sidebar/client/wm-li-client"): {"adv1"},
        ("GET", "/compliance/"): {"comp"},
        ("GET", "/compliance/search?q=保本"): {"comp"},
        ("GET", f"/compliance/alerts/{ids['alert']}"): {"comp"},
        ("GET", "/compliance/conversations/wm-li-client"): {"comp"},
        ("GET", "/compliance/holds"): {"comp"},
        ("GET", "/compliance/verification"): {"comp"},
        ("GET", "/content/"): {"adv1", "adv2", "ops", "comp", "admin"},
        ("GET", f"/content/{ids['item']}"): {"adv1", "adv2", "ops", "comp", "admin"},
        ("GET", "/content/hit-test?q=新股怎么申购"): {"adv1", "adv2", "ops", "comp", "admin"},
        ("GET", f"/content/{ids['item']}/edit"): {"ops", "admin"},
        ("GET", "/ops/"): {"ops", "admin"},
        ("GET", "/ops/campaigns"): {"ops", "admin"},
        ("GET", "/ops/campaigns/close-note"): {"ops", "admin"},
        ("GET", "/admin/users"): {"admin"},
    }


def test_role_matrix(as_role, seeded, caplog):
    caplog.set_level(logging.WARNING, logger="bot.web.access")
    clients = {name: as_role(name) for name in ROLES}
    failures = []
    for (method, path), allowed in matrix(seeded).items():
        for name, client in clients.items():
            status = client.open(path, method=method).status_code
            expected = 200 if name in allowed else 403
            if status != expected:
                failures.append(f"{name} {method} {path}: {status} (expected {expected})")
    assert not failures, "\n".join(failures)
    assert "reason=client owned by another advisor" in caplog.text
    assert "reason=role advisor not in compliance" in caplog.text
    assert "测试客户" not in caplog.text  # no client names in the access log


def test_advisor_queue_shows_only_own_suggestions(as_role, seeded):
    page = as_role("adv1").get("/advisor/").get_data(as_text=True)
    assert "新股怎么申购" in page and "怎么开通创业板" not in page
    assert 'data-queue' in page and "<kbd>j</kbd>" in page


def test_acting_on_another_advisors_suggestion_is_refused(as_role, seeded, runtime, caplog):
    caplog.set_level(logging.WARNING, logger="bot.web.access")
    client = as_role("adv1")
    token = csrf_of(client, "/advisor/")
    for action in ("approve", "ignore", "edit"):
        response = client.post(f"/advisor/suggestions/{seeded['s_wang']}/{action}",
                               data={"csrf_token": token, "text": "x"})
        assert response.status_code == 403
    assert runtime.services.conversations.get(seeded["s_wang"])["state"] == "pending"
    assert "reason=suggestion routed to another advisor" in caplog.text
    response = client.post(f"/sidebar/suggestions/{seeded['s_wang']}/send", json={"text": "x"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 403


def test_client_page_shows_tags_inheritance_chat_and_pending(as_role, seeded):
    page = as_role("adv1").get("/advisor/clients/wm-li-client").get_data(as_text=True)
    assert "测试客户甲" in page and "长尾" in page and "衰退期" in page
    assert "advisor-old" in page and "离职继承" in page  # inherited-from history
    assert "稳赚不赔" in page  # recent conversation from the archive
    assert "以前的服务顾问" not in page  # the previous owner's chats are theirs, not the new owner's
    assert "以前的服务顾问" in as_role("ops").get("/advisor/clients/wm-li-client").get_data(as_text=True)
    assert "新股怎么申购" in page  # pending suggestion


def test_unknown_client_is_404_not_403(as_role, seeded):
    assert as_role("adv1").get("/advisor/clients/nobody-here").status_code == 404


def test_compliance_is_read_only_on_content_except_approve_and_retire(as_role, seeded):
    comp = as_role("comp")
    token = csrf_of(comp, "/content/")
    assert comp.post(f"/content/{seeded['item']}/edit", data={"csrf_token": token, "title": "x", "body": "y"}
                     ).status_code == 403
    assert comp.post(f"/content/versions/{seeded['version']}/submit", data={"csrf_token": token}).status_code == 403
    ops = as_role("ops")
    token_ops = csrf_of(ops, "/content/")
    assert ops.post(f"/content/versions/{seeded['version']}/approve", data={"csrf_token": token_ops}
                    ).status_code == 403


def test_navigation_lists_only_what_the_role_may_open(as_role, seeded):
    nav = {name: as_role(name).get("/content/").get_data(as_text=True) for name in ROLES}
    assert "合规告警" in nav["comp"] and "合规告警" not in nav["adv1"] and "合规告警" not in nav["ops"]
    assert "运营看板" in nav["ops"] and "运营看板" in nav["admin"] and "运营看板" not in nav["comp"]
    assert "待审建议" in nav["adv1"] and "待审建议" not in nav["admin"]


def test_admin_changes_roles_and_disables_accounts(as_role, accounts, seeded):
    admin = as_role("admin")
    token = csrf_of(admin, "/admin/users")
    admin.post("/admin/users/adv2/role", data={"csrf_token": token, "role": "central_ops"})
    assert accounts.by_username("adv2").role == "central_ops"
    page = admin.post("/admin/users/adv2/role", data={"csrf_token": token, "role": "root"},
                      follow_redirects=True).get_data(as_text=True)
    assert "未做任何修改" in page and accounts.by_username("adv2").role == "central_ops"
    victim = as_role("adv1")
    admin.post("/admin/users/adv1/disable", data={"csrf_token": token})
    assert victim.get("/advisor/").status_code == 302  # signed out at once
    page = admin.post("/admin/users/admin/disable", data={"csrf_token": token}, follow_redirects=True)
    assert "不能停用或降级自己的账号" in page.get_data(as_text=True) and accounts.by_username("admin").active
    ops = as_role("ops")
    assert ops.post("/admin/users/adv2/enable", data={"csrf_token": csrf_of(ops, "/ops/")}).status_code == 403
