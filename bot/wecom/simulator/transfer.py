"""客户继承: in-service and resigned transfers, their 24 h completion on the sim clock, and the
unassigned list of resigned members' customers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from . import errors as E
from .contacts import Contacts
from .core import Core, page, to_int
from .errors import require

TAKEOVER_DELAY = timedelta(hours=24)
WINDOW = timedelta(days=90)
MAX_PER_WINDOW = 2
RESIGNED_WITHIN = timedelta(days=365)
MAX_BATCH = 100
MAX_SUCCESS_MSG = 200

WAITING, DONE, REFUSED, OVER_LIMIT, NO_RECORD = 2, 1, 3, 4, 5


@dataclass
class Transfer:
    resigned: bool
    handover: str
    takeover: str
    external_userid: str
    started_at: datetime
    status: int = WAITING
    takeover_time: datetime | None = None
    message: str = ""


class Transfers:
    def __init__(self, core: Core, contacts: Contacts):
        self.core = core
        self.contacts = contacts
        self.records: list[Transfer] = []
        self.refusing: set[str] = set()  # customers who will refuse a transfer
        self.customer_limits: dict[str, int] = {}  # takeover member -> max customers
        core.settlers.append(self.settle)

    # ---- the 24 h completion
    def settle(self) -> None:
        now = self.core.now()
        for t in self.records:
            if t.status == WAITING and now - t.started_at >= TAKEOVER_DELAY:
                self._complete(t, t.started_at + TAKEOVER_DELAY)

    def _complete(self, t: Transfer, at: datetime) -> None:
        handover = self.contacts.follows.get((t.handover, t.external_userid))
        limit = self.customer_limits.get(t.takeover)
        if handover is None:
            t.status = NO_RECORD  # the relation vanished before the takeover (e.g. the customer left)
        elif t.external_userid in self.refusing:
            t.status = REFUSED
            self._fail(t, "customer_refused")
        elif limit is not None and len(self.contacts.customers_of(t.takeover)) >= limit:
            t.status = OVER_LIMIT
            self._fail(t, "customer_limit_exceed")
        else:
            t.status, t.takeover_time = DONE, at
            self.contacts.remove(t.handover, t.external_userid)
            existing = self.contacts.follows.get((t.takeover, t.external_userid))
            if existing is None:
                name = self.contacts.customers[t.external_userid].name
                new = self.contacts.add(t.takeover, t.external_userid, name, remark=handover.remark)
                new.tags = set(handover.tags)
                new.createtime = at
            if not t.resigned:  # WeCom tells the product the handover member lost the customer
                self._contact_event("del_external_contact", t.handover, t.external_userid,
                                    [("Source", "DELETE_BY_TRANSFER")])

    def _fail(self, t: Transfer, reason: str) -> None:
        self._contact_event("transfer_fail", t.takeover, t.external_userid, [("FailReason", reason)])

    def _contact_event(self, change: str, userid: str, external_userid: str, extra: list) -> None:
        self.core.emit("contacts", [("ToUserName", self.core.corp_id), ("FromUserName", "sys"),
                                    ("CreateTime", self.core.ts()), ("MsgType", "event"),
                                    ("Event", "change_external_contact"), ("ChangeType", change),
                                    ("UserID", userid), ("ExternalUserID", external_userid), *extra])

    # ---- starting transfers
    def _start(self, p: dict, resigned: bool) -> dict:
        handover_id, takeover_id = p.get("handover_userid"), p.get("takeover_userid")
        handover = self.core.member(handover_id)
        self.core.member(takeover_id, active=True)
        require(handover_id != takeover_id, E.INVALID_PARAM, "handover equals takeover")
        ids = p.get("external_userid")
        require(isinstance(ids, list) and 0 < len(ids) <= MAX_BATCH, E.INVALID_PARAM,
                f"external_userid must list 1..{MAX_BATCH}")
        now = self.core.now()
        if resigned:
            require(handover.status == 5, E.NOT_RESIGNED, handover_id)
            require(now - handover.resigned_at <= RESIGNED_WITHIN, E.INVALID_PARAM, "resigned over a year ago")
        else:
            require(handover.status == 1, E.USER_NOT_FOUND, handover_id)
            msg = p.get("transfer_success_msg") or ""
            require(len(msg) <= MAX_SUCCESS_MSG, E.INVALID_PARAM, f"transfer_success_msg > {MAX_SUCCESS_MSG} chars")
        results = []
        for ext in ids:
            code = self._check_customer(handover_id, ext, now)
            if code == 0:
                self.records.append(Transfer(resigned, handover_id, takeover_id, ext, now,
                                             message=p.get("transfer_success_msg") or ""))
            results.append({"external_userid": ext, "errcode": code})
        return {"errcode": 0, "errmsg": "ok", "customer": results}

    def _check_customer(self, handover: str, ext: str, now: datetime) -> int:
        if not isinstance(ext, str) or ext not in self.contacts.customers:
            return E.INVALID_EXTERNAL_USERID
        if (handover, ext) not in self.contacts.follows:
            return E.NOT_EXTERNAL_CONTACT
        mine = [t for t in self.records if t.external_userid == ext]
        if any(t.status == WAITING for t in mine):
            return E.IN_TRANSFER
        # Every accepted start counts toward "twice in 90 days", whatever its outcome.
        if sum(1 for t in mine if now - t.started_at < WINDOW) >= MAX_PER_WINDOW:
            return E.TRANSFER_TOO_OFTEN
        return 0

    def _result(self, p: dict, resigned: bool) -> dict:
        handover, takeover = p.get("handover_userid"), p.get("takeover_userid")
        self.core.member(handover)
        self.core.member(takeover)
        rows = [t for t in self.records
                if t.resigned == resigned and t.handover == handover and t.takeover == takeover]
        chunk, nxt = page(rows, p.get("cursor"), 1000)
        return {"errcode": 0, "errmsg": "ok", "next_cursor": nxt, "customer": [
            {"external_userid": t.external_userid, "status": t.status,
             "takeover_time": self.core.ts(t.takeover_time) if t.takeover_time else 0} for t in chunk]}

    def api_unassigned(self, p: dict) -> dict:
        size = to_int(p.get("page_size"), 1000)
        require(1 <= size <= 1000, E.INVALID_PARAM, "page_size")
        pending = {(t.handover, t.external_userid) for t in self.records if t.status in (WAITING, DONE)}
        rows = []
        for m in self.core.members.values():
            if m.status != 5:
                continue
            for ext in self.contacts.customers_of(m.userid):
                if (m.userid, ext) not in pending:
                    rows.append({"handover_userid": m.userid, "external_userid": ext,
                                 "dimission_time": self.core.ts(m.resigned_at)})
        chunk, nxt = page(rows, p.get("cursor"), size)
        return {"errcode": 0, "errmsg": "ok", "info": chunk, "is_last": not nxt, "next_cursor": nxt}

    def routes(self) -> dict[str, Callable[[dict], dict]]:
        return {
            "externalcontact/transfer_customer": lambda p: self._start(p, resigned=False),
            "externalcontact/resigned/transfer_customer": lambda p: self._start(p, resigned=True),
            "externalcontact/transfer_result": lambda p: self._result(p, resigned=False),
            "externalcontact/resigned/transfer_result": lambda p: self._result(p, resigned=True),
            "externalcontact/get_unassigned_list": self.api_unassigned,
        }
