"""企业群发 (mass messages) and welcome messages.

A mass message sends nothing by itself: each member gets a task and must confirm it in the WeCom
client (`Simulator.confirm_groupmsg`). At confirmation every customer or group is checked against
the relation and the monthly cap (default: days in the month, Beijing calendar)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from . import errors as E
from .contacts import Contacts
from .core import Core, days_in_month, month_key, page, to_int
from .errors import require

MAX_CUSTOMERS = 10_000
MAX_TEXT_BYTES = 4000
MAX_ATTACHMENTS = 9
REMINDS_PER_DAY = 3
WELCOME_VALID = timedelta(seconds=20)
MAX_LIST_SPAN = timedelta(days=31)

UNSENT, SENT, NOT_FRIEND, CAP_REACHED = 0, 1, 2, 3


@dataclass
class GroupMsg:
    msgid: str
    chat_type: str
    creator: str
    created_at: datetime
    text: dict
    attachments: list
    targets: dict[str, list[str]]  # member -> external_userids (single) or chat_ids (group)
    task_sent: dict[str, datetime] = field(default_factory=dict)
    results: dict[tuple[str, str], tuple[int, datetime | None]] = field(default_factory=dict)
    reminders: list[datetime] = field(default_factory=list)
    cancelled: bool = False


@dataclass
class WelcomeCode:
    userid: str
    external_userid: str
    issued_at: datetime
    used: bool = False


class GroupMessages:
    def __init__(self, core: Core, contacts: Contacts):
        self.core = core
        self.contacts = contacts
        self.messages: dict[str, GroupMsg] = {}
        self.monthly_cap: int | None = None  # None: days in the current month
        self.received: dict[tuple[str, tuple[int, int]], int] = {}  # (target, month) -> count
        self.welcome_codes: dict[str, WelcomeCode] = {}
        self.welcome_sent: list[dict] = []

    # ---- Python API
    def cap(self, moment: datetime) -> int:
        return self.monthly_cap if self.monthly_cap is not None else days_in_month(moment)

    def confirm(self, msgid: str, userid: str) -> dict[str, int]:
        """The member presses send in the WeCom client; returns target -> send status."""
        msg = self.messages.get(msgid)
        if msg is None or userid not in msg.targets:
            raise ValueError(f"no task for {userid} in {msgid}")
        if msg.cancelled:
            raise ValueError(f"{msgid} was cancelled")
        if userid in msg.task_sent:
            return {t: msg.results[(userid, t)][0] for t in msg.targets[userid]}
        now = self.core.now()
        msg.task_sent[userid] = now
        month = month_key(now)
        out = {}
        for target in msg.targets[userid]:
            if msg.chat_type == "single":
                gone = (userid, target) not in self.contacts.follows
            else:
                gone = target not in self.contacts.chats
            if gone:
                status = NOT_FRIEND
            elif self.received.get((target, month), 0) >= self.cap(now):
                status = CAP_REACHED
            else:
                status = SENT
                self.received[(target, month)] = self.received.get((target, month), 0) + 1
            msg.results[(userid, target)] = (status, now if status == SENT else None)
            out[target] = status
        return out

    def new_welcome_code(self, userid: str, external_userid: str) -> str:
        code = self.core.new_id("WELCOME")
        self.welcome_codes[code] = WelcomeCode(userid, external_userid, self.core.now())
        return code

    # ---- endpoints
    def api_add(self, p: dict) -> dict:
        chat_type = p.get("chat_type") or "single"
        require(chat_type in ("single", "group"), E.INVALID_PARAM, "chat_type")
        text, attachments = _content(p)
        sender = p.get("sender") or ""
        if sender:
            self.core.member(sender, active=True)
        targets: dict[str, list[str]] = {}
        fail: list[str] = []
        if chat_type == "single":
            ids = p.get("external_userid") or []
            require(isinstance(ids, list) and len(ids) <= MAX_CUSTOMERS, E.INVALID_PARAM, "external_userid")
            require(sender or ids, E.INVALID_PARAM, "sender or external_userid")
            for ext in ids or self.contacts.customers_of(sender):
                owners = [f.userid for f in self.contacts.follow_users(ext)
                          if (not sender or f.userid == sender) and self.core.members[f.userid].status == 1]
                if not owners:
                    fail.append(ext)
                for owner in owners:
                    targets.setdefault(owner, []).append(ext)
        else:
            require(sender, E.INVALID_PARAM, "sender is required for group")
            owned = [c.chat_id for c in self.contacts.chats.values() if c.owner == sender and c.status == 0]
            wanted = p.get("chat_id_list") or owned
            fail = [c for c in wanted if c not in owned]
            if [c for c in wanted if c in owned]:
                targets[sender] = [c for c in wanted if c in owned]
        require(targets, E.NO_TARGETS)
        msg = GroupMsg(self.core.new_id("msg"), chat_type, sender, self.core.now(), text, attachments, targets)
        for userid, ids in targets.items():
            for target in ids:
                msg.results[(userid, target)] = (UNSENT, None)
        self.messages[msg.msgid] = msg
        return {"errcode": 0, "errmsg": "ok", "fail_list": fail, "msgid": msg.msgid}

    def _msg(self, p: dict) -> GroupMsg:
        msg = self.messages.get(p.get("msgid") or "")
        require(msg is not None, E.INVALID_PARAM, "msgid")
        return msg

    def api_list(self, p: dict) -> dict:
        start, end = to_int(p.get("start_time")), to_int(p.get("end_time"))
        require(0 <= end - start <= MAX_LIST_SPAN.total_seconds(), E.INVALID_PARAM, "time span over a month")
        limit = to_int(p.get("limit"), 50)
        require(1 <= limit <= 100, E.INVALID_PARAM, "limit")
        chat_type = p.get("chat_type") or "single"
        creator = p.get("creator")
        rows = [m for m in self.messages.values()
                if m.chat_type == chat_type and start <= self.core.ts(m.created_at) <= end
                and (not creator or m.creator == creator) and to_int(p.get("filter_type"), 2) in (0, 2)]
        chunk, nxt = page(rows, p.get("cursor"), limit)
        return {"errcode": 0, "errmsg": "ok", "next_cursor": nxt, "group_msg_list": [
            {"msgid": m.msgid, "creator": m.creator, "create_time": str(self.core.ts(m.created_at)),
             "create_type": 0, "text": m.text, "attachments": m.attachments} for m in chunk]}

    def api_task(self, p: dict) -> dict:
        msg = self._msg(p)
        limit = to_int(p.get("limit"), 500)
        require(1 <= limit <= 1000, E.INVALID_PARAM, "limit")
        rows = []
        for userid in msg.targets:
            sent = msg.task_sent.get(userid)
            row = {"userid": userid, "status": 2 if sent else 0}
            if sent:
                row["send_time"] = self.core.ts(sent)
            rows.append(row)
        chunk, nxt = page(rows, p.get("cursor"), limit)
        return {"errcode": 0, "errmsg": "ok", "next_cursor": nxt, "task_list": chunk}

    def api_send_result(self, p: dict) -> dict:
        msg = self._msg(p)
        userid = p.get("userid")
        self.core.member(userid)
        limit = to_int(p.get("limit"), 500)
        require(1 <= limit <= 1000, E.INVALID_PARAM, "limit")
        key = "external_userid" if msg.chat_type == "single" else "chat_id"
        rows = []
        for target in msg.targets.get(userid, []):
            status, sent_at = msg.results[(userid, target)]
            row = {key: target, "userid": userid, "status": status}
            if sent_at:
                row["send_time"] = self.core.ts(sent_at)
            rows.append(row)
        chunk, nxt = page(rows, p.get("cursor"), limit)
        return {"errcode": 0, "errmsg": "ok", "next_cursor": nxt, "send_list": chunk}

    def api_remind(self, p: dict) -> dict:
        msg = self._msg(p)
        now = self.core.now()
        recent = [r for r in msg.reminders if now - r < timedelta(hours=24)]
        # Chosen code: 45009 (a frequency limit) after the third reminder in 24 h.
        require(len(recent) < REMINDS_PER_DAY, E.RATE_LIMITED, "remind at most 3 times in 24h")
        msg.reminders.append(now)
        return {"errcode": 0, "errmsg": "ok"}

    def api_cancel(self, p: dict) -> dict:
        self._msg(p).cancelled = True  # unconfirmed tasks can no longer be sent
        return {"errcode": 0, "errmsg": "ok"}

    def api_welcome(self, p: dict) -> dict:
        code = self.welcome_codes.get(p.get("welcome_code") or "")
        require(code is not None, E.INVALID_PARAM, "welcome_code")
        text, attachments = _content(p)
        fresh = self.core.now() - code.issued_at <= WELCOME_VALID
        require(fresh and not code.used, E.WELCOME_USED)
        code.used = True
        self.welcome_sent.append({"userid": code.userid, "external_userid": code.external_userid,
                                  "text": text, "attachments": attachments, "send_time": self.core.now()})
        return {"errcode": 0, "errmsg": "ok"}

    def routes(self) -> dict[str, Callable[[dict], dict]]:
        return {
            "externalcontact/add_msg_template": self.api_add,
            "externalcontact/get_groupmsg_list_v2": self.api_list,
            "externalcontact/get_groupmsg_task": self.api_task,
            "externalcontact/get_groupmsg_send_result": self.api_send_result,
            "externalcontact/remind_groupmsg_send": self.api_remind,
            "externalcontact/cancel_groupmsg_send": self.api_cancel,
            "externalcontact/send_welcome_msg": self.api_welcome,
        }


def _content(p: dict) -> tuple[dict, list]:
    text = p.get("text") or {}
    attachments = p.get("attachments") or []
    require(isinstance(text, dict) and isinstance(attachments, list), E.INVALID_PARAM, "text/attachments")
    content = text.get("content") or ""
    require(content or attachments, E.EMPTY_CONTENT)
    require(len(content.encode()) <= MAX_TEXT_BYTES, E.CONTENT_TOO_LONG, f"> {MAX_TEXT_BYTES} bytes")
    require(len(attachments) <= MAX_ATTACHMENTS, E.INVALID_PARAM, f"more than {MAX_ATTACHMENTS} attachments")
    for a in attachments:
        require(isinstance(a, dict) and a.get("msgtype") in a, E.INVALID_PARAM, "attachment")
    return dict(text), list(attachments)
