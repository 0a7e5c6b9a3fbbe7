"""The chat-toolbar sidebar (聊天工具栏): the suggestions for the client whose chat is open.

The page asks the server for a JS-SDK signature for its own URL, calls ``wx.config`` and
``wx.agentConfig``, learns the client with ``getCurExternalContact``, loads that client's suggestions
from here (ownership checked like the client page), and sends a chosen reply with ``sendChatMessage``
after the server has passed it through the conversations service (pre-send compliance check, record).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, jsonify, render_template, request
from wechatpy.exceptions import WeChatClientException

from bot.web.accounts import ADVISOR
from bot.web.advisor import (PENDING, READY_FOR_SIDEBAR, STATE_LABELS, _refusals, load_client, refusal_text,
                              suggestion_to_act_on, suggestions_for_me)
from bot.web.auth import current_user, roles_required
from bot.web.common import runtime, service, web_settings
from bot.web.jssdk import JsSdkSigner

log = logging.getLogger(__name__)

bp = Blueprint("sidebar", __name__, url_prefix="/sidebar", template_folder="templates")


@bp.get("/")
@roles_required(ADVISOR)
def page():
    return render_template("sidebar/page.html", enabled=service("conversations") is not None)


def _allowed_page_url(url: str) -> bool:
    """Only our own sidebar pages get signatures (the endpoint is not a signing oracle)."""
    parts = urlsplit(url)
    base = web_settings().oauth_redirect_base_url or request.host_url.rstrip("/")
    origin = urlsplit(base)
    return (parts.scheme, parts.netloc) == (origin.scheme, origin.netloc) and parts.path.startswith("/sidebar")


@bp.get("/jssdk-config")
@roles_required(ADVISOR)
def jssdk_config():
    url = (request.args.get("url") or "").split("#", 1)[0]
    if not url or len(url) > 1024 or not _allowed_page_url(url):
        return jsonify({"error": "bad_url", "message": "页面地址无效"}), 400
    rt = runtime()
    try:
        config = JsSdkSigner(rt.wecom.client(web_settings().wecom_app), rt.clock).config_for(url)
    except (KeyError, WeChatClientException) as exc:
        log.warning("jssdk signature failed: %s", type(exc).__name__)
        return jsonify({"error": "unavailable", "message": "暂时无法获取企业微信签名，请稍后重试"}), 503
    return jsonify(config.as_dict())


@bp.get("/client/<external_userid>")
@roles_required(ADVISOR)
def client_suggestions(external_userid: str):
    conversations = service("conversations")
    contact = load_client(external_userid)
    if contact is None or conversations is None:
        return render_template("sidebar/_suggestions.html", unavailable=True)
    rows = suggestions_for_me(conversations, READY_FOR_SIDEBAR) + suggestions_for_me(conversations, PENDING)
    items = [s for s in rows if s["external_userid"] == external_userid]
    return render_template("sidebar/_suggestions.html", contact=contact, items=items)


@bp.post("/suggestions/<int:suggestion_id>/send")
@roles_required(ADVISOR)
def send(suggestion_id: int):
    """Approve (or edit) a reply the advisor sends from their own chat window; answers the text to
    put into the chat. The conversations service runs the pre-send compliance check and records it;
    the archived copy of the sent message later marks the suggestion sent."""
    conversations, found = suggestion_to_act_on(suggestion_id)
    body = request.get_json(silent=True)
    text = ((body.get("text") if isinstance(body, dict) else "") or "").strip()
    if not text or len(text) > 2000:
        return jsonify({"error": "bad_text", "message": "回复内容不能为空，且不超过 2000 字"}), 400
    actor = current_user().wecom_userid
    try:
        if found["state"] == READY_FOR_SIDEBAR and text == (found["final_text"] or "").strip():
            result = found  # already approved; sending it again from the chat is what is left to do
        elif text == (found["final_text"] or found["proposed_text"] or "").strip():
            result = conversations.approve(suggestion_id, actor)
        else:
            result = conversations.edit(suggestion_id, text, actor)
    except _refusals() as exc:
        return jsonify({"error": "refused", "message": refusal_text(exc, "approve")}), 409
    if result["state"] == READY_FOR_SIDEBAR:
        return jsonify({"state": result["state"], "text": result["final_text"]})
    if result["state"] == "sent":
        return jsonify({"state": "sent", "text": None, "message": "已由系统发送给客户"})
    why = result.get("last_error") or STATE_LABELS.get(result["state"], result["state"])
    return jsonify({"error": "not_sendable", "state": result["state"], "message": f"未发送：{why}"}), 409
