"""Operations dashboard: contacts by tier, lifecycle stage and owner, inheritance in progress, and the
campaign reports (delivery funnel, treated-vs-control lift). Central operations and administrators.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, render_template

from bot.web.accounts import ADMIN, CENTRAL_OPS
from bot.web.auth import roles_required
from bot.web.common import required_service, service
from bot.web.overview import ops_overview

log = logging.getLogger(__name__)

bp = Blueprint("ops", __name__, url_prefix="/ops", template_folder="templates")

OPS = (CENTRAL_OPS, ADMIN)
MEMBER_STATUS_LABELS = {"planned": "待发送", "held_out": "对照组（不触达）", "skipped": "跳过", "queued": "已排队",
                        "sent": "已送达", "not_friend": "非好友", "already_received": "今日已收到",
                        "unconfirmed": "未确认", "failed": "失败"}
CAMPAIGN_STATUS_LABELS = {"draft": "草稿", "active": "进行中", "paused": "已暂停", "ended": "已结束"}


@bp.get("/")
@roles_required(*OPS)
def dashboard():
    contacts = service("contacts")
    if contacts is None:
        return render_template("unavailable.html", title="运营看板")
    return render_template("ops/dashboard.html", overview=ops_overview(contacts))


@bp.get("/campaigns")
@roles_required(*OPS)
def campaigns():
    campaign_service = service("campaigns")
    if campaign_service is None:
        return render_template("unavailable.html", title="活动报告")
    return render_template("ops/campaigns.html", rows=campaign_service.list(), status_labels=CAMPAIGN_STATUS_LABELS)


@bp.get("/campaigns/<slug>")
@roles_required(*OPS)
def campaign(slug: str):
    campaign_service = required_service("campaigns")
    if len(slug) > 64:
        abort(404)
    from jobs.campaigns import CampaignError

    try:
        report = campaign_service.report(slug)
    except CampaignError:
        abort(404)
    return render_template("ops/campaign.html", slug=slug, report=report, status_labels=MEMBER_STATUS_LABELS)
