"""`Simulator`: all WeCom state in memory behind one lock, served over HTTP, with a Python API for
tests and the demo to seed state, act as users, move time and inject faults."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any, Callable

from .appmsg import AppMessages
from .callbacks import CallbackSender, Delivery
from .contacts import Contacts
from .core import Core
from .faults import Faults
from .kf import Kf
from .groupmsg import GroupMessages
from .server import LoggedRequest, SimulatorServer
from .tags import Tags
from .transfer import Transfers


class Simulator:
    # Methods another process may call through POST /_sim/<name> with JSON keyword arguments.
    CONTROL_METHODS = {
        "fail_next", "delay", "clear_faults", "expire_tokens", "advance", "tick", "add_member",
        "resign_member", "add_external_contact", "remove_external_contact", "customer_deletes_member",
        "add_corp_tags", "kf_add_account", "kf_user_says", "kf_servicer_says", "kf_end_session", "kf_sent",
        "set_rate_limit", "connect_product", "refuse_transfer", "set_customer_limit", "confirm_groupmsg",
        "set_groupmsg_cap", "click_card", "app_messages", "welcome_messages",
    }

    def __init__(self, corp_id: str, apps: dict[str, Any], clock: Any = None, *, host: str = "127.0.0.1",
                 port: int = 0):
        self.core = Core(corp_id, apps, clock)
        self.lock = self.core.lock
        self.faults = Faults()
        self.requests: list[LoggedRequest] = []
        self.tags = Tags(self.core)
        self.contacts = Contacts(self.core, self.tags.lookup)
        self.tags.contacts = self.contacts
        self.kf = Kf(self.core)
        self.transfers = Transfers(self.core, self.contacts)
        self.groupmsg = GroupMessages(self.core, self.contacts)
        self.appmsg = AppMessages(self.core)
        self.routes: dict[str, Callable[[dict], dict]] = {}
        for domain in (self.core, self.contacts, self.tags, self.kf, self.transfers, self.groupmsg, self.appmsg):
            self.routes.update(domain.routes())
        self.sender: CallbackSender | None = None
        self._server = SimulatorServer(self)
        self._host, self._port = host, port
        self.base_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Any, clock: Any = None) -> "Simulator":
        """Build from bot.config Settings: same corp id and app secrets/tokens/keys as the product."""
        return cls(settings.wecom.corp_id, dict(settings.wecom.apps), clock,
                   host=settings.simulator.host, port=settings.simulator.port)

    # ---- lifecycle
    @property
    def clock(self):
        return self.core.clock

    @property
    def corp_id(self) -> str:
        return self.core.corp_id

    def start(self) -> str:
        self.base_url = self._server.start(self._host, self._port)
        return self.base_url

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> "Simulator":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- callbacks to the product
    def connect_product(self, url: str | Callable[[str], str]) -> None:
        """Where WeCom posts callbacks: a callable app -> URL or a template like
        "http://127.0.0.1:8000/wecom/{app}/callback"."""
        self.sender = CallbackSender(url, self.core.corp_id, self.core.apps, clock=self.core.clock)

    @property
    def callbacks(self) -> CallbackSender:
        if self.sender is None:
            raise RuntimeError("connect_product(url) first")
        return self.sender

    def flush(self) -> list[Delivery]:
        """Send the callbacks that state changes produced (outside the lock; the product may call back)."""
        with self.lock:
            pending = self.core.take_outbox()
        if self.sender is None:
            return []
        return [self.sender.send(cb.app or self.sender.app_for(cb.kind), cb.fields) for cb in pending]

    def flush_async(self) -> None:
        """From inside an API request: deliver callbacks on a thread so the answer is not held up."""
        with self.lock:
            if not self.core.outbox:
                return
        threading.Thread(target=self.flush, name="wecom-sim-callbacks", daemon=True).start()

    def _changed(self) -> list[Delivery]:
        with self.lock:
            self.core.settle()
        return self.flush()

    # ---- time, faults, limits
    def advance(self, seconds: float | timedelta = 0) -> list[Delivery]:
        """Move the sim clock (it must have .advance) and deliver what became due."""
        self.core.clock.advance(seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds))
        return self._changed()

    def tick(self) -> list[Delivery]:
        """Apply time-driven changes after moving an external clock yourself."""
        return self._changed()

    def fail_next(self, path: str, errcode: int = -1, times: int = 1) -> None:
        self.faults.fail_next(path, errcode, times)

    def delay(self, path: str, seconds: float) -> None:
        self.faults.delay(path, seconds)

    def clear_faults(self) -> None:
        self.faults.clear()

    def expire_tokens(self) -> None:
        with self.lock:
            self.core.expire_tokens()

    def set_rate_limit(self, path: str, per_minute: int | None = None, per_hour: int | None = None) -> None:
        with self.lock:
            self.core.set_api_limit(path.split("cgi-bin/", 1)[-1].strip("/"), per_minute, per_hour)

    def calls(self, path: str) -> list[LoggedRequest]:
        return [r for r in list(self.requests) if r.path == path]

    # ---- members
    def add_member(self, userid: str, name: str, department: int | list[int] = 1) -> None:
        with self.lock:
            self.core.add_member(userid, name, department)

    def resign_member(self, userid: str) -> None:
        with self.lock:
            self.core.resign_member(userid)

    # ---- customers (what a WeChat user does in WeChat; WeCom calls back for these)
    def add_external_contact(self, userid: str, external_userid: str, name: str, *, state: str = "",
                             remark: str = "", half: bool = False, callback: bool = True) -> str:
        """The customer adds the member; returns the WelcomeCode carried by the callback."""
        with self.lock:
            self.contacts.add(userid, external_userid, name, state=state, remark=remark)
            code = self.groupmsg.new_welcome_code(userid, external_userid)
            if callback:
                change = "add_half_external_contact" if half else "add_external_contact"
                self.core.emit("contacts", _contact_fields(self.core, change, userid, external_userid,
                                                           [("State", state), ("WelcomeCode", code)]))
        self.flush()
        return code

    def remove_external_contact(self, userid: str, external_userid: str) -> None:
        """The member deletes the customer (del_external_contact)."""
        with self.lock:
            if self.contacts.remove(userid, external_userid):
                self.core.emit("contacts", _contact_fields(self.core, "del_external_contact", userid,
                                                           external_userid, []))
        self.flush()

    def customer_deletes_member(self, userid: str, external_userid: str) -> None:
        """The customer deletes the member (del_follow_user)."""
        with self.lock:
            if self.contacts.remove(userid, external_userid):
                self.core.emit("contacts", _contact_fields(self.core, "del_follow_user", userid,
                                                           external_userid, []))
        self.flush()

    def add_group_chat(self, chat_id: str, owner: str, name: str, external_userids: list[str] = (),
                       member_userids: list[str] = ()) -> None:
        with self.lock:
            self.contacts.add_chat(chat_id, owner, name, list(external_userids), list(member_userids))

    # ---- tags
    def add_corp_tags(self, group_name: str, names: list[str]) -> dict[str, str]:
        """Seed tags as an admin would in the console (no callback); returns name -> tag_id."""
        with self.lock:
            group = self.tags.create(group_name, [(n, 0) for n in names])
            return {self.tags.tags[t].name: t for t in group.tag_ids}

    def contact_tags(self, userid: str, external_userid: str) -> set[str]:
        with self.lock:
            follow = self.contacts.follows.get((userid, external_userid))
            return set(follow.tags) if follow else set()

    def contact_tag_names(self, userid: str, external_userid: str) -> set[tuple[str, str]]:
        """(group_name, tag_name) pairs marked on the relation."""
        with self.lock:
            return {(i["group_name"], i["tag_name"]) for t in self.contact_tags(userid, external_userid)
                    if (i := self.tags.lookup(t))}

    def tag_id(self, group_name: str, tag_name: str) -> str | None:
        with self.lock:
            return self.tags.id_by_name(group_name, tag_name)

    def follow_users(self, external_userid: str) -> list[str]:
        with self.lock:
            self.core.settle()
            return [f.userid for f in self.contacts.follow_users(external_userid)]

    # ---- inheritance knobs
    def refuse_transfer(self, external_userid: str, refuse: bool = True) -> None:
        """The customer will refuse transfers (status 3 and transfer_fail after 24 h)."""
        with self.lock:
            (self.transfers.refusing.add if refuse else self.transfers.refusing.discard)(external_userid)

    def set_customer_limit(self, userid: str, limit: int | None) -> None:
        """Max customers `userid` may hold; a takeover beyond it ends with status 4."""
        with self.lock:
            if limit is None:
                self.transfers.customer_limits.pop(userid, None)
            else:
                self.transfers.customer_limits[userid] = int(limit)

    # ---- mass, welcome and app messages
    def confirm_groupmsg(self, msgid: str, userid: str) -> dict[str, int]:
        """The member confirms the mass-message task in the WeCom client; target -> send status."""
        with self.lock:
            self.core.settle()
            return self.groupmsg.confirm(msgid, userid)

    def set_groupmsg_cap(self, per_month: int | None) -> None:
        """Mass messages a customer/group may receive per month (None: days in the month)."""
        with self.lock:
            self.groupmsg.monthly_cap = per_month

    def groupmsg_received(self, target: str) -> int:
        """Mass messages `target` (external_userid or chat_id) received this month."""
        from .core import month_key
        with self.lock:
            return self.groupmsg.received.get((target, month_key(self.core.now())), 0)

    def welcome_messages(self, external_userid: str) -> list[dict]:
        with self.lock:
            return [dict(w) for w in self.groupmsg.welcome_sent if w["external_userid"] == external_userid]

    def app_messages(self, userid: str) -> list[dict]:
        """What the product sent to a member with message/send (cards include replaced_by after an update)."""
        with self.lock:
            return [{"msgid": m.msgid, "agentid": m.agentid, "msgtype": m.msgtype, m.msgtype: m.payload,
                     "task_id": m.task_id, "send_time": m.send_time, "replaced_by": m.replaced_by}
                    for m in self.appmsg.sent if m.userid == userid]

    def click_card(self, userid: str, task_id: str, button_key: str) -> str:
        """The member presses a card button: posts template_card_event; returns its ResponseCode."""
        with self.lock:
            code, _ = self.appmsg.click(userid, task_id, button_key)
        self.flush()
        return code

    # ---- 微信客服
    def kf_add_account(self, open_kfid: str, name: str, servicers: list[str] = ()) -> None:
        with self.lock:
            self.kf.add_account(open_kfid, name, servicers)

    def kf_user_says(self, open_kfid: str, external_userid: str, text: str) -> list[Delivery]:
        with self.lock:
            self.kf.user_says(open_kfid, external_userid, text)
        return self.flush()

    def kf_servicer_says(self, open_kfid: str, external_userid: str, servicer: str, text: str) -> list[Delivery]:
        with self.lock:
            self.kf.servicer_says(open_kfid, external_userid, servicer, text)
        return self.flush()

    def kf_end_session(self, open_kfid: str, external_userid: str) -> list[Delivery]:
        with self.lock:
            self.kf.end_session(open_kfid, external_userid)
        return self.flush()

    def kf_sent(self, external_userid: str) -> list[dict]:
        with self.lock:
            return [dict(m) for m in self.kf.sent_to(external_userid)]

    def kf_state(self, open_kfid: str, external_userid: str) -> int:
        with self.lock:
            sess = self.kf.sessions.get((open_kfid, external_userid))
            return sess.state if sess else 0


def _contact_fields(core: Core, change: str, userid: str, external_userid: str,
                    extra: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("ToUserName", core.corp_id), ("FromUserName", "sys"), ("CreateTime", core.ts()),
            ("MsgType", "event"), ("Event", "change_external_contact"), ("ChangeType", change),
            ("UserID", userid), ("ExternalUserID", external_userid), *extra]
