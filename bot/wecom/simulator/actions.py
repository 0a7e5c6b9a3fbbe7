"""The Python API for what people do outside the product: admins in the console, members in the WeCom
client, customers in WeChat. WeCom calls the product back for these (API actions produce no callback).

Mixed into Simulator, which provides core, lock, the domain objects and flush()."""

from __future__ import annotations

from typing import Any

from .callbacks import Delivery
from .core import Core, month_key


def contact_fields(core: Core, change: str, userid: str, external_userid: str,
                   extra: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("ToUserName", core.corp_id), ("FromUserName", "sys"), ("CreateTime", core.ts()),
            ("MsgType", "event"), ("Event", "change_external_contact"), ("ChangeType", change),
            ("UserID", userid), ("ExternalUserID", external_userid), *extra]


def _event(core: Core, event: str, extra: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("ToUserName", core.corp_id), ("FromUserName", "sys"), ("CreateTime", core.ts()),
            ("MsgType", "event"), ("Event", event), *extra]


class Actions:
    # ---- members (admin console)
    def add_member(self, userid: str, name: str, department: int | list[int] = 1) -> None:
        with self.lock:
            self.core.add_member(userid, name, department)

    def resign_member(self, userid: str) -> None:
        with self.lock:
            self.core.resign_member(userid)

    # ---- customers
    def add_external_contact(self, userid: str, external_userid: str, name: str, *, state: str = "",
                             remark: str = "", half: bool = False, callback: bool = True) -> str:
        """The customer adds the member; returns the WelcomeCode (valid 20 s) the callback carries."""
        with self.lock:
            self.contacts.add(userid, external_userid, name, state=state, remark=remark)
            code = self.groupmsg.new_welcome_code(userid, external_userid)
            if callback:
                change = "add_half_external_contact" if half else "add_external_contact"
                self.core.emit("contacts", contact_fields(self.core, change, userid, external_userid,
                                                          [("State", state), ("WelcomeCode", code)]))
        self.flush()
        return code

    def edit_external_contact(self, userid: str, external_userid: str, *, remark: str | None = None,
                              description: str | None = None, callback: bool = True) -> None:
        """The member edits the customer's remark in the WeCom client (edit_external_contact)."""
        with self.lock:
            follow = self.contacts.follows[(userid, external_userid)]
            follow.remark = follow.remark if remark is None else remark
            follow.description = follow.description if description is None else description
            if callback:
                self.core.emit("contacts", contact_fields(self.core, "edit_external_contact", userid,
                                                          external_userid, []))
        self.flush()

    def remove_external_contact(self, userid: str, external_userid: str) -> None:
        """The member deletes the customer (del_external_contact)."""
        with self.lock:
            if self.contacts.remove(userid, external_userid):
                self.core.emit("contacts", contact_fields(self.core, "del_external_contact", userid,
                                                          external_userid, []))
        self.flush()

    def customer_deletes_member(self, userid: str, external_userid: str) -> None:
        """The customer deletes the member (del_follow_user)."""
        with self.lock:
            if self.contacts.remove(userid, external_userid):
                self.core.emit("contacts", contact_fields(self.core, "del_follow_user", userid,
                                                          external_userid, []))
        self.flush()

    def follow_users(self, external_userid: str) -> list[str]:
        with self.lock:
            self.core.settle()
            users = [f.userid for f in self.contacts.follow_users(external_userid)]
        self.flush()
        return users

    # ---- client groups
    def add_group_chat(self, chat_id: str, owner: str, name: str, external_userids: list[str] = (),
                       member_userids: list[str] = (), callback: bool = False) -> None:
        with self.lock:
            self.contacts.add_chat(chat_id, owner, name, list(external_userids), list(member_userids))
            if callback:
                self.core.emit("contacts", _event(self.core, "change_external_chat",
                                                  [("ChatId", chat_id), ("ChangeType", "create")]))
        self.flush()

    def group_chat_join(self, chat_id: str, external_userid: str, callback: bool = True) -> None:
        """A customer joins the group (update / add_member, JoinScene 1: invited directly)."""
        with self.lock:
            chat = self.contacts.chats[chat_id]
            chat.members.append({"userid": external_userid, "type": 2, "join_time": self.core.now()})
            if callback:
                self.core.emit("contacts", _event(self.core, "change_external_chat", [
                    ("ChatId", chat_id), ("ChangeType", "update"), ("UpdateDetail", "add_member"),
                    ("JoinScene", 1), ("MemChangeCnt", 1), ("MemChangeList", {"Item": [external_userid]})]))
        self.flush()

    def group_chat_leave(self, chat_id: str, external_userid: str, callback: bool = True) -> None:
        """A customer leaves the group (update / del_member, QuitScene 0: left by themselves)."""
        with self.lock:
            chat = self.contacts.chats[chat_id]
            chat.members = [m for m in chat.members if m["userid"] != external_userid]
            if callback:
                self.core.emit("contacts", _event(self.core, "change_external_chat", [
                    ("ChatId", chat_id), ("ChangeType", "update"), ("UpdateDetail", "del_member"),
                    ("QuitScene", 0), ("MemChangeCnt", 1), ("MemChangeList", {"Item": [external_userid]})]))
        self.flush()

    def dismiss_group_chat(self, chat_id: str, callback: bool = True) -> None:
        with self.lock:
            self.contacts.chats.pop(chat_id)
            if callback:
                self.core.emit("contacts", _event(self.core, "change_external_chat",
                                                  [("ChatId", chat_id), ("ChangeType", "dismiss")]))
        self.flush()

    # ---- tags (admin console)
    def add_corp_tags(self, group_name: str, names: list[str], callback: bool = False) -> dict[str, str]:
        """Create tags as an admin in the console; returns name -> tag_id. With `callback`, WeCom's
        change_external_tag create events follow (one per new tag)."""
        with self.lock:
            before = set(self.tags.tags)
            group = self.tags.create(group_name, [(n, 0) for n in names])
            if callback:
                for tag_id in [t for t in group.tag_ids if t not in before]:
                    self.core.emit("contacts", _event(self.core, "change_external_tag", [
                        ("Id", tag_id), ("TagType", "tag"), ("ChangeType", "create")]))
            result = {self.tags.tags[t].name: t for t in group.tag_ids}
        self.flush()
        return result

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
            result = self.groupmsg.confirm(msgid, userid)
        self.flush()
        return result

    def set_groupmsg_cap(self, per_month: int | None) -> None:
        """Mass messages a customer/group may receive per month (None: days in the month)."""
        with self.lock:
            self.groupmsg.monthly_cap = per_month

    def groupmsg_received(self, target: str) -> int:
        """Mass messages `target` (external_userid or chat_id) received this month."""
        with self.lock:
            return self.groupmsg.received.get((target, month_key(self.core.now())), 0)

    def welcome_messages(self, external_userid: str) -> list[dict]:
        with self.lock:
            return [dict(w) for w in self.groupmsg.welcome_sent if w["external_userid"] == external_userid]

    def app_messages(self, userid: str) -> list[dict]:
        """What the product sent to a member with message/send (cards show replaced_by after an update)."""
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

    # ---- 微信客服 (the WeChat user and the human servicer)
    def kf_add_account(self, open_kfid: str, name: str, servicers: list[str] = ()) -> None:
        with self.lock:
            self.kf.add_account(open_kfid, name, servicers)

    def kf_user_says(self, open_kfid: str, external_userid: str, text: str,
                     nickname: str = "微信用户") -> list[Delivery]:
        """A WeChat user writes to the kf account: message log + kf_msg_or_event (Token, OpenKfId)."""
        with self.lock:
            self.kf.user_says(open_kfid, external_userid, text, nickname)
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
        """What the product sent to this WeChat user with kf/send_msg."""
        with self.lock:
            return [dict(m) for m in self.kf.sent_to(external_userid)]

    def kf_state(self, open_kfid: str, external_userid: str) -> int:
        with self.lock:
            sess = self.kf.sessions.get((open_kfid, external_userid))
            return sess.state if sess else 0

    # ---- the request log, for other processes
    def request_log(self, path: str | None = None) -> list[dict]:
        with self.lock:
            return [{"path": r.path, "method": r.method, "params": r.params, "body": r.body,
                     "errcode": r.errcode, "app": r.app} for r in self.requests if path in (None, r.path)]
