"""JSON API for the web console: list, read, approve, edit, ignore suggestions. Thin: validate, one
service call, JSON.

Authentication: a signed-in console user (`bot.web.auth.current_user`; the actor is their WeCom
userid), or, for service-to-service calls, `Authorization: Bearer <[conversations].api_token>` with
the actor named in the request (`advisor` query parameter / `actor` JSON field).
"""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, current_app, jsonify, request

from bot.conversations.approval import InvalidEdit, NotAllowed
from bot.conversations.models import OPEN_STATES
from bot.conversations.sending import SendRetryable
from bot.conversations.store import InvalidState, SuggestionNotFound

logger = logging.getLogger(__name__)

bp = Blueprint("conversations_api", __name__, url_prefix="/api/suggestions")

STATES = {*OPEN_STATES, "sent", "ready_for_sidebar", "rejected", "expired", "failed", "handed_off"}
SUPERVISORS = {"admin", "central_ops"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _service():
    return current_app.extensions["advisor_bot"].services.conversations


def _caller() -> tuple[str | None, bool]:
    """(actor userid, may act for others). Raises 401 when nobody is authenticated."""
    header = request.headers.get("Authorization", "")
    token = _service().settings.api_token
    if header.startswith("Bearer "):
        if token and hmac.compare_digest(header[7:].strip(), token):
            body = request.get_json(silent=True) if request.method == "POST" else None
            actor = (body or {}).get("actor") if isinstance(body, dict) else None
            return actor or request.args.get("advisor"), True
        raise ApiError(401, "unauthorized", "invalid bearer token")
    try:
        from bot.web.auth import current_user
    except ImportError:
        current_user = None
    user = current_user() if current_user is not None else None
    if user is None:
        raise ApiError(401, "unauthorized", "sign in or use a bearer token")
    return (user.wecom_userid or user.username), user.role in SUPERVISORS


def _actor() -> str:
    actor, _ = _caller()
    if not actor or not isinstance(actor, str) or len(actor) > 64:
        raise ApiError(400, "actor_required", "name the acting advisor (actor)")
    return actor


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return jsonify({"error": exc.code, "message": exc.message}), exc.status


@bp.errorhandler(SuggestionNotFound)
def _not_found(exc):
    return jsonify({"error": "not_found", "message": str(exc)}), 404


@bp.errorhandler(InvalidState)
def _conflict(exc: InvalidState):
    return jsonify({"error": "invalid_state", "state": exc.state, "message": str(exc)}), 409


@bp.errorhandler(NotAllowed)
def _forbidden(exc):
    return jsonify({"error": "forbidden", "message": "not the responsible advisor"}), 403


@bp.errorhandler(InvalidEdit)
def _bad_edit(exc):
    return jsonify({"error": "invalid_text", "message": str(exc)}), 400


@bp.errorhandler(SendRetryable)
def _wecom_busy(exc):
    return jsonify({"error": "wecom_unavailable", "message": "WeCom did not confirm; retry"}), 502


@bp.get("")
def list_suggestions():
    actor, supervisor = _caller()
    advisor = request.args.get("advisor") if supervisor else actor
    state = request.args.get("state", "pending") or None
    if state is not None and state not in STATES:
        raise ApiError(400, "invalid_state_filter", f"state must be one of {sorted(STATES)}")
    try:
        limit = int(request.args.get("limit", 50))
    except ValueError:
        raise ApiError(400, "invalid_limit", "limit must be a number") from None
    return jsonify({"suggestions": _service().list_for(advisor, state, limit)})


@bp.get("/<int:suggestion_id>")
def get_suggestion(suggestion_id: int):
    actor, supervisor = _caller()
    found = _service().get(suggestion_id)
    if not supervisor and found["advisor_userid"] not in (None, actor):
        raise NotAllowed()
    return jsonify(found)


@bp.post("/<int:suggestion_id>/approve")
def approve(suggestion_id: int):
    return jsonify(_service().approve(suggestion_id, _actor()))


@bp.post("/<int:suggestion_id>/edit")
def edit(suggestion_id: int):
    body = request.get_json(silent=True)
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str):
        raise ApiError(400, "text_required", "JSON body with the new reply in `text` is required")
    return jsonify(_service().edit(suggestion_id, text, _actor()))


@bp.post("/<int:suggestion_id>/ignore")
def ignore(suggestion_id: int):
    return jsonify(_service().ignore(suggestion_id, _actor()))


__all__ = ["bp"]
