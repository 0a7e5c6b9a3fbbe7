"""Full resync of members' external contacts from WeCom (`advisor-bot contacts resync`).

For each member with 客户联系 (get_follow_user_list): page batch/get_by_user; contacts and relations seen
are upserted, relations we hold that WeCom no longer has are ended (reason `resync`), and the tags WeCom
reports on each relation become our record of what is synced (so the next tag sync sends only real
differences). Pages are read from WeCom first, then written in their own unit of work.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import delete, select
from wechatpy.exceptions import WeChatClientException

from bot.contacts import directory
from bot.contacts.models import FOLLOW_ACTIVE, Contact, ContactTagSynced, Follow, Tag
from bot.contacts.sqlutil import insert

logger = logging.getLogger(__name__)
NOT_EXTERNAL_CONTACT = 84061


@dataclass
class ResyncReport:
    members: int = 0
    relations: int = 0
    added: int = 0
    ended: int = 0
    refreshed: int = 0

    def as_dict(self) -> dict:
        return dict(vars(self))


class ContactResync:
    def __init__(self, session_scope, wecom_factory, clock):
        self._session = session_scope
        self._wecom = wecom_factory
        self.clock = clock

    def run(self, userids: list[str] | None = None) -> ResyncReport:
        client = self._wecom()
        report = ResyncReport()
        userids = userids or client.external_contact.get_follow_user_list().get("follow_user", [])
        with self._session() as session:
            for userid in userids:
                directory.upsert_member(session, userid, self.clock.now(), active=True)
        for userid in userids:
            report.members += 1
            items = self._relations(client, userid)
            self._apply(userid, items, report)
        logger.info("contacts resync: %d members, %d relations", report.members, report.relations)
        return report

    def _relations(self, client, userid: str) -> list[dict]:
        items, cursor = [], ""
        while True:
            try:
                page = client.external_contact.batch_get_by_user(userid, cursor=cursor, limit=100)
            except WeChatClientException as exc:
                if exc.errcode == NOT_EXTERNAL_CONTACT:  # a member without clients
                    return items
                raise
            items.extend(page.get("external_contact_list", []))
            cursor = page.get("next_cursor") or ""
            if not cursor:
                return items

    def _apply(self, userid: str, items: list[dict], report: ResyncReport) -> None:
        now = self.clock.now()
        with self._session() as session:
            wecom_ids = {t.wecom_tag_id: t.id for t in session.scalars(select(Tag).where(Tag.wecom_tag_id.is_not(None)))}
            seen = set()
            for item in items:
                contact, follow = item.get("external_contact", {}), item.get("follow_info", {})
                eu = contact.get("external_userid")
                if not eu:
                    continue
                seen.add(eu)
                report.relations += 1
                report.added += directory.follow_added(session, eu, userid, now, reason="resync",
                                                       state=follow.get("state") or None)
                row = session.scalar(select(Contact).where(Contact.external_userid == eu))
                row.name = contact.get("name") or row.name
                row.seen_in_wecom, row.refresh_needed, row.updated_at = True, False, now
                report.refreshed += 1
                self._synced(session, row.id, userid, follow.get("tag_id") or [], wecom_ids)
            gone = session.scalars(select(Contact.external_userid).join(Follow, Follow.contact_id == Contact.id)
                                   .where(Follow.userid == userid, Follow.status == FOLLOW_ACTIVE)).all()
            for eu in gone:
                if eu not in seen:
                    report.ended += directory.follow_ended(session, eu, userid, now, directory.END_RESYNC)

    def refresh_marked(self, limit: int = 500) -> dict:
        """Fetch externalcontact/get for contacts marked by add/edit events; returns counts."""
        with self._session() as session:
            eus = list(session.scalars(select(Contact.external_userid).where(
                Contact.refresh_needed.is_(True), Contact.seen_in_wecom.is_(True)).order_by(Contact.id).limit(limit)))
        details, gone = {}, []
        client = self._wecom() if eus else None
        for eu in eus:
            try:
                details[eu] = client.external_contact.get(eu)
            except WeChatClientException as exc:
                if exc.errcode not in (40096, NOT_EXTERNAL_CONTACT):
                    raise
                gone.append(eu)
        now = self.clock.now()
        with self._session() as session:
            wecom_ids = {t.wecom_tag_id: t.id for t in session.scalars(select(Tag).where(Tag.wecom_tag_id.is_not(None)))}
            for eu, detail in details.items():
                _refresh_one(session, eu, detail, wecom_ids, now)
            for eu in gone:
                session.execute(Contact.__table__.update().where(Contact.external_userid == eu)
                                .values(refresh_needed=False))
        return {"refreshed": len(details), "gone": len(gone)}

    @staticmethod
    def _synced(session, contact_id: int, userid: str, tag_ids: list[str], wecom_ids: dict[str, int]) -> None:
        session.execute(delete(ContactTagSynced).where(ContactTagSynced.contact_id == contact_id,
                                                       ContactTagSynced.userid == userid))
        for wid in tag_ids:
            if wid in wecom_ids:
                session.execute(insert(session, ContactTagSynced).values(
                    contact_id=contact_id, userid=userid, tag_id=wecom_ids[wid]).on_conflict_do_nothing())


def _refresh_one(session, eu: str, detail: dict, wecom_ids: dict[str, int], now) -> None:
    row = session.scalar(select(Contact).where(Contact.external_userid == eu))
    row.name = (detail.get("external_contact") or {}).get("name") or row.name
    row.refresh_needed, row.updated_at = False, now
    for follow in detail.get("follow_user", []):
        userid = follow.get("userid")
        if userid:
            directory.follow_added(session, eu, userid, now, reason="resync", state=follow.get("state") or None)
            tag_ids = [t.get("tag_id") for t in follow.get("tags", []) if t.get("type", 1) == 1]
            ContactResync._synced(session, row.id, userid, tag_ids, wecom_ids)

