"""WeCom callback intake: verify, decrypt, parse, dedupe, store in the inbox, answer. Nothing else.

The answer must come in milliseconds (WeCom gives up after 5 s and retries), and "success" is never
sent for an event that was not stored: a failed write answers 500 so WeCom tries again.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from bot.wecom.callback import CallbackCodec, CallbackRejected

logger = logging.getLogger(__name__)

bp = Blueprint("wecom_callback", __name__)


def _codec(app_name: str) -> CallbackCodec | None:
    return current_app.extensions["advisor_bot_codecs"].get(app_name)


def _params() -> tuple[str, str, str]:
    args = request.args
    return args.get("msg_signature", ""), args.get("timestamp", ""), args.get("nonce", "")


@bp.get("/wecom/<app_name>/callback")
def verify(app_name: str):
    codec = _codec(app_name)
    if codec is None:
        return Response("unknown app", 404, mimetype="text/plain")
    signature, timestamp, nonce = _params()
    try:
        echo = codec.verify_url(signature, timestamp, nonce, request.args.get("echostr", ""))
    except CallbackRejected as exc:
        logger.warning("callback verification rejected app=%s: %s", app_name, exc.reason)
        return Response(exc.reason, exc.status, mimetype="text/plain")
    return Response(echo, 200, mimetype="text/plain")


@bp.post("/wecom/<app_name>/callback")
def receive(app_name: str):
    codec = _codec(app_name)
    if codec is None:
        return Response("unknown app", 404, mimetype="text/plain")
    signature, timestamp, nonce = _params()
    try:
        decoded = codec.decode(request.get_data(cache=False), signature, timestamp, nonce)
    except CallbackRejected as exc:
        logger.warning("callback rejected app=%s: %s", app_name, exc.reason)
        return Response(exc.reason, exc.status, mimetype="text/plain")
    try:
        stored = current_app.extensions["advisor_bot"].inbox.add(app_name, decoded.kind, decoded.dedupe_key,
                                                                 decoded.xml)
    except Exception:
        logger.exception("inbox write failed app=%s kind=%s", app_name, decoded.kind)
        return Response("not stored", 500, mimetype="text/plain")
    if not stored:
        logger.debug("duplicate delivery app=%s kind=%s", app_name, decoded.kind)
    return Response("success", 200, mimetype="text/plain")
