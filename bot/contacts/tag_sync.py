"""WeCom tag sync: local tag groups mirrored as corp tags, and mark_tag sent only for differences.

The mirror: every local group with `sync` becomes a corp tag group, created once with add_corp_tag, the
ids kept on tag_group/tag. `resync_mirror` reads get_corp_tag_list and makes the local ids honest (a tag
deleted in WeCom loses its id and is created again; a renamed one is renamed back — the bot owns them).

The diff: desired = contact_tag × the contact's active owners (tags with a WeCom id); last synced =
contact_tag_synced. Each run takes up to `tag_sync_batch` (contact, owner) pairs that differ, sends one
mark_tag per pair through a Redis token bucket, and records what WeCom accepted. WeCom is never called
while a database transaction is open: read, close, call, then write in a new unit of work.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update
from wechatpy.exceptions import WeChatClientException

from bot.contacts.models import Contact, ContactTagSynced, Tag, TagGroup
from bot.contacts.ratelimit import TokenBucket
from bot.contacts.sqlutil import insert, sql
from bot.wecom.client import WeComRateLimited

logger = logging.getLogger(__name__)

# (contact, owner) pairs whose tags differ: desired rows not yet synced, and synced rows no longer desired.
# Both sides are anti-joins on primary keys (PURGE_STALE runs first, so every synced row has an active
# owner and a tag with a WeCom id).
DIFF_PAIRS = """
SELECT contact_id, userid FROM (
  SELECT ct.contact_id AS contact_id, f.userid AS userid FROM contact_tag ct
  JOIN tag t ON t.id = ct.tag_id AND t.wecom_tag_id IS NOT NULL
  JOIN contact_follow f ON f.contact_id = ct.contact_id AND f.status = 'active'
  WHERE NOT EXISTS (SELECT 1 FROM contact_tag_synced s WHERE s.contact_id = ct.contact_id
                    AND s.userid = f.userid AND s.tag_id = ct.tag_id)
  UNION
  SELECT s.contact_id, s.userid FROM contact_tag_synced s
  WHERE NOT EXISTS (SELECT 1 FROM contact_tag ct WHERE ct.contact_id = s.contact_id AND ct.tag_id = s.tag_id)
) d ORDER BY contact_id, userid LIMIT :limit
"""
# Synced rows of relations that ended, or of tags WeCom no longer has, need no call: forget them.
PURGE_STALE = (
    "DELETE FROM contact_tag_synced WHERE NOT EXISTS (SELECT 1 FROM contact_follow f "
    "WHERE f.contact_id = contact_tag_synced.contact_id AND f.userid = contact_tag_synced.userid "
    "AND f.status = 'active')",
    "DELETE FROM contact_tag_synced WHERE NOT EXISTS (SELECT 1 FROM tag t "
    "WHERE t.id = contact_tag_synced.tag_id AND t.wecom_tag_id IS NOT NULL)",
)


def _purge_stale(session) -> None:
    for statement in PURGE_STALE:
        session.execute(sql(statement))


@dataclass
class SyncReport:
    calls: int = 0
    pairs: int = 0
    added: int = 0
    removed: int = 0
    failed: int = 0
    created_tags: int = 0
    errors: dict[int, int] = field(default_factory=dict)
    stopped: str | None = None

    def as_dict(self) -> dict:
        return dict(vars(self))


class TagSync:
    def __init__(self, session_scope, wecom_factory, redis, settings, *, prefix: str = "advisor-bot", sleep=None):
        self._session = session_scope
        self._wecom = wecom_factory
        self.settings = settings
        kwargs = {"sleep": sleep} if sleep else {}
        self.bucket = TokenBucket(redis, f"{prefix}:contacts:mark_tag", per_minute=settings.tag_sync_rate_per_minute,
                                  burst=settings.tag_sync_burst, **kwargs)

    # -- the mirror ---------------------------------------------------------------------------
    def resync_mirror(self) -> dict:
        """Read WeCom's corp tags and make local ids honest. Returns counts."""
        groups = self._wecom().external_contact.get_corp_tag_list().get("tag_group", [])
        remote_tags = {t["id"]: (g["group_id"], g["group_name"], t["name"]) for g in groups for t in g.get("tag", [])}
        remote_groups = {g["group_id"]: g["group_name"] for g in groups}
        renames: list[tuple[str, str]] = []
        with self._session() as session:
            adopted = cleared = 0
            for group in session.scalars(select(TagGroup).where(TagGroup.sync.is_(True))):
                if group.wecom_group_id not in remote_groups:
                    match = next((gid for gid, name in remote_groups.items() if name == group.name), None)
                    cleared += group.wecom_group_id is not None
                    group.wecom_group_id = match
                for tag in session.scalars(select(Tag).where(Tag.group_id == group.id)):
                    remote = remote_tags.get(tag.wecom_tag_id)
                    if remote is not None and remote[0] == group.wecom_group_id:
                        if remote[2] != tag.name:
                            renames.append((tag.wecom_tag_id, tag.name))
                        continue
                    cleared += tag.wecom_tag_id is not None
                    tag.wecom_tag_id = next((tid for tid, (gid, _, name) in remote_tags.items()
                                             if gid == group.wecom_group_id and name == tag.name), None)
                    adopted += tag.wecom_tag_id is not None
                session.flush()
            _purge_stale(session)
        for tag_id, name in renames:  # after the commit: WeCom calls never run inside a transaction
            self._wecom().external_contact.edit_corp_tag(tag_id, name=name)
        return {"remote_tags": len(remote_tags), "adopted": adopted, "cleared": cleared, "renamed": len(renames)}

    def ensure_mirror(self) -> int:
        """Create in WeCom the local tags that have no corp tag yet (one add_corp_tag per group)."""
        with self._session() as session:
            known = session.scalar(select(func.count()).select_from(Tag).where(Tag.wecom_tag_id.is_not(None)))
            rows = session.execute(select(TagGroup.id, TagGroup.name, TagGroup.wecom_group_id, Tag.name)
                                   .join(Tag, Tag.group_id == TagGroup.id)
                                   .where(TagGroup.sync.is_(True), Tag.wecom_tag_id.is_(None))
                                   .order_by(TagGroup.id, Tag.id)).all()
        missing: dict[tuple, list[str]] = defaultdict(list)
        for gid, gname, wgid, tname in rows:
            missing[(gid, gname, wgid)].append(tname)
        created = 0
        for (gid, gname, wgid), names in missing.items():
            room = self.settings.max_corp_tags - known - created
            if room <= 0:
                logger.warning("corp tag limit reached (%d); %d local tags not mirrored", self.settings.max_corp_tags,
                               sum(len(v) for v in missing.values()) - created)
                break
            names = names[:room]
            result = self._wecom().external_contact.add_corp_tag(
                wgid, None if wgid else gname, None, [{"name": n} for n in names])["tag_group"]
            ids = {t["name"]: t["id"] for t in result.get("tag", [])}
            with self._session() as session:
                session.execute(update(TagGroup).where(TagGroup.id == gid).values(wecom_group_id=result["group_id"]))
                for name, tag_id in ids.items():
                    session.execute(update(Tag).where(Tag.group_id == gid, Tag.name == name)
                                    .values(wecom_tag_id=tag_id))
            created += len(ids)
        return created

    # -- the diff -----------------------------------------------------------------------------
    def _plan(self, limit: int) -> list[tuple[int, str, str, list[tuple[int, str]], list[tuple[int, str]]]]:
        """Up to `limit` differing pairs: (contact id, userid, external_userid, [(tag id, wecom id) to add],
        [(tag id, wecom id) to remove])."""
        with self._session() as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(sql(f"SET LOCAL work_mem = '{int(self.settings.recompute_work_mem_mb)}MB'"))
            _purge_stale(session)
            pairs = session.execute(sql(DIFF_PAIRS, {"limit": limit})).all()
            if not pairs:
                return []
            cids = sorted({c for c, _ in pairs})
            desired = defaultdict(dict)
            for cid, userid, tag_id, wid in session.execute(sql(
                    "SELECT ct.contact_id, f.userid, ct.tag_id, t.wecom_tag_id FROM contact_tag ct "
                    "JOIN tag t ON t.id = ct.tag_id AND t.wecom_tag_id IS NOT NULL "
                    "JOIN contact_follow f ON f.contact_id = ct.contact_id AND f.status = 'active' "
                    f"WHERE ct.contact_id IN ({','.join(map(str, cids))})")):
                desired[(cid, userid)][tag_id] = wid
            synced = defaultdict(dict)
            for row in session.execute(select(ContactTagSynced.contact_id, ContactTagSynced.userid,
                                              ContactTagSynced.tag_id, Tag.wecom_tag_id)
                                       .join(Tag, Tag.id == ContactTagSynced.tag_id)
                                       .where(ContactTagSynced.contact_id.in_(cids))):
                synced[(row[0], row[1])][row[2]] = row[3]
            eus = dict(session.execute(select(Contact.id, Contact.external_userid).where(Contact.id.in_(cids))).all())
        plan = []
        for cid, userid in pairs:
            want, have = desired.get((cid, userid), {}), synced.get((cid, userid), {})
            add = [(t, w) for t, w in want.items() if t not in have]
            remove = [(t, w) for t, w in have.items() if t not in want]
            plan.append((cid, userid, eus[cid], add, remove))
        return plan

    def sync(self, limit: int | None = None) -> SyncReport:
        report = SyncReport()
        plan = self._plan(limit or self.settings.tag_sync_batch)
        done: list[tuple[int, str, list[int], list[int]]] = []
        client = self._wecom() if plan else None
        for cid, userid, eu, add, remove in plan:
            report.pairs += 1
            self.bucket.take()
            try:
                client.external_contact.mark_tag(userid, eu, add_tag=[w for _, w in add],
                                                 remove_tag=[w for _, w in remove])
            except WeComRateLimited:
                report.stopped = "rate_limited"
                break
            except WeChatClientException as exc:
                report.failed += 1
                report.errors[exc.errcode] = report.errors.get(exc.errcode, 0) + 1
                logger.warning("mark_tag failed errcode=%s userid=%s contact_id=%s", exc.errcode, userid, cid)
                continue
            report.calls += 1
            report.added += len(add)
            report.removed += len(remove)
            done.append((cid, userid, [t for t, _ in add], [t for t, _ in remove]))
            if len(done) >= 200:
                self._record(done)
                done = []
        self._record(done)
        return report

    def _record(self, done) -> None:
        if not done:
            return
        with self._session() as session:
            for cid, userid, added, removed in done:
                if removed:
                    session.execute(delete(ContactTagSynced).where(
                        ContactTagSynced.contact_id == cid, ContactTagSynced.userid == userid,
                        ContactTagSynced.tag_id.in_(removed)))
                for tag_id in added:
                    session.execute(insert(session, ContactTagSynced).values(contact_id=cid, userid=userid, tag_id=tag_id)
                                    .on_conflict_do_nothing())

    def run(self, limit: int | None = None) -> SyncReport:
        """Mirror honest, missing corp tags created, then one batch of differences sent."""
        self.resync_mirror()
        created = self.ensure_mirror()
        report = self.sync(limit)
        report.created_tags = created
        return report


def forget_wecom_tag(session, wecom_id: str, tag_type: str) -> int:
    """A corp tag (or group) was deleted in WeCom: drop its ids so the next sync creates it again."""
    if tag_type == "tag_group":
        group = session.scalar(select(TagGroup).where(TagGroup.wecom_group_id == wecom_id))
        if group is None:
            return 0
        group.wecom_group_id = None
        tag_ids = list(session.scalars(select(Tag.id).where(Tag.group_id == group.id)))
    else:
        tag_ids = list(session.scalars(select(Tag.id).where(Tag.wecom_tag_id == wecom_id)))
    if tag_ids:
        session.execute(update(Tag).where(Tag.id.in_(tag_ids)).values(wecom_tag_id=None))
        session.execute(delete(ContactTagSynced).where(ContactTagSynced.tag_id.in_(tag_ids)))
    return len(tag_ids)
