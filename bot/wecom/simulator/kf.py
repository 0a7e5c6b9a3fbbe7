"""微信客服 (kf): accounts, servicers, the message log read with sync_msg, sessions and their state."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from . import errors as E
from .core import Core, to_int
from .errors import WeComError, require

MSG_TOKEN_TTL = timedelta(minutes=10)
READABLE_FOR = timedelta(days=3)
REPLY_WINDOW = timedelta(hours=48)
REPLIES_PER_USER_MESSAGE = 5
MAX_TEXT_BYTES = 2048

# Session states: 0 new, 1 bot (智能助手), 2 queued (待接入池), 3 human (人工接待), 4 ended.
# Allowed changes through service_state/trans (WeCom's table; 3 -> 3 re-assigns another servicer).
TRANSITIONS = {0: {1, 2, 3, 4}, 1: {2, 3, 4}, 2: {3, 4}, 3: {3, 4}, 4: set()}
SENDABLE_STATES = {0, 1}


@dataclass
class KfAccount:
    open_kfid: str
    name: str
    servicers: list[str] = field(default_factory=list)


@dataclass
class KfSession:
    state: int = 0
    servicer: str = ""
    last_user_msg_at: datetime | None = None
    replies_since_user_msg: int = 0


@dataclass
class KfMessage:
    seq: int
    msgid: str
    open_kfid: str
    external_userid: str
    send_time: datetime
    origin: int  # 3 customer, 4 system event, 5 servicer in the WeCom client
    msgtype: str
    body: dict
    servicer_userid: str = ""


class Kf:
    def __init__(self, core: Core):
        self.core = core
        self.accounts: dict[str, KfAccount] = {}
        self.sessions: dict[tuple[str, str], KfSession] = {}
        self.log: list[KfMessage] = []
        self.msg_tokens: dict[str, datetime] = {}  # token -> issued at
        self.sent: list[dict] = []  # what the product sent with kf/send_msg
        self.nicknames: dict[str, str] = {}  # WeChat users who wrote to a kf account
        self._sent_msgids: dict[str, str] = {}

    # ---- Python API
    def add_account(self, open_kfid: str, name: str, servicers: list[str] = ()) -> KfAccount:
        acc = KfAccount(open_kfid, name, list(servicers))
        self.accounts[open_kfid] = acc
        return acc

    def session(self, open_kfid: str, external_userid: str) -> KfSession:
        return self.sessions.setdefault((open_kfid, external_userid), KfSession())

    def _append(self, open_kfid: str, external_userid: str, origin: int, msgtype: str, body: dict,
                servicer: str = "") -> KfMessage:
        msg = KfMessage(len(self.log) + 1, self.core.new_id("kfmsg"), open_kfid, external_userid,
                        self.core.now(), origin, msgtype, body, servicer)
        self.log.append(msg)
        return msg

    def _notify(self, open_kfid: str) -> str:
        token = "ENC" + secrets.token_urlsafe(32)
        self.msg_tokens[token] = self.core.now()
        self.core.emit("kf", [("ToUserName", self.core.corp_id), ("CreateTime", self.core.ts()),
                              ("MsgType", "event"), ("Event", "kf_msg_or_event"), ("Token", token),
                              ("OpenKfId", open_kfid)])
        return token

    def user_says(self, open_kfid: str, external_userid: str, text: str, nickname: str = "微信用户") -> KfMessage:
        self._account(open_kfid)
        self.nicknames.setdefault(external_userid, nickname)
        sess = self.session(open_kfid, external_userid)
        if sess.state == 4:  # a message after the end opens a new session
            sess.state, sess.servicer = 0, ""
        sess.last_user_msg_at = self.core.now()
        sess.replies_since_user_msg = 0
        msg = self._append(open_kfid, external_userid, 3, "text", {"content": text})
        self._notify(open_kfid)
        return msg

    def servicer_says(self, open_kfid: str, external_userid: str, servicer: str, text: str) -> KfMessage:
        msg = self._append(open_kfid, external_userid, 5, "text", {"content": text}, servicer)
        self._notify(open_kfid)
        return msg

    def end_session(self, open_kfid: str, external_userid: str) -> None:
        """A servicer (or WeCom's timeout) ends the session: state 4 and a system event."""
        sess = self.session(open_kfid, external_userid)
        old = sess.state
        sess.state, sess.servicer = 4, ""
        self._append(open_kfid, external_userid, 4, "event", {
            "event_type": "session_status_change", "open_kfid": open_kfid,
            "external_userid": external_userid, "change_type": 4, "old_state": old})
        self._notify(open_kfid)

    def sent_to(self, external_userid: str) -> list[dict]:
        return [m for m in self.sent if m["touser"] == external_userid]

    # ---- endpoints
    def _account(self, open_kfid: Any) -> KfAccount:
        acc = self.accounts.get(open_kfid) if isinstance(open_kfid, str) else None
        require(acc is not None, E.KF_INVALID_OPEN_KFID, str(open_kfid))
        return acc

    def api_account_list(self, p: dict) -> dict:
        offset, limit = to_int(p.get("offset"), 0), to_int(p.get("limit"), 100)
        require(0 <= offset and 1 <= limit <= 100, E.INVALID_PARAM, "offset/limit")
        rows = list(self.accounts.values())[offset:offset + limit]
        return {"errcode": 0, "errmsg": "ok", "account_list": [
            {"open_kfid": a.open_kfid, "name": a.name, "avatar": "", "manage_privilege": True} for a in rows]}

    def api_servicer_list(self, p: dict) -> dict:
        acc = self._account(p.get("open_kfid"))
        return {"errcode": 0, "errmsg": "ok",
                "servicer_list": [{"userid": u, "status": 0} for u in acc.servicers]}

    def api_sync_msg(self, p: dict) -> dict:
        limit = to_int(p.get("limit"), 1000)
        require(1 <= limit <= 1000, E.INVALID_PARAM, "limit")
        token = p.get("token")
        now = self.core.now()
        if token:  # optional in WeCom (stricter rate limits without); when given it must be fresh
            issued = self.msg_tokens.get(token)
            require(issued is not None and now - issued <= MSG_TOKEN_TTL, E.KF_INVALID_MSG_TOKEN)
        open_kfid = p.get("open_kfid")
        if open_kfid:
            self._account(open_kfid)
        after = _cursor_seq(p.get("cursor"))
        oldest = now - READABLE_FOR
        rows = [m for m in self.log if m.seq > after and m.send_time >= oldest
                and (not open_kfid or m.open_kfid == open_kfid)]
        chunk = rows[:limit]
        last = chunk[-1].seq if chunk else after
        return {"errcode": 0, "errmsg": "ok", "next_cursor": _cursor(last),
                "has_more": 1 if len(rows) > limit else 0, "msg_list": [self._msg_json(m) for m in chunk]}

    def _msg_json(self, m: KfMessage) -> dict:
        out = {"msgid": m.msgid, "open_kfid": m.open_kfid, "external_userid": m.external_userid,
               "send_time": self.core.ts(m.send_time), "origin": m.origin, "msgtype": m.msgtype,
               m.msgtype: dict(m.body)}
        if m.servicer_userid:
            out["servicer_userid"] = m.servicer_userid
        return out

    def api_customer_batchget(self, p: dict) -> dict:
        ids = p.get("external_userid_list")
        require(isinstance(ids, list) and 0 < len(ids) <= 100, E.INVALID_PARAM, "external_userid_list")
        known = [x for x in ids if x in self.nicknames]
        return {"errcode": 0, "errmsg": "ok",
                "customer_list": [{"external_userid": x, "nickname": self.nicknames[x], "avatar": "", "gender": 0,
                                   "unionid": ""} for x in known],
                "invalid_external_userid": [x for x in ids if x not in self.nicknames]}

    def api_send_msg(self, p: dict) -> dict:
        acc = self._account(p.get("open_kfid"))
        touser = p.get("touser")
        require(isinstance(touser, str) and touser, E.INVALID_EXTERNAL_USERID)
        msgid = p.get("msgid") or ""
        require(len(msgid.encode()) <= 32, E.INVALID_PARAM, "msgid longer than 32 bytes")
        if msgid and msgid in self._sent_msgids:  # same msgid is delivered once
            return {"errcode": 0, "errmsg": "ok", "msgid": self._sent_msgids[msgid]}
        msgtype = p.get("msgtype")
        require(isinstance(msgtype, str) and isinstance(p.get(msgtype), dict), E.INVALID_PARAM, "msgtype")
        if msgtype == "text":
            content = p["text"].get("content") or ""
            require(content, E.EMPTY_CONTENT)
            require(len(content.encode()) <= MAX_TEXT_BYTES, E.CONTENT_TOO_LONG, f"> {MAX_TEXT_BYTES} bytes")
        sess = self.sessions.get((acc.open_kfid, touser))
        require(sess is not None and sess.last_user_msg_at is not None, E.KF_SEND_TIME_LIMIT, "no user message")
        require(sess.state in SENDABLE_STATES, E.KF_STATE_FORBIDS_SEND, f"state {sess.state}")
        require(self.core.now() - sess.last_user_msg_at <= REPLY_WINDOW, E.KF_SEND_TIME_LIMIT)
        require(sess.replies_since_user_msg < REPLIES_PER_USER_MESSAGE, E.KF_SEND_COUNT_LIMIT)
        sess.replies_since_user_msg += 1
        out_id = msgid or self.core.new_id("kfsend")
        if msgid:
            self._sent_msgids[msgid] = out_id
        self.sent.append({"msgid": out_id, "open_kfid": acc.open_kfid, "touser": touser, "msgtype": msgtype,
                          msgtype: p[msgtype], "send_time": self.core.now()})
        return {"errcode": 0, "errmsg": "ok", "msgid": out_id}

    def api_state_get(self, p: dict) -> dict:
        acc = self._account(p.get("open_kfid"))
        ext = p.get("external_userid")
        require(isinstance(ext, str) and ext, E.INVALID_EXTERNAL_USERID)
        sess = self.sessions.get((acc.open_kfid, ext)) or KfSession()
        return {"errcode": 0, "errmsg": "ok", "service_state": sess.state, "servicer_userid": sess.servicer}

    def api_state_trans(self, p: dict) -> dict:
        acc = self._account(p.get("open_kfid"))
        ext = p.get("external_userid")
        require(isinstance(ext, str) and ext, E.INVALID_EXTERNAL_USERID)
        new = to_int(p.get("service_state"))
        require(new in TRANSITIONS, E.INVALID_PARAM, "service_state")
        sess = self.session(acc.open_kfid, ext)
        require(new in TRANSITIONS[sess.state], E.KF_BAD_TRANSITION, f"{sess.state} -> {new}")
        servicer = p.get("servicer_userid") or ""
        if new == 3:
            require(servicer in acc.servicers, E.KF_INVALID_SERVICER, servicer)
            require(sess.state != 3 or servicer != sess.servicer, E.KF_BAD_TRANSITION, "same servicer")
        elif new == 2 and servicer:
            require(servicer in acc.servicers, E.KF_INVALID_SERVICER, servicer)
        sess.state, sess.servicer = new, (servicer if new in (2, 3) else "")
        out = {"errcode": 0, "errmsg": "ok"}
        if new in (3, 4):  # the code for send_msg_on_event (end/transfer greeting)
            out["msg_code"] = self.core.new_id("MSGCODE")
        return out

    def routes(self) -> dict[str, Callable[[dict], dict]]:
        return {
            "kf/account/list": self.api_account_list,
            "kf/servicer/list": self.api_servicer_list,
            "kf/sync_msg": self.api_sync_msg,
            "kf/customer/batchget": self.api_customer_batchget,
            "kf/send_msg": self.api_send_msg,
            "kf/service_state/get": self.api_state_get,
            "kf/service_state/trans": self.api_state_trans,
        }


def _cursor(seq: int) -> str:
    return f"kfc{seq:x}"


def _cursor_seq(cursor: Any) -> int:
    if not cursor:
        return 0
    try:
        return int(str(cursor).removeprefix("kfc"), 16)
    except ValueError:
        raise WeComError(E.INVALID_PARAM, "cursor") from None
