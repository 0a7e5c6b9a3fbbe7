"""The HTTP face of the simulator: WeCom's /cgi-bin/ API and /_sim/ control endpoints (werkzeug)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from . import errors as E
from .errors import WeComError

if TYPE_CHECKING:
    from .simulator import Simulator

PREFIX = "/cgi-bin/"
CONTROL = "/_sim/"


@dataclass
class LoggedRequest:
    path: str  # API path without /cgi-bin/, e.g. "kf/send_msg"
    method: str
    params: dict
    body: Any
    errcode: int | None = None
    app: str | None = None
    at: datetime | None = None
    extra: dict = field(default_factory=dict)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if hasattr(value, "__dict__"):
        return {k: v for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)


def _respond(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False, default=_json_default), status=status,
                    content_type="application/json; charset=utf-8")


class _QuietHandler(WSGIRequestHandler):
    """No access log: query strings carry access tokens and secrets."""

    def log_request(self, *args, **kwargs) -> None:
        pass


class SimulatorServer:
    def __init__(self, sim: "Simulator"):
        self.sim = sim
        self._server = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server = make_server(host, port, self, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="wecom-sim", daemon=True)
        self._thread.start()
        return f"http://{host}:{self._server.server_port}{PREFIX}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    # ---- WSGI
    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path.startswith(PREFIX):
            response = self._api(request, request.path[len(PREFIX):].strip("/"))
        elif request.path.startswith(CONTROL):
            response = self._control(request, request.path[len(CONTROL):].strip("/"))
        else:
            response = _respond({"errcode": 404, "errmsg": "not found"}, 404)
        return response(environ, start_response)

    def _api(self, request: Request, path: str) -> Response:
        sim = self.sim
        params = request.args.to_dict()
        token = params.pop("access_token", None)
        body: Any = None
        if request.method == "POST" and request.get_data():
            try:
                body = json.loads(request.get_data().decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                body = request.get_data(as_text=True)
        logged = {k: ("***" if k == "corpsecret" else v) for k, v in params.items()}
        entry = LoggedRequest(path, request.method, logged, body, at=sim.clock.now())
        with sim.lock:
            sim.requests.append(entry)
        delay = sim.faults.delay_for(path)
        if delay:
            time.sleep(delay)  # outside the lock: slow answers must not block other calls
        try:
            payload = self._handle(path, token, params, body, entry)
        except WeComError as exc:
            payload = exc.body()
        if payload is None:
            return _respond({"errcode": 404, "errmsg": f"unknown api {path}"}, 404)
        entry.errcode = payload.get("errcode")
        sim.flush_async()
        return _respond(payload)

    def _handle(self, path: str, token: str | None, params: dict, body: Any, entry: LoggedRequest) -> dict | None:
        sim = self.sim
        handler = sim.routes.get(path)
        if handler is None and path != "gettoken":
            return None
        failure = sim.faults.take_failure(path)
        if failure is not None:
            return WeComError(failure, "injected").body()
        if body is not None and not isinstance(body, dict):
            raise WeComError(E.BAD_JSON)
        merged = {**params, **(body or {})}
        with sim.lock:
            sim.core.settle()
            if path == "gettoken":
                return sim.core.issue_token(params.get("corpid"), params.get("corpsecret"))
            app = sim.core.check_token(token)
            entry.app = app.name
            sim.core.hit_api(path)
            merged["_app"] = app  # endpoints that care (message/send agentid) read the calling app
            return handler(merged)

    def _control(self, request: Request, name: str) -> Response:
        """POST /_sim/<method> with JSON keyword arguments calls the whitelisted Python API method."""
        if name not in self.sim.CONTROL_METHODS:
            return _respond({"errcode": 404, "errmsg": f"unknown control {name}"}, 404)
        try:
            kwargs = request.get_json(force=True, silent=True) or {}
            result = getattr(self.sim, name)(**kwargs)
        except (TypeError, ValueError, KeyError, WeComError) as exc:
            return _respond({"errcode": 400, "errmsg": str(exc)}, 400)
        return _respond({"errcode": 0, "errmsg": "ok", "result": result})
