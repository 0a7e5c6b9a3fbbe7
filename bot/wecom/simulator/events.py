"""One helper per callback kind the product handles, with WeCom's field names and order.

Mixed into CallbackSender; each helper returns the Delivery (HTTP statuses of every attempt)."""

from __future__ import annotations

import itertools
import time
from typing import Any

CONTACT_CHANGE_TYPES = {"add_external_contact", "add_half_external_contact", "edit_external_contact",
                        "del_external_contact", "del_follow_user", "transfer_fail"}
TRANSFER_FAIL_REASONS = {"customer_refused", "customer_limit_exceed"}
_msg_ids = itertools.count(7_000_000_000_000_000_000)


class EventHelpers:
    corp_id: str
    clock: Any
    apps: dict

    def send(self, app: str, fields: list[tuple[str, Any]], repeat: int = 1, retry: bool = True): ...

    def _now(self) -> int:
        return int(self.clock.now().timestamp() if self.clock else time.time())

    def app_for(self, kind: str) -> str:
        """The app whose callback URL receives this kind of event (by the app's configured kind)."""
        for name, app in self.apps.items():
            if app.kind == kind:
                return name
        if kind in ("contacts", "archive"):  # both fall back to the self-built app's callback
            return self.app_for("app")
        return next(iter(self.apps))

    def _event(self, kind: str, event: str, extra: list[tuple[str, Any]], app: str | None, repeat: int,
               from_user: str = "sys", agent: bool = False):
        app = app or self.app_for(kind)
        fields = [("ToUserName", self.corp_id), ("FromUserName", from_user), ("CreateTime", self._now()),
                  ("MsgType", "event"), ("Event", event), *extra]
        agent_id = self.apps[app].agent_id
        if agent and agent_id is not None:
            fields.append(("AgentID", int(agent_id)))
        return self.send(app, fields, repeat=repeat)

    # ---- messages from members to the self-built app
    def text_message(self, userid: str, content: str, *, msg_id: int | None = None, app: str | None = None,
                     repeat: int = 1):
        app = app or self.app_for("app")
        fields = [("ToUserName", self.corp_id), ("FromUserName", userid), ("CreateTime", self._now()),
                  ("MsgType", "text"), ("Content", content), ("MsgId", msg_id or next(_msg_ids))]
        if self.apps[app].agent_id is not None:
            fields.append(("AgentID", int(self.apps[app].agent_id)))
        return self.send(app, fields, repeat=repeat)

    def template_card_event(self, userid: str, task_id: str, event_key: str, response_code: str, *,
                            card_type: str = "button_interaction", app: str | None = None, repeat: int = 1):
        return self._event("app", "template_card_event",
                           [("EventKey", event_key), ("TaskId", task_id), ("CardType", card_type),
                            ("ResponseCode", response_code)], app, repeat, from_user=userid, agent=True)

    # ---- 客户联系
    def external_contact(self, change_type: str, userid: str, external_userid: str, *, state: str | None = None,
                         welcome_code: str | None = None, source: str | None = None,
                         fail_reason: str | None = None, app: str | None = None, repeat: int = 1):
        if change_type not in CONTACT_CHANGE_TYPES:
            raise ValueError(f"unknown ChangeType {change_type!r}")
        extra: list[tuple[str, Any]] = [("ChangeType", change_type), ("UserID", userid),
                                        ("ExternalUserID", external_userid)]
        if change_type in ("add_external_contact", "add_half_external_contact"):
            if state is not None:
                extra.append(("State", state))
            if welcome_code is not None:
                extra.append(("WelcomeCode", welcome_code))
        if change_type == "del_external_contact" and source:
            extra.append(("Source", source))
        if change_type == "transfer_fail":
            if fail_reason not in TRANSFER_FAIL_REASONS:
                raise ValueError(f"FailReason must be one of {sorted(TRANSFER_FAIL_REASONS)}")
            extra.append(("FailReason", fail_reason))
        return self._event("contacts", "change_external_contact", extra, app, repeat)

    def add_external_contact(self, userid: str, external_userid: str, state: str = "", welcome_code: str = "",
                             **kw):
        return self.external_contact("add_external_contact", userid, external_userid, state=state,
                                     welcome_code=welcome_code, **kw)

    def add_half_external_contact(self, userid: str, external_userid: str, state: str = "",
                                  welcome_code: str = "", **kw):
        return self.external_contact("add_half_external_contact", userid, external_userid, state=state,
                                     welcome_code=welcome_code, **kw)

    def edit_external_contact(self, userid: str, external_userid: str, **kw):
        return self.external_contact("edit_external_contact", userid, external_userid, **kw)

    def del_external_contact(self, userid: str, external_userid: str, source: str | None = None, **kw):
        return self.external_contact("del_external_contact", userid, external_userid, source=source, **kw)

    def del_follow_user(self, userid: str, external_userid: str, **kw):
        return self.external_contact("del_follow_user", userid, external_userid, **kw)

    def transfer_fail(self, takeover_userid: str, external_userid: str, fail_reason: str, **kw):
        return self.external_contact("transfer_fail", takeover_userid, external_userid,
                                     fail_reason=fail_reason, **kw)

    def external_chat(self, chat_id: str, change_type: str, *, update_detail: str | None = None,
                      join_scene: int | None = None, quit_scene: int | None = None,
                      mem_change_list: list[str] = (), app: str | None = None, repeat: int = 1):
        if change_type not in ("create", "update", "dismiss"):
            raise ValueError("ChangeType must be create, update or dismiss")
        extra: list[tuple[str, Any]] = [("ChatId", chat_id), ("ChangeType", change_type)]
        if update_detail:
            extra.append(("UpdateDetail", update_detail))
        if join_scene is not None:
            extra.append(("JoinScene", join_scene))
        if quit_scene is not None:
            extra.append(("QuitScene", quit_scene))
        if mem_change_list:
            extra += [("MemChangeCnt", len(mem_change_list)),
                      ("MemChangeList", {"Item": list(mem_change_list)})]
        return self._event("contacts", "change_external_chat", extra, app, repeat)

    def external_tag(self, tag_id: str, change_type: str, tag_type: str = "tag", *, app: str | None = None,
                     repeat: int = 1):
        if change_type not in ("create", "update", "delete", "shuffle") or tag_type not in ("tag", "tag_group"):
            raise ValueError("bad change_external_tag ChangeType/TagType")
        return self._event("contacts", "change_external_tag",
                           [("Id", tag_id), ("TagType", tag_type), ("ChangeType", change_type)], app, repeat)

    # ---- 微信客服 and session archive
    def kf_msg_or_event(self, open_kfid: str, token: str, *, app: str | None = None, repeat: int = 1):
        app = app or self.app_for("kf")
        fields = [("ToUserName", self.corp_id), ("CreateTime", self._now()), ("MsgType", "event"),
                  ("Event", "kf_msg_or_event"), ("Token", token), ("OpenKfId", open_kfid)]
        return self.send(app, fields, repeat=repeat)

    def msgaudit_notify(self, *, app: str | None = None, repeat: int = 1):
        return self._event("archive", "msgaudit_notify", [], app, repeat, agent=True)
