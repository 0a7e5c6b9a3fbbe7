"""WeCom callback intake: verify, decrypt, parse, dedupe, store in the inbox, answer. Nothing else.

The answer must come in milliseconds (WeCom gives up after 5 s and retries), and "success" is never
sent for an event that was not stored: a failed write answers 500 so WeCom tries again.

`/wecom/<app>/callback` is served by `CallbackIntake`, a WSGI middleware that `create_app` puts in
front of Flask (the pattern Flask documents for `app.wsgi_app`). It is the one hot path of the
service: every WeCom event arrives here, and on this 2-core machine Flask's request machinery (request
context, session, URL map, hooks, response object) cost about 0.45 ms of CPU per callback, more than
the decryption, the XML parsing and the database write together. Nothing here needs sessions, CSRF
or templates, so the callback gets only what it uses; every other URL goes on to Flask.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Callable, Iterable, Mapping
from urllib.parse import parse_qsl

from bot.inbox import InboxStore
from bot.wecom.callback import CallbackCodec, CallbackRejected

logger = logging.getLogger(__name__)

_PREFIX, _SUFFIX = "/wecom/", "/callback"


def _status_line(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase}"


class CallbackIntake:
    """WSGI middleware answering `/wecom/<app>/callback` (GET: URL verification, POST: events)."""

    def __init__(self, next_app: Callable, codecs: Mapping[str, CallbackCodec], inbox: InboxStore, *,
                 max_body_bytes: int):
        self._next = next_app
        self._codecs = codecs
        self._inbox = inbox
        self._max_body = max_body_bytes

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        app_name = path[len(_PREFIX):-len(_SUFFIX)]
        if not (path.startswith(_PREFIX) and path.endswith(_SUFFIX)) or not app_name or "/" in app_name:
            return self._next(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        codec = self._codecs.get(app_name)
        if method not in ("GET", "HEAD", "POST"):
            code, text = 405, "method not allowed"
        elif codec is None:
            code, text = 404, "unknown app"
        elif method == "POST":
            code, text = self.receive(app_name, codec, environ)
        else:
            code, text = self.verify(app_name, codec, environ)
        body = text.encode() if method != "HEAD" else b""
        headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
        if code == 405:
            headers.append(("Allow", "GET, HEAD, POST"))
        start_response(_status_line(code), headers)
        return [body]

    @staticmethod
    def _params(environ: dict) -> dict[str, str]:
        # Decoded like Flask's request.args; CallbackCodec unquotes once more where WeCom double-encodes.
        return dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))

    def verify(self, app_name: str, codec: CallbackCodec, environ: dict) -> tuple[int, str]:
        args = self._params(environ)
        try:
            echo = codec.verify_url(args.get("msg_signature", ""), args.get("timestamp", ""), args.get("nonce", ""),
                                    args.get("echostr", ""))
        except CallbackRejected as exc:
            logger.warning("callback verification rejected app=%s: %s", app_name, exc.reason)
            return exc.status, exc.reason
        return 200, echo

    def _body(self, environ: dict) -> bytes | None:
        """The request body, or None when it is over the limit (read no further than the limit)."""
        try:
            declared = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            declared = -1
        if declared > self._max_body:
            return None
        stream = environ["wsgi.input"]
        data = stream.read(declared) if declared >= 0 else stream.read(self._max_body + 1)
        return None if len(data) > self._max_body else data

    def receive(self, app_name: str, codec: CallbackCodec, environ: dict) -> tuple[int, str]:
        body = self._body(environ)
        if body is None:
            return 413, "body too large"
        args = self._params(environ)
        try:
            decoded = codec.decode(body, args.get("msg_signature", ""), args.get("timestamp", ""),
                                   args.get("nonce", ""))
        except CallbackRejected as exc:
            logger.warning("callback rejected app=%s: %s", app_name, exc.reason)
            return exc.status, exc.reason
        try:
            stored = self._inbox.add(app_name, decoded.kind, decoded.dedupe_key, decoded.xml)
        except Exception:
            logger.exception("inbox write failed app=%s kind=%s", app_name, decoded.kind)
            return 500, "not stored"
        if not stored:
            logger.debug("duplicate delivery app=%s kind=%s", app_name, decoded.kind)
        return 200, "success"


def install(app, runtime) -> None:
    """Put the intake in front of the Flask app, one codec per configured callback app."""
    settings = runtime.settings
    codecs = {name: CallbackCodec(name, cfg.token, cfg.encoding_aes_key, settings.wecom.corp_id)
              for name, cfg in settings.callback_apps().items()}
    app.wsgi_app = CallbackIntake(app.wsgi_app, codecs, runtime.inbox, max_body_bytes=settings.server.max_body_bytes)


__all__ = ["CallbackIntake", "install"]
