"""Account administration for the admin role: list accounts, change a role, disable or enable.
(Creating accounts and setting passwords stays on the command line: `advisor-bot users ...`.)"""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, url_for

from bot.web.accounts import ADMIN, ROLE_LABELS, AccountError
from bot.web.auth import current_user, roles_required
from bot.web.common import accounts

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


@bp.get("/users")
@roles_required(ADMIN)
def users():
    return render_template("admin/users.html", rows=accounts().list(), roles=ROLE_LABELS)


@bp.post("/users/<username>/<any(enable, disable, role):action>")
@roles_required(ADMIN)
def change(username: str, action: str):
    if username == current_user().username and action != "enable":
        flash("不能停用或降级自己的账号", "error")
        return redirect(url_for("admin.users"))
    try:
        if action == "role":
            role = request.form.get("role", "")
            accounts().set_role(username, role)
            flash(f"已将 {username} 的角色改为 {ROLE_LABELS.get(role, role)}", "success")
        else:
            accounts().set_active(username, action == "enable")
            flash(f"已{'启用' if action == 'enable' else '停用'} {username}", "success")
    except AccountError as exc:
        flash(f"未做任何修改：{exc}", "error")
    else:
        log.info("account %s: %s by user=%s", action, "role" if action == "role" else "active", current_user().id)
    return redirect(url_for("admin.users"))
