"""Advisor workspace: the approval queue (approve / edit then send / ignore) and the client page.

Advisors see only their own clients and suggestions (their WeCom userid must be an active owner, or
the suggestion routed to them); central operations and administrators may open any client page
read-only. Every refusal is logged (user id, path, reason).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from bot.web.accounts import ADMIN, ADVISOR, CENTRAL_OPS, may_see_client
from bot.web.auth import current_user, forbid, roles_required
from bot.web.common import feature, form_text, required_service, service

log = logging.getLogger(__name__)

bp = Blueprint("advisor", __name__, url_prefix="/advisor", template_folder="templates")

CLIENT_READERS = (ADVISOR, CENTRAL_OPS, ADMIN)
PENDING, READY_FOR_SIDEBAR = "pending", "ready_for_sidebar"
STATE_LABELS = {"pending": "待审", "approved": "已批准", "sending": "发送中", "sent": "已发送",
                "ready_for_sidebar": "待在聊天工具栏发送", "rejected": "已忽略", "expired": "已过期",
                "failed": "未发送", "handed_off": "已转人工", "created": "处理中"}
OWNER_REASON_LABELS = {"add": "添加", "add_half": "单向添加", "transfer": "在职继承", "resigned_transfer": "离职继承",
                       "del_external_contact": "投顾删除客户", "del_follow_user": "客户删除投顾",
                       "resync": "同步修正"}
ACTION_LABELS = {"approve": "批准", "edit": "修改", "ignore": "忽略"}


def load_client(external_userid: str):
    """The contact (dict) if the current user may see it; 404 unknown, 403 someone else's client.
    None while the contacts service is not installed."""
    contacts = service("contacts")
    if contacts is None:
        return None
    if not external_userid or len(external_userid) > 64:
        abort(404)
    contact = contacts.get(external_userid)
    if contact is None:
        abort(404)
    owners = [o["userid"] for o in contact.get("owners", []) if o.get("status") == "active"]
    if not may_see_client(current_user(), owners):
        forbid("client owned by another advisor")
    return contact


def may_act_on(suggestion: dict, conversations) -> bool:
    """The suggestion is routed to the signed-in advisor, or unrouted and they are in the pool."""
    mine = current_user().wecom_userid
    if not mine:
        return False
    routed = suggestion.get("advisor_userid")
    return routed == mine or (routed is None and mine in conversations.settings.pool_advisors)


def suggestion_to_act_on(suggestion_id: int) -> tuple[Any, dict]:
    """The conversations service and the suggestion, if the signed-in advisor may act on it (else 404/403)."""
    conversations = required_service("conversations")
    try:
        found = conversations.get(suggestion_id)
    except LookupError:
        abort(404)
    if not may_act_on(found, conversations):
        forbid("suggestion routed to another advisor")
    return conversations, found


def suggestions_for_me(conversations, state: str) -> list[dict]:
    mine = current_user().wecom_userid
    if not mine:
        return []
    rows = conversations.list_for(mine, state, 200)
    if mine in conversations.settings.pool_advisors:
        rows += [s for s in conversations.list_for(None, state, 200) if s["advisor_userid"] is None]
    return sorted(rows, key=lambda s: s["id"])


def refusal_text(exc: Exception, action: str) -> str:
    """A conversations-service refusal in Chinese for the flash message."""
    from bot.conversations.store import InvalidState

    name = type(exc).__name__
    if isinstance(exc, InvalidState):
        return f"该建议当前为「{STATE_LABELS.get(exc.state, exc.state)}」，不能{ACTION_LABELS.get(action, action)}"
    if isinstance(exc, PermissionError):
        return "该建议不归您处理"
    if name == "InvalidEdit":
        return f"回复内容无效（{exc}）"
    if name == "SendRetryable":
        return "企业微信暂未确认发送，请稍后重试"
    if name == "DependencyMissing":
        return "合规检查服务不可用，消息未发送"
    return f"操作未完成（{exc}）"


def outcome_flash(result: dict) -> None:
    state = result.get("state")
    if state == "sent":
        flash("已发送给客户", "success")
    elif state == READY_FOR_SIDEBAR:
        flash("已批准：请在企业微信与客户的聊天窗口，通过聊天工具栏「回复建议」发送", "success")
    elif state == "rejected":
        flash("已忽略", "success")
    elif state == "failed":
        flash(f"未发送：{result.get('last_error') or '未通过发送前检查'}", "error")
    else:
        flash(f"已提交，当前状态：{STATE_LABELS.get(state, state)}", "info")


def recent_conversation(archive, external_userid: str, limit: int = 30) -> list[dict]:
    """An advisor sees their own chats with the client and the bot's (kf) conversation with them;
    central operations and administrators see everything archived for the client. Newest first."""
    user = current_user()
    if user.role != ADVISOR:
        return archive.search(client=external_userid, limit=limit)
    rows = archive.search(client=external_userid, advisor=user.wecom_userid, limit=limit)
    rows += archive.search(client=external_userid, channel="kf", limit=limit)
    unique = {row["id"]: row for row in rows}
    return sorted(unique.values(), key=lambda r: (r["sent_at"], r["id"]), reverse=True)[:limit]


def _refusals() -> tuple[type[BaseException], ...]:
    from bot.conversations.store import InvalidState

    return (InvalidState, LookupError, ValueError, RuntimeError, PermissionError)


@bp.get("/")
@roles_required(ADVISOR)
def queue():
    conversations = service("conversations")
    if conversations is None:
        return render_template("unavailable.html", title="待审建议")
    items = suggestions_for_me(conversations, PENDING)
    waiting = suggestions_for_me(conversations, READY_FOR_SIDEBAR)
    from bot.conversations.policy import reason_label

    return render_template("advisor/queue.html", items=items, waiting=waiting, reason_label=reason_label,
                           bound=bool(current_user().wecom_userid))


def _act(suggestion_id: int, action: str):
    conversations, _found = suggestion_to_act_on(suggestion_id)
    actor = current_user().wecom_userid
    text = None
    if action == "edit":
        text = form_text("text", max_len=2000, required=True)
        if text is None:
            return redirect(url_for("advisor.queue"))
    try:
        if action == "approve":
            result = conversations.approve(suggestion_id, actor)
        elif action == "edit":
            result = conversations.edit(suggestion_id, text, actor)
        else:
            result = conversations.ignore(suggestion_id, actor)
    except _refusals() as exc:
        log.info("suggestion %s %s refused for user=%s: %s", suggestion_id, action, current_user().id,
                 type(exc).__name__)
        flash(refusal_text(exc, action), "error")
    else:
        log.info("suggestion %s %s by user=%s -> %s", suggestion_id, action, current_user().id, result.get("state"))
        outcome_flash(result)
    return redirect(url_for("advisor.queue"))


@bp.post("/suggestions/<int:suggestion_id>/approve")
@roles_required(ADVISOR)
def approve(suggestion_id: int):
    return _act(suggestion_id, "approve")


@bp.post("/suggestions/<int:suggestion_id>/edit")
@roles_required(ADVISOR)
def edit(suggestion_id: int):
    return _act(suggestion_id, "edit")


@bp.post("/suggestions/<int:suggestion_id>/ignore")
@roles_required(ADVISOR)
def ignore(suggestion_id: int):
    return _act(suggestion_id, "ignore")


@bp.get("/clients")
@roles_required(*CLIENT_READERS)
def clients():
    clients_of = feature("contacts", "clients_of")
    if clients_of is None:
        return render_template("unavailable.html", title="我的客户")
    user = current_user()
    owner = user.wecom_userid if user.role == ADVISOR else (request.args.get("owner") or "").strip()[:64]
    rows = clients_of(owner) if owner else []
    return render_template("advisor/clients.html", rows=rows, owner=request.args.get("owner", ""))


@bp.get("/clients/<external_userid>")
@roles_required(*CLIENT_READERS)
def client(external_userid: str):
    contact = load_client(external_userid)
    if contact is None:
        return render_template("unavailable.html", title="客户详情")
    archive = service("archive_search")
    messages = recent_conversation(archive, external_userid) if archive else None
    conversations = service("conversations")
    pending = None
    if conversations is not None:
        user = current_user()
        rows = (suggestions_for_me(conversations, PENDING) if user.role == ADVISOR
                else conversations.list_for(None, PENDING, 200))
        pending = [s for s in rows if s["external_userid"] == external_userid]
    return render_template("advisor/client.html", contact=contact, messages=list(reversed(messages or [])),
                           has_messages=messages is not None, pending=pending, state_labels=STATE_LABELS,
                           reason_labels=OWNER_REASON_LABELS)
