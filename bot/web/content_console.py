"""Content console: browse the library, edit (a new version), submit, approve/retire, hit-test.

Central operations and administrators write drafts and submit them; compliance approves, sends back
or retires (the service enforces four eyes: an author never approves their own version). Everyone
signed in may browse and try the hit-test box.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from bot.web.accounts import ADMIN, ADVISOR, CENTRAL_OPS, COMPLIANCE
from bot.web.auth import current_user, roles_required
from bot.web.common import form_text, page_args, service

log = logging.getLogger(__name__)
MARKET_TZ = ZoneInfo("Asia/Shanghai")  # content dates are Beijing calendar days

bp = Blueprint("content", __name__, url_prefix="/content", template_folder="templates")

READERS = (ADVISOR, CENTRAL_OPS, COMPLIANCE, ADMIN)
EDITORS = (CENTRAL_OPS, ADMIN)
APPROVERS = (COMPLIANCE,)
KIND_LABELS = {"faq": "问答", "article": "资讯", "education": "投教", "video": "视频", "product_note": "产品说明",
               "script": "话术"}
STATUS_LABELS = {"draft": "草稿", "submitted": "待审批", "approved": "已上线", "retired": "已下线"}
FIELD_LABELS = {"title": "标题", "body": "正文", "questions": "问法", "topics": "主题", "segments": "客群",
                "risk_level": "风险等级", "url": "链接", "valid_from": "生效日期", "valid_until": "失效日期",
                "auto_reply_allowed": "允许自动回复", "item": "内容"}
# The content schema's validation messages, as an editor reads them.
FIELD_MESSAGES = {
    "String should have at least 1 character": "不能为空",
    "must be an http(s) URL": "必须是 http(s) 链接",
    "must be a date (YYYY-MM-DD) or ISO datetime": "日期格式应为 YYYY-MM-DD",
    "an FAQ needs at least one question phrasing": "问答类内容至少需要一个问法",
    "a video item needs its link": "视频类内容需要填写链接",
    "must be after valid_from": "必须晚于生效日期",
    "must be one of R1, R2, R3, R4, R5": "必须是 R1–R5 之一",
}
EDIT_FIELDS = ("title", "body", "questions", "topics", "segments", "risk_level", "url", "valid_from",
               "valid_until")
LIST_FIELDS = ("questions", "topics", "segments")


def _content():
    return service("content")


def _labels():
    return {"kind_labels": KIND_LABELS, "status_labels": STATUS_LABELS}


def _failed(exc: Exception) -> None:
    """Flash a content-service refusal in Chinese, naming the fields."""
    problems = getattr(exc, "problems", None)
    if problems:
        detail = "；".join(f"{FIELD_LABELS.get(f, f)}：{FIELD_MESSAGES.get(m, m)}" for f, m in problems)
        flash(f"内容校验未通过，未做任何修改。{detail}", "error")
    else:
        flash(f"操作未完成，未做任何修改：{_chinese(str(exc))}", "error")


def _chinese(message: str) -> str:
    """The content service's workflow refusals, in the officer's language."""
    if "author of a version cannot approve" in message:
        return "版本的作者不能审批自己的版本（四眼原则）"
    found = re.search(r"is (\w+), expected (\w+)", message)
    if found:
        now, wanted = (STATUS_LABELS.get(x, x) for x in found.groups())
        return f"该版本当前为「{now}」，只有「{wanted}」的版本可以这样操作"
    return message


def _changed_fields(version, live) -> list[str]:
    """Labels of the fields in which ``version`` differs from the live version (for the approver)."""
    from content.schema import CONTENT_FIELDS

    return [FIELD_LABELS.get(name, name) for name in CONTENT_FIELDS
            if getattr(version, name) != getattr(live, name)]


def _date_text(value: datetime | None, *, until: bool) -> str:
    """A stored bound as the author typed it: a Beijing date (valid_until is stored as the next midnight)."""
    if value is None:
        return ""
    local = value.astimezone(MARKET_TZ)
    if local.time() == time(0):
        return (local - timedelta(days=1) if until else local).strftime("%Y-%m-%d")
    return local.isoformat(timespec="minutes")


def _errors():
    from content.schema import FieldError
    from content.service import ContentError

    return (ContentError, FieldError)


@bp.get("/")
@roles_required(*READERS)
def index():
    content = _content()
    if content is None:
        return render_template("content/index.html", unavailable=True, **_labels())
    limit, offset = page_args()
    kind = request.args.get("kind") or None
    status = request.args.get("status") or None
    if kind not in KIND_LABELS:
        kind = None
    if status not in STATUS_LABELS:
        status = None
    search = (request.args.get("q") or "").strip()[:100] or None
    items = content.library.list_items(kind=kind, status=status, search=search, limit=limit + 1, offset=offset)
    return render_template("content/index.html", items=items[:limit], has_more=len(items) > limit,
                           page=offset // limit + 1, kind=kind, status=status, q=search or "", **_labels())


@bp.get("/<int:item_id>")
@roles_required(*READERS)
def item(item_id: int):
    content = _content()
    if content is None:
        abort(404)
    found = content.library.get_item(item_id)
    if found is None:
        abort(404)
    versions = content.library.versions(item_id)
    live = next((v for v in versions if v.id == found.live_version_id), None)
    changes = {v.id: _changed_fields(v, live) for v in versions if live is not None and v.id != live.id}
    return render_template("content/item.html", item=found, versions=list(reversed(versions)), changes=changes,
                           can_edit=current_user().role in EDITORS, can_approve=current_user().role in APPROVERS,
                           **_labels())


@bp.route("/<int:item_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(item_id: int):
    content = _content()
    if content is None:
        abort(404)
    found = content.library.get_item(item_id)
    if found is None:
        abort(404)
    latest = content.library.get_version(found.latest_version_id)
    if request.method == "GET":
        values = {name: getattr(latest, name) for name in EDIT_FIELDS}
        for name in LIST_FIELDS:
            values[name] = "\n".join(values[name] or [])
        values["auto_reply_allowed"] = latest.auto_reply_allowed
        values["valid_from"] = _date_text(latest.valid_from, until=False)
        values["valid_until"] = _date_text(latest.valid_until, until=True)
        return render_template("content/edit.html", item=found, latest=latest, values=values, **_labels())
    values = {name: (request.form.get(name) or "").strip() for name in EDIT_FIELDS}
    values["auto_reply_allowed"] = request.form.get("auto_reply_allowed") == "on"
    try:
        version = content.library.edit_item(item_id, current_user().username, **values)
    except _errors() as exc:
        _failed(exc)
        return render_template("content/edit.html", item=found, latest=latest, values=values, **_labels()), 400
    log.info("content edited item=%s version=%s by user=%s", item_id, version.id, current_user().id)
    flash(f"已保存为新版本 v{version.number}（草稿）", "success")
    return redirect(url_for("content.item", item_id=item_id))


def _transition(version_id: int, action: str, done: str):
    content = _content()
    if content is None:
        abort(404)
    version = content.library.get_version(version_id)
    if version is None:
        abort(404)
    user = current_user()
    note = form_text("note", max_len=500)
    if note is None:
        return redirect(url_for("content.item", item_id=version.item_id))
    try:
        if action == "submit":
            content.library.submit(version_id, user.username)
        elif action == "approve":
            content.library.approve(version_id, user.username)
        elif action == "reject":
            content.library.reject(version_id, user.username, note or None)
        else:
            content.library.retire(version.item_id, user.username, note or None)
    except _errors() as exc:
        _failed(exc)
    else:
        log.info("content %s version=%s by user=%s", action, version_id, user.id)
        flash(done, "success")
    return redirect(url_for("content.item", item_id=version.item_id))


@bp.post("/versions/<int:version_id>/submit")
@roles_required(*EDITORS)
def submit(version_id: int):
    return _transition(version_id, "submit", "已提交审批")


@bp.post("/versions/<int:version_id>/approve")
@roles_required(*APPROVERS)
def approve(version_id: int):
    return _transition(version_id, "approve", "已审批通过并上线")


@bp.post("/versions/<int:version_id>/reject")
@roles_required(*APPROVERS)
def reject(version_id: int):
    return _transition(version_id, "reject", "已退回修改")


@bp.post("/versions/<int:version_id>/retire")
@roles_required(*APPROVERS)
def retire(version_id: int):
    return _transition(version_id, "retire", "已下线")


@bp.get("/hit-test")
@roles_required(*READERS)
def hit_test():
    content = _content()
    question = (request.args.get("q") or "").strip()
    if content is None:
        return render_template("content/hit_test.html", unavailable=True, q=question)
    if len(question) > 500:
        flash("问题过长（最多 500 个字符）", "error")
        question = ""
    result = content.matcher.match(question, k=5) if question else None
    return render_template("content/hit_test.html", q=question, result=result, **_labels())
