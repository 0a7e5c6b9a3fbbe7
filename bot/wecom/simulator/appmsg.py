"""App messages to members (message/send): text, markdown and template cards, the per-member rate
limits, card clicks (template_card_event) and message/update_template_card."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from . import errors as E
from .core import App, Core, SlidingWindow
from .errors import require

PER_MEMBER_MINUTE = 30
PER_MEMBER_HOUR = 1000
RESPONSE_CODE_TTL = timedelta(hours=72)
MAX_TASK_ID_BYTES = 128
MAX_BUTTONS = 6
MSGTYPES = {"text", "markdown", "template_card", "textcard", "news", "image", "file"}
CARD_TYPES = {"text_notice", "news_notice", "button_interaction", "vote_interaction", "multiple_interaction"}


@dataclass
class ResponseCode:
    code: str
    userid: str
    task_id: str
    issued_at: datetime
    used: bool = False


@dataclass
class AppMessage:
    msgid: str
    agentid: int
    userid: str
    msgtype: str
    payload: dict
    send_time: datetime
    task_id: str = ""
    replaced_by: str = ""  # button.replace_name after update_template_card
    updates: list[dict] = field(default_factory=list)


class AppMessages:
    def __init__(self, core: Core):
        self.core = core
        self.sent: list[AppMessage] = []
        self.task_ids: set[tuple[str, str]] = set()  # (app, task_id): task_id is unique per app
        self.response_codes: dict[str, ResponseCode] = {}
        self._per_member = SlidingWindow()

    def _issue_code(self, userid: str, task_id: str) -> str:
        code = self.core.new_id("RC")
        self.response_codes[code] = ResponseCode(code, userid, task_id, self.core.now())
        return code

    # ---- Python API: a member clicks a button
    def click(self, userid: str, task_id: str, button_key: str) -> tuple[str, AppMessage]:
        card = next((m for m in reversed(self.sent) if m.userid == userid and m.task_id == task_id), None)
        if card is None:
            raise ValueError(f"{userid} has no card {task_id}")
        if card.replaced_by:
            raise ValueError(f"card {task_id} was already updated to {card.replaced_by!r}")
        keys = {b.get("key") for b in card.payload.get("button_list", [])}
        if button_key not in keys:
            raise ValueError(f"card {task_id} has no button {button_key!r}")
        code = self._issue_code(userid, task_id)
        self.core.emit("app", [("ToUserName", self.core.corp_id), ("FromUserName", userid),
                               ("CreateTime", self.core.ts()), ("MsgType", "event"),
                               ("Event", "template_card_event"), ("EventKey", button_key), ("TaskId", task_id),
                               ("CardType", card.payload.get("card_type", "")), ("ResponseCode", code),
                               ("AgentID", card.agentid)])
        return code, card

    # ---- endpoints
    def api_send(self, p: dict) -> dict:
        app: App = p["_app"]
        agentid = p.get("agentid")
        require(agentid is not None and str(agentid) == str(app.agent_id), E.INVALID_AGENTID, str(agentid))
        msgtype = p.get("msgtype")
        require(msgtype in MSGTYPES and isinstance(p.get(msgtype), dict), E.INVALID_PARAM, "msgtype")
        payload = p[msgtype]
        if msgtype in ("text", "markdown"):
            content = payload.get("content") or ""
            require(content, E.EMPTY_CONTENT)
            require(len(content.encode()) <= 2048, E.CONTENT_TOO_LONG, "> 2048 bytes")
        task_id = self._check_card(app, payload) if msgtype == "template_card" else ""
        touser = p.get("touser") or ""
        wanted = [m.userid for m in self.core.members.values()] if touser == "@all" else \
            [u for u in touser.split("|") if u]
        require(wanted or p.get("toparty") or p.get("totag"), E.INVALID_PARAM, "touser")
        valid = [u for u in wanted if u in self.core.members and self.core.members[u].status == 1]
        invalid = [u for u in wanted if u not in valid]
        require(valid, E.ALL_TARGETS_INVALID)
        now = self.core.now()
        for u in valid:
            key = (app.name, u)
            # Chosen: 45009 when a member is over 30/min or 1000/h from this app.
            require(self._per_member.count(key, now, 60) < PER_MEMBER_MINUTE, E.RATE_LIMITED, f"member {u}/min")
            require(self._per_member.count(key, now, 3600) < PER_MEMBER_HOUR, E.RATE_LIMITED, f"member {u}/hour")
        msgid = self.core.new_id("appmsg")
        for u in valid:
            self._per_member.add((app.name, u), now)
            self.sent.append(AppMessage(msgid, int(agentid), u, msgtype, payload, now, task_id))
        out = {"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(invalid), "invalidparty": "",
               "invalidtag": "", "unlicenseduser": "", "msgid": msgid}
        if msgtype == "template_card" and payload.get("card_type") in ("button_interaction", "vote_interaction",
                                                                        "multiple_interaction"):
            self.task_ids.add((app.name, task_id))
            out["response_code"] = self._issue_code(valid[0], task_id)
        return out

    def _check_card(self, app: App, card: dict) -> str:
        require(card.get("card_type") in CARD_TYPES, E.INVALID_PARAM, "card_type")
        if card["card_type"] != "button_interaction":
            return card.get("task_id") or ""
        task_id = card.get("task_id")
        require(isinstance(task_id, str) and task_id, E.INVALID_PARAM, "task_id")
        require(len(task_id.encode()) <= MAX_TASK_ID_BYTES, E.INVALID_PARAM, "task_id > 128 bytes")
        require(all(c.isalnum() or c in "_-@" for c in task_id), E.INVALID_PARAM, "task_id characters")
        # Chosen code: 40058 for a task_id already used by this app.
        require((app.name, task_id) not in self.task_ids, E.INVALID_PARAM, "task_id already exists")
        buttons = card.get("button_list")
        require(isinstance(buttons, list) and 1 <= len(buttons) <= MAX_BUTTONS, E.INVALID_PARAM, "button_list")
        keys = [b.get("key") for b in buttons if isinstance(b, dict)]
        require(len(keys) == len(buttons) and all(isinstance(k, str) and k for k in keys), E.INVALID_PARAM,
                "every button needs a key")
        require(len(set(keys)) == len(keys), E.INVALID_PARAM, "duplicate button key")
        require(all(b.get("text") for b in buttons), E.INVALID_PARAM, "button text")
        require((card.get("main_title") or {}).get("title") or card.get("sub_title_text"), E.INVALID_PARAM,
                "main_title.title or sub_title_text")
        return task_id

    def api_update(self, p: dict) -> dict:
        app: App = p["_app"]
        require(str(p.get("agentid")) == str(app.agent_id), E.INVALID_AGENTID)
        rc = self.response_codes.get(p.get("response_code") or "")
        # Chosen code: 40058 for an unknown, used or expired (72 h) response_code.
        require(rc is not None, E.INVALID_PARAM, "response_code")
        require(not rc.used, E.INVALID_PARAM, "response_code already used")
        require(self.core.now() - rc.issued_at <= RESPONSE_CODE_TTL, E.INVALID_PARAM, "response_code expired")
        button = p.get("button")
        card = p.get("template_card")
        require(isinstance(button, dict) and button.get("replace_name") or isinstance(card, dict),
                E.INVALID_PARAM, "button.replace_name or template_card")
        userids = p.get("userids") or ([] if not p.get("atall") else list(self.core.members))
        rc.used = True
        replace = button.get("replace_name") if isinstance(button, dict) else ""
        targets = set(userids) if userids else {rc.userid}
        for m in self.sent:
            if m.task_id == rc.task_id and m.userid in targets:
                m.replaced_by = replace or "updated"
                m.updates.append({"button": button, "template_card": card, "at": self.core.now()})
        invalid = [u for u in userids if u not in self.core.members]
        return {"errcode": 0, "errmsg": "ok", "invaliduser": invalid}

    def routes(self) -> dict[str, Callable[[dict], dict]]:
        return {"message/send": self.api_send, "message/update_template_card": self.api_update}
