"""External contacts (客户), their follow relations with members, and client groups (客户群)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from . import errors as E
from .core import Core, page, to_int
from .errors import WeComError, require

@dataclass
class Customer:
    external_userid: str
    name: str
    type: int = 1  # 1 WeChat user, 2 WeCom user
    gender: int = 0
    unionid: str = ""


@dataclass
class Follow:
    userid: str
    external_userid: str
    createtime: datetime
    remark: str = ""
    description: str = ""
    state: str = ""
    add_way: int = 1
    tags: set[str] = field(default_factory=set)


@dataclass
class GroupChat:
    chat_id: str
    name: str
    owner: str
    create_time: datetime
    members: list[dict] = field(default_factory=list)  # {userid, type 1 member / 2 external, join_time}
    status: int = 0  # 0 normal, 1 owner resigned, 2/3 transfer states


class Contacts:
    def __init__(self, core: Core, tag_lookup: Callable[[str], dict | None]):
        self.core = core
        self.customers: dict[str, Customer] = {}
        self.follows: dict[tuple[str, str], Follow] = {}
        self.chats: dict[str, GroupChat] = {}
        self._tag_lookup = tag_lookup  # tag_id -> {"group_name", "tag_name"} or None if deleted

    # ---- Python API helpers (state changes a real user would make in WeChat)
    def add(self, userid: str, external_userid: str, name: str, *, state: str = "", remark: str = "") -> Follow:
        self.core.member(userid, active=True)
        self.customers.setdefault(external_userid, Customer(external_userid, name))
        follow = Follow(userid, external_userid, self.core.now(), remark=remark, state=state)
        self.follows[(userid, external_userid)] = follow
        return follow

    def remove(self, userid: str, external_userid: str) -> Follow | None:
        return self.follows.pop((userid, external_userid), None)

    def follow_users(self, external_userid: str) -> list[Follow]:
        return [f for (u, x), f in self.follows.items() if x == external_userid]

    def customers_of(self, userid: str) -> list[str]:
        return [x for (u, x) in self.follows if u == userid]

    def relation(self, userid: Any, external_userid: Any) -> Follow:
        self.core.member(userid)
        self.customer(external_userid)
        f = self.follows.get((userid, external_userid))
        if f is None:
            raise WeComError(E.NOT_EXTERNAL_CONTACT, f"{userid}/{external_userid}")
        return f

    def customer(self, external_userid: Any) -> Customer:
        require(isinstance(external_userid, str) and external_userid, E.INVALID_EXTERNAL_USERID)
        c = self.customers.get(external_userid)
        require(c is not None, E.INVALID_EXTERNAL_USERID, external_userid)
        return c

    # ---- JSON shapes
    def _tags_json(self, f: Follow) -> list[dict]:
        out = []
        for tag_id in sorted(f.tags):
            info = self._tag_lookup(tag_id)
            if info:
                out.append({"group_name": info["group_name"], "tag_name": info["tag_name"],
                            "tag_id": tag_id, "type": 1})
        return out

    def _follow_json(self, f: Follow, full: bool = True) -> dict:
        out = {"userid": f.userid, "remark": f.remark, "description": f.description,
               "createtime": self.core.ts(f.createtime), "state": f.state, "add_way": f.add_way,
               "oper_userid": f.userid, "remark_mobiles": []}
        if full:
            out["tags"] = self._tags_json(f)
        else:
            out["tag_id"] = sorted(t for t in f.tags if self._tag_lookup(t))
        return out

    @staticmethod
    def _customer_json(c: Customer) -> dict:
        return {"external_userid": c.external_userid, "name": c.name, "type": c.type,
                "gender": c.gender, "avatar": "", "unionid": c.unionid}

    # ---- endpoints
    def api_get(self, p: dict) -> dict:
        c = self.customer(p.get("external_userid"))
        follows = self.follow_users(c.external_userid)
        require(follows, E.INVALID_EXTERNAL_USERID, "no follow user")
        return {"errcode": 0, "errmsg": "ok", "external_contact": self._customer_json(c),
                "follow_user": [self._follow_json(f) for f in follows], "next_cursor": ""}

    def api_list(self, p: dict) -> dict:
        userid = p.get("userid")
        self.core.member(userid)
        ids = self.customers_of(userid)
        # Real WeCom answers 84061 (not an error to retry) for a member without customers.
        require(ids, E.NOT_EXTERNAL_CONTACT, userid)
        return {"errcode": 0, "errmsg": "ok", "external_userid": ids}

    def api_follow_user_list(self, p: dict) -> dict:
        ids = [m.userid for m in self.core.members.values() if m.status == 1 and m.contact_enabled]
        return {"errcode": 0, "errmsg": "ok", "follow_user": ids}

    def api_batch_get_by_user(self, p: dict) -> dict:
        userids = p.get("userid_list")
        if not userids and p.get("userid"):
            userids = [p["userid"]]  # the older single-userid form wechatpy still sends
        require(isinstance(userids, list) and 0 < len(userids) <= 100, E.INVALID_PARAM, "userid_list")
        limit = to_int(p.get("limit"), 50)
        require(1 <= limit <= 100, E.INVALID_PARAM, "limit")
        for u in userids:
            self.core.member(u)
        rows = [f for u in userids for (fu, x), f in self.follows.items() if fu == u]
        chunk, nxt = page(rows, p.get("cursor"), limit)
        items = [{"external_contact": self._customer_json(self.customers[f.external_userid]),
                  "follow_info": self._follow_json(f, full=False)} for f in chunk]
        return {"errcode": 0, "errmsg": "ok", "external_contact_list": items, "next_cursor": nxt,
                "fail_info": {"unlicensed_userid_list": []}}

    def api_remark(self, p: dict) -> dict:
        follow = self.relation(p.get("userid"), p.get("external_userid"))
        for key, limit in (("remark", 20), ("description", 150)):
            if key in p:
                require(isinstance(p[key], str) and len(p[key]) <= limit, E.INVALID_PARAM, key)
                setattr(follow, key, p[key])
        return {"errcode": 0, "errmsg": "ok"}

    # ---- client groups
    def add_chat(self, chat_id: str, owner: str, name: str, external_userids: list[str] = (),
                 member_userids: list[str] = ()) -> GroupChat:
        self.core.member(owner)
        now = self.core.now()
        members = [{"userid": owner, "type": 1, "join_time": now}]
        members += [{"userid": u, "type": 1, "join_time": now} for u in member_userids]
        members += [{"userid": x, "type": 2, "join_time": now} for x in external_userids]
        chat = GroupChat(chat_id, name, owner, now, members)
        self.chats[chat_id] = chat
        return chat

    def api_groupchat_list(self, p: dict) -> dict:
        limit = to_int(p.get("limit"), 100)
        require(1 <= limit <= 1000, E.INVALID_PARAM, "limit")
        status = to_int(p.get("status_filter"), 0)
        owners = (p.get("owner_filter") or {}).get("userid_list") or []
        # status_filter 0 = no filter; 1 owner resigned, 2 in transfer, 3 transfer done
        chats = [c for c in self.chats.values()
                 if (status == 0 or c.status == status) and (not owners or c.owner in owners)]
        chunk, nxt = page(chats, p.get("cursor"), limit)
        return {"errcode": 0, "errmsg": "ok", "next_cursor": nxt,
                "group_chat_list": [{"chat_id": c.chat_id, "status": c.status} for c in chunk]}

    def api_groupchat_get(self, p: dict) -> dict:
        chat = self.chats.get(p.get("chat_id") or "")
        require(chat is not None, E.INVALID_CHAT_ID)
        need_name = to_int(p.get("need_name"), 0)
        members = []
        for m in chat.members:
            row = {"userid": m["userid"], "type": m["type"], "join_time": self.core.ts(m["join_time"]),
                   "join_scene": 1, "invitor": {"userid": chat.owner}, "group_nickname": ""}
            if need_name:
                row["name"] = (self.customers[m["userid"]].name if m["type"] == 2 and m["userid"] in self.customers
                               else getattr(self.core.members.get(m["userid"]), "name", ""))
            members.append(row)
        return {"errcode": 0, "errmsg": "ok", "group_chat": {
            "chat_id": chat.chat_id, "name": chat.name, "owner": chat.owner,
            "create_time": self.core.ts(chat.create_time), "notice": "", "member_list": members,
            "admin_list": [], "member_version": str(len(members))}}

    def routes(self) -> dict[str, Callable[[dict], dict]]:
        return {
            "externalcontact/get": self.api_get,
            "externalcontact/list": self.api_list,
            "externalcontact/get_follow_user_list": self.api_follow_user_list,
            "externalcontact/batch/get_by_user": self.api_batch_get_by_user,
            "externalcontact/remark": self.api_remark,
            "externalcontact/groupchat/list": self.api_groupchat_list,
            "externalcontact/groupchat/get": self.api_groupchat_get,
        }
