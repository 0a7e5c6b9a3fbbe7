"""Corp customer tags (企业客户标签): groups, tags, and marking them on a (member, customer) relation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from . import errors as E
from .contacts import Contacts
from .core import Core, to_int
from .errors import WeComError, require

MAX_NAME = 30
MAX_TAGS = 3000


@dataclass
class Tag:
    id: str
    name: str
    group_id: str
    order: int
    create_time: datetime
    created_by: str | None = None  # app name; None = made in the admin console


@dataclass
class TagGroup:
    group_id: str
    group_name: str
    order: int
    create_time: datetime
    tag_ids: list[str] = field(default_factory=list)
    created_by: str | None = None


class Tags:
    def __init__(self, core: Core):
        self.core = core
        self.groups: dict[str, TagGroup] = {}
        self.tags: dict[str, Tag] = {}
        self.contacts: Contacts | None = None  # set by the simulator (contacts needs our lookup too)

    def lookup(self, tag_id: str) -> dict | None:
        tag = self.tags.get(tag_id)
        if tag is None:
            return None
        return {"group_name": self.groups[tag.group_id].group_name, "tag_name": tag.name}

    def id_by_name(self, group_name: str, tag_name: str) -> str | None:
        for g in self.groups.values():
            if g.group_name == group_name:
                for tid in g.tag_ids:
                    if self.tags[tid].name == tag_name:
                        return tid
        return None

    # ---- creation (shared by the endpoint and the Python seeding API)
    def create(self, group_name: str | None, names: list[tuple[str, int]], group_id: str | None = None,
               group_order: int = 0, app: str | None = None) -> TagGroup:
        now = self.core.now()
        if group_id:
            group = self.groups.get(group_id)
            require(group is not None, E.INVALID_TAG_ID, group_id)
        else:
            _check_name(group_name)
            group = next((g for g in self.groups.values() if g.group_name == group_name), None)
            if group is None:
                group = TagGroup(self.core.new_id("et"), group_name, group_order, now, created_by=app)
                self.groups[group.group_id] = group
        require(len(self.tags) + len(names) <= MAX_TAGS, E.TOO_MANY_TAGS)
        existing = {self.tags[t].name for t in group.tag_ids}
        for name, _ in names:
            _check_name(name)
            # Chosen: a duplicate name in the group is an error (40071), not a silent reuse.
            require(name not in existing, E.INVALID_TAG_NAME, f"duplicate {name}")
            existing.add(name)
        for name, order in names:
            tag = Tag(self.core.new_id("et"), name, group.group_id, order, now, created_by=app)
            self.tags[tag.id] = tag
            group.tag_ids.append(tag.id)
        return group

    def _group_json(self, g: TagGroup, only: set[str] | None = None) -> dict:
        tags = [self.tags[t] for t in g.tag_ids if only is None or t in only]
        return {"group_id": g.group_id, "group_name": g.group_name, "create_time": self.core.ts(g.create_time),
                "order": g.order, "deleted": False,
                "tag": [{"id": t.id, "name": t.name, "create_time": self.core.ts(t.create_time),
                         "order": t.order, "deleted": False} for t in tags]}

    # ---- endpoints
    def api_list(self, p: dict) -> dict:
        tag_ids = p.get("tag_id") or []
        group_ids = p.get("group_id") or []
        require(isinstance(tag_ids, list) and isinstance(group_ids, list), E.INVALID_PARAM)
        if group_ids:  # WeCom ignores tag_id when group_id is given
            groups = [self._group_json(self.groups[g]) for g in group_ids if g in self.groups]
        elif tag_ids:
            wanted = {t for t in tag_ids if t in self.tags}
            groups = [self._group_json(g, wanted) for g in self.groups.values() if wanted & set(g.tag_ids)]
        else:
            groups = [self._group_json(g) for g in self.groups.values()]
        return {"errcode": 0, "errmsg": "ok", "tag_group": groups}

    def api_add(self, p: dict) -> dict:
        raw = p.get("tag")
        require(isinstance(raw, list) and raw, E.INVALID_PARAM, "tag")
        require(p.get("group_id") or p.get("group_name"), E.INVALID_PARAM, "group_id or group_name")
        names = [(str(t.get("name", "")), to_int(t.get("order"), 0)) for t in raw if isinstance(t, dict)]
        require(len(names) == len(raw), E.INVALID_PARAM, "tag")
        before = set(self.tags)
        group = self.create(p.get("group_name"), names, p.get("group_id"), to_int(p.get("order"), 0),
                            app=p["_app"].name if "_app" in p else None)
        body = self._group_json(group, set(self.tags) - before)
        body.pop("deleted")
        return {"errcode": 0, "errmsg": "ok", "tag_group": body}

    def _may_change(self, p: dict, item: Tag | TagGroup) -> None:
        """An app edits only the tags it created; the 客户联系 secret edits all of them."""
        app = p.get("_app")
        if app is not None and app.kind != "contacts":
            require(item.created_by == app.name, E.API_FORBIDDEN, "tag created by another app or the console")

    def api_edit(self, p: dict) -> dict:
        ident = p.get("id")
        name = p.get("name")
        if name is not None:
            _check_name(name)
        if ident in self.tags:
            tag = self.tags[ident]
            self._may_change(p, tag)
            siblings = {self.tags[t].name for t in self.groups[tag.group_id].tag_ids if t != ident}
            require(name is None or name not in siblings, E.INVALID_TAG_NAME, "duplicate")
            tag.name = name if name is not None else tag.name
            tag.order = to_int(p.get("order"), tag.order)
        elif ident in self.groups:
            group = self.groups[ident]
            self._may_change(p, group)
            others = {g.group_name for g in self.groups.values() if g.group_id != ident}
            require(name is None or name not in others, E.INVALID_TAG_NAME, "duplicate group name")
            group.group_name = name if name is not None else group.group_name
            group.order = to_int(p.get("order"), group.order)
        else:
            raise WeComError(E.INVALID_TAG_ID, str(ident))
        return {"errcode": 0, "errmsg": "ok"}

    def api_del(self, p: dict) -> dict:
        tag_ids = p.get("tag_id") or []
        group_ids = p.get("group_id") or []
        require(tag_ids or group_ids, E.INVALID_PARAM, "tag_id or group_id")
        for t in tag_ids:
            require(t in self.tags, E.INVALID_TAG_ID, t)
        for g in group_ids:
            require(g in self.groups, E.INVALID_TAG_ID, g)
            self._may_change(p, self.groups[g])
        for t in tag_ids:
            self._may_change(p, self.tags[t])
        for g in group_ids:
            tag_ids = list(tag_ids) + self.groups[g].tag_ids
        for t in set(tag_ids):
            tag = self.tags.pop(t)
            group = self.groups[tag.group_id]
            group.tag_ids.remove(t)
            for f in self.contacts.follows.values():
                f.tags.discard(t)
        # A group without tags does not exist in WeCom.
        for gid in [g for g, grp in self.groups.items() if not grp.tag_ids]:
            del self.groups[gid]
        return {"errcode": 0, "errmsg": "ok"}

    def api_mark(self, p: dict) -> dict:
        add = p.get("add_tag") or []
        remove = p.get("remove_tag") or []
        require(isinstance(add, list) and isinstance(remove, list), E.INVALID_PARAM)
        require(add or remove, E.INVALID_PARAM, "add_tag or remove_tag")
        for t in [*add, *remove]:
            require(t in self.tags, E.INVALID_TAG_ID, str(t))
        follow = self.contacts.relation(p.get("userid"), p.get("external_userid"))
        follow.tags |= set(add)
        follow.tags -= set(remove)
        return {"errcode": 0, "errmsg": "ok"}

    def routes(self) -> dict[str, Callable[[dict], dict]]:
        return {
            "externalcontact/get_corp_tag_list": self.api_list,
            "externalcontact/add_corp_tag": self.api_add,
            "externalcontact/edit_corp_tag": self.api_edit,
            "externalcontact/del_corp_tag": self.api_del,
            "externalcontact/mark_tag": self.api_mark,
        }


def _check_name(name: Any) -> None:
    require(isinstance(name, str) and name.strip(), E.INVALID_TAG_NAME, "empty")
    require(len(name) <= MAX_NAME, E.INVALID_TAG_NAME, f"longer than {MAX_NAME}")
