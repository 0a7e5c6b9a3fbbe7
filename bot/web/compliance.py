"""Compliance console: archive search, the alert queue and its dispositions, a conversation view with
alerts inline, case export, archive verification status and legal holds. Compliance role only.

Archived content is read-only here; the only writes are alert dispositions and legal holds, each
attributed to the signed-in officer (``web:<username>``).
"""

from __future__ import annotations

import io
import logging
import zipfile
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from bot.web.accounts import COMPLIANCE
from bot.web.auth import current_user, roles_required
from bot.web.common import form_text, page_args, required_service, runtime, service, web_settings

log = logging.getLogger(__name__)

bp = Blueprint("compliance", __name__, url_prefix="/compliance", template_folder="templates")

ALERT_STATUS_LABELS = {"open": "待处理", "claimed": "处理中", "escalated": "已升级", "closed": "已结案"}
OUTCOME_LABELS = {"violation": "违规", "false_positive": "误报", "no_action": "无需处理"}
CHANNEL_LABELS = {"kf": "微信客服", "chat": "投顾私聊", "app": "应用消息", "mass": "企业群发"}


def _actor() -> str:
    return f"web:{current_user().username}"


def _tz() -> ZoneInfo:
    return ZoneInfo(runtime().settings.app.timezone)


def _day(text: str, *, end: bool) -> datetime | None:
    """A YYYY-MM-DD local day as a UTC bound (end: the next midnight, exclusive)."""
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise ValueError("日期格式应为 YYYY-MM-DD") from None
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=_tz())


@bp.get("/search")
@roles_required(COMPLIANCE)
def search():
    archive = service("archive_search")
    if archive is None:
        return render_template("unavailable.html", title="存档检索")
    args = {k: (request.args.get(k) or "").strip()[:200] for k in ("q", "advisor", "client", "from", "to",
                                                                    "channel", "alerts")}
    limit, offset = page_args()
    rows, searched = [], any(args.values())
    if searched:
        try:
            rows = archive.search(text=args["q"] or None, advisor=args["advisor"] or None,
                                  client=args["client"] or None, date_from=_day(args["from"], end=False),
                                  date_to=_day(args["to"], end=True), channel=args["channel"] or None,
                                  alert_status=args["alerts"] or None, limit=limit + 1, offset=offset)
        except ValueError as exc:
            flash(f"检索条件有误：{exc}", "error")
            rows = []
    return render_template("compliance/search.html", args=args, rows=rows[:limit], has_more=len(rows) > limit,
                           page=offset // limit + 1, searched=searched, channel_labels=CHANNEL_LABELS,
                           status_labels=ALERT_STATUS_LABELS)


@bp.get("/conversations/<external_userid>")
@roles_required(COMPLIANCE)
def conversation(external_userid: str):
    archive = service("archive_search")
    if archive is None:
        return render_template("unavailable.html", title="会话记录")
    if len(external_userid) > 64:
        abort(404)
    limit, offset = page_args()
    rows = archive.search(client=external_userid, limit=limit + 1, offset=offset)
    return render_template("compliance/conversation.html", external_userid=external_userid,
                           rows=list(reversed(rows[:limit])), has_more=len(rows) > limit, page=offset // limit + 1,
                           status_labels=ALERT_STATUS_LABELS, highlight=request.args.get("alert", type=int))


@bp.get("/")
@roles_required(COMPLIANCE)
def alerts():
    review = service("review")
    if review is None:
        return render_template("unavailable.html", title="合规告警")
    status = request.args.get("status") or None
    if status not in ALERT_STATUS_LABELS:
        status = None  # everything not closed
    mine = request.args.get("mine") == "1"
    rows = review.queue(status=status, assignee=_actor() if mine else None, limit=web_settings().page_size)
    return render_template("compliance/alerts.html", rows=rows, status=status, mine=mine,
                           status_labels=ALERT_STATUS_LABELS, outcome_labels=OUTCOME_LABELS)


@bp.get("/alerts/<int:alert_id>")
@roles_required(COMPLIANCE)
def alert(alert_id: int):
    review = required_service("review")
    try:
        found = review.get(alert_id)
    except ValueError:
        abort(404)
    return render_template("compliance/alert.html", alert=found["alert"], message=found["message"],
                           trail=found["trail"], me=_actor(), status_labels=ALERT_STATUS_LABELS,
                           outcome_labels=OUTCOME_LABELS, export_ready=service("case_export") is not None)


def _disposition(alert_id: int, action: str):
    review = required_service("review")
    note = form_text("note", max_len=2000, required=action in ("comment", "escalate", "reopen"))
    if note is None:
        return redirect(url_for("compliance.alert", alert_id=alert_id))
    outcome = request.form.get("outcome", "")
    if action == "close" and outcome not in OUTCOME_LABELS:
        flash("请选择结案结论（确认违规 / 误报 / 无需处理）", "error")
        return redirect(url_for("compliance.alert", alert_id=alert_id))
    try:
        if action == "claim":
            review.claim(alert_id, by=_actor())
        elif action == "comment":
            review.comment(alert_id, note, by=_actor())
        elif action == "close":
            review.close(alert_id, outcome, by=_actor(), note=note)
        elif action == "escalate":
            review.escalate(alert_id, by=_actor(), note=note)
        else:
            review.reopen(alert_id, by=_actor(), reason=note)
    except ValueError as exc:
        flash(f"操作未完成，未做任何修改：{exc}", "error")
    else:
        log.info("alert %s %s by user=%s", alert_id, action, current_user().id)
        flash({"claim": "已认领", "comment": "已添加备注", "close": "已结案", "escalate": "已升级",
               "reopen": "已重新打开"}[action], "success")
    return redirect(url_for("compliance.alert", alert_id=alert_id))


@bp.post("/alerts/<int:alert_id>/<any(claim, comment, close, escalate, reopen):action>")
@roles_required(COMPLIANCE)
def disposition(alert_id: int, action: str):
    return _disposition(alert_id, action)


@bp.post("/alerts/<int:alert_id>/export")
@roles_required(COMPLIANCE)
def export(alert_id: int):
    """Export the case (messages around the alert, alerts, audit trail, manifest) and download it as a zip."""
    exporter = required_service("case_export")
    try:
        done = exporter.export(by=_actor(), case=alert_id)
    except ValueError as exc:
        flash(f"导出失败：{exc}", "error")
        return redirect(url_for("compliance.alert", alert_id=alert_id))
    log.info("case exported alert=%s export=%s by user=%s", alert_id, done["export_id"], current_user().id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(Path(done["directory"]).iterdir()):
            archive.write(path, f"{done['export_id']}/{path.name}")
    return Response(buffer.getvalue(), mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{done["export_id"]}.zip"',
                             "X-Manifest-SHA256": done["manifest_sha256"]})


@bp.get("/verification")
@roles_required(COMPLIANCE)
def verification():
    verifier = service("archive_verifier")
    if verifier is None:
        return render_template("unavailable.html", title="存档校验")
    return render_template("compliance/verification.html", result=verifier.last_result())


@bp.get("/holds")
@roles_required(COMPLIANCE)
def holds():
    hold_service = service("holds")
    if hold_service is None:
        return render_template("unavailable.html", title="法律保全")
    show_all = request.args.get("all") == "1"
    return render_template("compliance/holds.html", rows=hold_service.list(active_only=not show_all),
                           show_all=show_all)


@bp.post("/holds")
@roles_required(COMPLIANCE)
def place_hold():
    hold_service = required_service("holds")
    kind = request.form.get("kind")
    target = form_text("target", max_len=64, required=True)
    reason = form_text("reason", max_len=500, required=True)
    if target and reason:
        if kind not in ("client", "advisor"):
            flash("请选择保全对象类型", "error")
        else:
            try:
                hold_id = hold_service.place(external_userid=target if kind == "client" else None,
                                             userid=target if kind == "advisor" else None, reason=reason, by=_actor())
            except ValueError as exc:
                flash(f"未能设置保全：{exc}", "error")
            else:
                log.info("legal hold %s placed by user=%s", hold_id, current_user().id)
                flash("已设置法律保全", "success")
    return redirect(url_for("compliance.holds"))


@bp.post("/holds/<int:hold_id>/release")
@roles_required(COMPLIANCE)
def release_hold(hold_id: int):
    hold_service = required_service("holds")
    reason = form_text("reason", max_len=500, required=True)
    if reason:
        try:
            hold_service.release(hold_id, reason=reason, by=_actor())
        except ValueError as exc:
            flash(f"未能解除保全：{exc}", "error")
        else:
            flash("已解除法律保全", "success")
    return redirect(url_for("compliance.holds"))
