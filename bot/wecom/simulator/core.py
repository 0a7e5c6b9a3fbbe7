"""Shared simulator state: the clock, apps, members, access tokens, rate limits, ids and the outbox
of callbacks that state changes produce. Domain modules (contacts, kf, ...) hold a `Core`."""

from __future__ import annotations

import itertools
import secrets
import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from bot.clock import ManualClock

from . import errors as E
from .errors import WeComError, require

TOKEN_TTL = timedelta(seconds=7200)
CHINA = timezone(timedelta(hours=8))  # WeCom's calendar (months, days) is Beijing time

# Per corp per API limits from the reference (unverified for self-built apps); override per path.
DEFAULT_API_LIMITS = {"minute": 10_000, "hour": 150_000}


@dataclass
class App:
    name: str
    secret: str
    token: str
    encoding_aes_key: str
    agent_id: int | None = None
    kind: str = "app"  # app | kf | archive | contacts, as in bot.config.WeComAppSettings


@dataclass
class Member:
    userid: str
    name: str
    department: list[int]
    status: int = 1  # 1 active, 5 left the corp (WeCom's user/get status)
    resigned_at: datetime | None = None
    contact_enabled: bool = True  # has 客户联系 permission (get_follow_user_list)


@dataclass
class Token:
    value: str
    app: str
    expires_at: datetime
    revoked: bool = False


@dataclass
class Callback:
    """One event WeCom would POST to the product: the app it goes to and the XML fields in order."""

    kind: str  # contacts | kf | app | archive: routes to an app of that kind
    fields: list[tuple[str, Any]]
    app: str | None = None


class SlidingWindow:
    """Counts events in the last `seconds` of the sim clock."""

    def __init__(self) -> None:
        self._events: dict[Any, deque] = defaultdict(deque)

    def count(self, key: Any, now: datetime, seconds: float) -> int:
        q = self._events[key]
        edge = now - timedelta(seconds=seconds)
        while q and q[0] <= edge:
            q.popleft()
        return len(q)

    def add(self, key: Any, now: datetime) -> None:
        self._events[key].append(now)


class Core:
    def __init__(self, corp_id: str, apps: dict[str, Any], clock: Any = None):
        self.corp_id = corp_id
        self.clock = clock or ManualClock(datetime.now(timezone.utc))
        self.lock = threading.RLock()
        self.apps: dict[str, App] = {name: make_app(name, cfg) for name, cfg in apps.items()}
        self.members: dict[str, Member] = {}
        self.tokens: dict[str, Token] = {}
        self.api_limits: dict[str, dict[str, int]] = {}
        self._api_window = SlidingWindow()
        self.outbox: list[Callback] = []
        self._ids = itertools.count(1)
        self.settlers: list[Callable[[], None]] = []  # time-driven state changes, run before each access

    # ---- time and ids
    def now(self) -> datetime:
        return self.clock.now()

    def ts(self, moment: datetime | None = None) -> int:
        return int((moment or self.now()).timestamp())

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}{secrets.token_hex(4)}"

    def settle(self) -> None:
        """Apply changes that became due on the sim clock (transfers after 24 h, ...)."""
        for settle in self.settlers:
            settle()

    def emit(self, kind: str, fields: list[tuple[str, Any]], app: str | None = None) -> None:
        self.outbox.append(Callback(kind, fields, app))

    def take_outbox(self) -> list[Callback]:
        out, self.outbox = self.outbox, []
        return out

    # ---- apps and tokens
    def issue_token(self, corpid: str | None, secret: str | None) -> dict:
        require(corpid, E.MISSING_CORPID)
        require(secret, E.MISSING_SECRET)
        require(corpid == self.corp_id, E.INVALID_CORPID)
        app = next((a for a in self.apps.values() if a.secret == secret), None)
        require(app is not None, E.INVALID_SECRET)
        now = self.now()
        # WeCom answers the same token while it is still valid.
        for tok in self.tokens.values():
            if tok.app == app.name and not tok.revoked and tok.expires_at > now:
                left = int((tok.expires_at - now).total_seconds())
                return {"errcode": 0, "errmsg": "ok", "access_token": tok.value, "expires_in": left}
        tok = Token(secrets.token_urlsafe(48), app.name, now + TOKEN_TTL)
        self.tokens[tok.value] = tok
        return {"errcode": 0, "errmsg": "ok", "access_token": tok.value, "expires_in": 7200}

    def check_token(self, value: str | None) -> App:
        require(value, E.MISSING_TOKEN)
        tok = self.tokens.get(value)
        require(tok is not None, E.INVALID_TOKEN)
        require(not tok.revoked and tok.expires_at > self.now(), E.EXPIRED_TOKEN)
        return self.apps[tok.app]

    def expire_tokens(self) -> None:
        for tok in self.tokens.values():
            tok.revoked = True

    # ---- corp-wide per-API rate limits
    def set_api_limit(self, path: str, per_minute: int | None = None, per_hour: int | None = None) -> None:
        limits = dict(DEFAULT_API_LIMITS)
        if per_minute is not None:
            limits["minute"] = per_minute
        if per_hour is not None:
            limits["hour"] = per_hour
        self.api_limits[path] = limits

    def hit_api(self, path: str) -> None:
        limits = self.api_limits.get(path, DEFAULT_API_LIMITS)
        now = self.now()
        require(self._api_window.count(path, now, 60) < limits["minute"], E.RATE_LIMITED, path)
        require(self._api_window.count(path, now, 3600) < limits["hour"], E.RATE_LIMITED, path)
        self._api_window.add(path, now)

    # ---- members
    def member(self, userid: Any, active: bool = False) -> Member:
        require(isinstance(userid, str) and userid, E.INVALID_USERID, "userid")
        m = self.members.get(userid)
        if m is None or (active and m.status != 1):
            raise WeComError(E.USER_NOT_FOUND, userid)
        return m

    def add_member(self, userid: str, name: str, department: int | list[int] = 1) -> Member:
        depts = [department] if isinstance(department, int) else list(department)
        m = Member(userid, name, depts)
        self.members[userid] = m
        return m

    def resign_member(self, userid: str) -> None:
        m = self.member(userid)
        m.status, m.resigned_at = 5, self.now()

    def user_get(self, p: dict) -> dict:
        m = self.member(p.get("userid"), active=True)  # a member who left no longer exists for user/get
        return {"errcode": 0, "errmsg": "ok", **_member_json(m)}

    def user_list(self, p: dict) -> dict:
        dept = to_int(p.get("department_id"))
        members = [m for m in self.members.values() if dept in m.department and m.status == 1]
        require(members or dept == 1, E.DEPARTMENT_NOT_FOUND, str(dept))
        return {"errcode": 0, "errmsg": "ok", "userlist": [_member_json(m) for m in members]}

    def routes(self) -> dict[str, Callable[[dict], dict]]:
        return {"user/get": self.user_get, "user/list": self.user_list}


def _member_json(m: Member) -> dict:
    return {"userid": m.userid, "name": m.name, "department": m.department, "status": m.status}


def make_app(name: str, cfg: Any) -> App:
    """An App from a dict or a settings object (bot.config.WeComAppSettings)."""
    get = cfg.get if isinstance(cfg, dict) else (lambda key, default=None: getattr(cfg, key, default))
    return App(
        name=name,
        secret=get("secret", "") or "",
        token=get("token", "") or "",
        encoding_aes_key=get("encoding_aes_key", "") or "",
        agent_id=get("agent_id", None),
        kind=get("kind", "app") or "app",
    )


def to_int(value: Any, default: int | None = None) -> int:
    if value is None or value == "":
        require(default is not None, E.INVALID_PARAM, "missing number")
        return default  # type: ignore[return-value]
    try:
        return int(value)
    except (TypeError, ValueError):
        raise WeComError(E.INVALID_PARAM, f"not a number: {value!r}") from None


def page(items: list, cursor: Any, limit: int) -> tuple[list, str]:
    """Offset paging behind an opaque-looking cursor ("" when done), like WeCom's next_cursor."""
    start = 0
    if cursor:
        try:
            start = int(str(cursor).removeprefix("c"))
        except ValueError:
            raise WeComError(E.INVALID_PARAM, "cursor") from None
    chunk = items[start:start + limit]
    nxt = start + limit
    return chunk, (f"c{nxt}" if nxt < len(items) else "")


def month_key(moment: datetime) -> tuple[int, int]:
    local = moment.astimezone(CHINA)
    return local.year, local.month


def days_in_month(moment: datetime) -> int:
    local = moment.astimezone(CHINA)
    nxt = (local.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (nxt - timedelta(days=1)).day
