"""The contacts service: one small facade over the domain's parts, built from the runtime.

`runtime.services.contacts` → ContactsService with
  .settings      ContactsSettings ([contacts])
  .importer      CrmImporter (import_file)
  .segments      SegmentService (validate / count / external_userids / by_owner)
  .tag_sync      TagSync (ensure_mirror / sync / resync_mirror)
  .inheritance   Inheritance (transfer / assign_unassigned / poll / reroute_failed)
  .resync        ContactResync (run)
and plain methods for members, contacts, segments (select_segment) and tag recompute.
"""

from __future__ import annotations

from functools import cached_property

from bot.contacts import directory
from bot.contacts.crm_import import CrmImporter
from bot.contacts.segments import SegmentService
from bot.contacts.settings import ContactsSettings
from bot.contacts.tags import RecomputeReport, recompute


def load_contacts_settings(settings) -> ContactsSettings:
    return settings.domain("contacts", ContactsSettings)


def contacts_app(runtime, settings: ContactsSettings) -> str:
    """The WeCom app used for 客户联系 calls."""
    if settings.wecom_app:
        return settings.wecom_app
    name = runtime.wecom.app_of_kind("contacts") or runtime.wecom.app_of_kind("app")
    if name is None:
        raise LookupError("没有配置可调用客户联系接口的企业微信应用 ([wecom.apps.*] kind = contacts/app)")
    return name


class ContactsService:
    def __init__(self, runtime, settings: ContactsSettings | None = None):
        self.runtime = runtime
        self.settings = settings or load_contacts_settings(runtime.settings)
        self.clock = runtime.clock

    # -- parts ---------------------------------------------------------------------------------
    @cached_property
    def importer(self) -> CrmImporter:
        return CrmImporter(self.runtime.engine, self.clock, self.settings)

    @cached_property
    def segments(self) -> SegmentService:
        return SegmentService(self.runtime.session_factory)

    def wecom(self):
        return self.runtime.wecom.client(contacts_app(self.runtime, self.settings))

    @cached_property
    def tag_sync(self):
        from bot.contacts.tag_sync import TagSync

        return TagSync(self.runtime.session, self.wecom, self.runtime.redis, self.settings,
                       prefix=self.runtime.settings.redis.prefix)

    @cached_property
    def inheritance(self):
        from bot.contacts.inheritance import Inheritance

        return Inheritance(self.runtime.session, self.wecom, self.clock, self.settings)

    @cached_property
    def welcome(self):
        from bot.contacts.welcome import WelcomeSender

        return WelcomeSender(self.runtime, self.settings, self.wecom)

    @cached_property
    def resync(self):
        from bot.contacts.resync import ContactResync

        return ContactResync(self.runtime.session, self.wecom, self.clock)

    # -- members and contacts ------------------------------------------------------------------
    def set_member(self, userid: str, **fields) -> dict:
        with self.runtime.session() as session:
            m = directory.upsert_member(session, userid, self.clock.now(), **fields)
            return {"userid": m.userid, "role": m.role, "active": m.active, "capacity": m.capacity}

    def show(self, external_userid: str) -> dict:
        with self.runtime.session() as session:
            return directory.show(session, external_userid)

    def get(self, external_userid: str) -> dict | None:
        """The contact as `show` gives it, or None for an unknown client."""
        try:
            return self.show(external_userid)
        except directory.UnknownContact:
            return None

    def owner_of(self, external_userid: str) -> str | None:
        """The member who serves the client: the CRM owner if they still follow the client, else the
        most recently added active follow user."""
        from sqlalchemy import select

        from bot.contacts.models import FOLLOW_ACTIVE, Contact, CrmClient, Follow

        with self.runtime.session() as session:
            active = session.execute(select(Follow.userid).join(Contact, Contact.id == Follow.contact_id)
                                     .where(Contact.external_userid == external_userid, Follow.status == FOLLOW_ACTIVE)
                                     .order_by(Follow.added_at.desc(), Follow.userid)).scalars().all()
            crm_owner = session.scalar(select(CrmClient.owner_userid)
                                       .where(CrmClient.external_userid == external_userid))
        if crm_owner in active:
            return crm_owner
        return active[0] if active else None

    def risk_level(self, external_userid: str) -> str | None:
        """The client's CRM risk rating (C1–C5), None when unrated or unknown."""
        from sqlalchemy import select

        from bot.contacts.models import CrmClient

        with self.runtime.session() as session:
            return session.scalar(select(CrmClient.risk_level).where(CrmClient.external_userid == external_userid))

    def clients_of(self, userid: str, limit: int = 500) -> list[dict]:
        """The clients a member serves now, with asset tier, lifecycle stage and tags (for the console)."""
        from sqlalchemy import select

        from bot.contacts.models import FOLLOW_ACTIVE, Contact, ContactTag, Follow, Tag, TagGroup
        from bot.contacts.tag_rules import ASSET_TIERS, LIFECYCLE

        with self.runtime.session() as session:
            contacts = session.execute(
                select(Contact.id, Contact.external_userid, Contact.name, Contact.inherited)
                .join(Follow, Follow.contact_id == Contact.id)
                .where(Follow.userid == userid, Follow.status == FOLLOW_ACTIVE)
                .order_by(Contact.external_userid).limit(limit)).all()
            ids = [c.id for c in contacts]
            tags: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
            if ids:
                for contact_id, group, name in session.execute(
                        select(ContactTag.contact_id, TagGroup.name, Tag.name)
                        .join(Tag, Tag.id == ContactTag.tag_id).join(TagGroup, TagGroup.id == Tag.group_id)
                        .where(ContactTag.contact_id.in_(ids)).order_by(TagGroup.name, Tag.name)):
                    tags[contact_id].append((group, name))
        return [{"external_userid": c.external_userid, "name": c.name, "inherited": c.inherited,
                 # a client can hold several tiers at once (e.g. 有效户 and 长尾)
                 "tier": "、".join(n for g, n in tags[c.id] if g == ASSET_TIERS.name) or None,
                 "stage": next((n for g, n in tags[c.id] if g == LIFECYCLE.name), None),
                 "tags": [{"group": g, "name": n} for g, n in tags[c.id]]} for c in contacts]

    def counts(self) -> dict:
        """Contacts by asset tier, lifecycle stage and owner, counted in the database."""
        from sqlalchemy import func, select

        from bot.contacts.models import FOLLOW_ACTIVE, ContactTag, Follow, Tag, TagGroup
        from bot.contacts.tag_rules import ASSET_TIERS, LIFECYCLE

        with self.runtime.session() as session:
            def by_group(group: str) -> dict[str, int]:
                rows = session.execute(select(Tag.name, func.count(ContactTag.contact_id))
                                       .join(TagGroup, TagGroup.id == Tag.group_id)
                                       .join(ContactTag, ContactTag.tag_id == Tag.id)
                                       .where(TagGroup.name == group).group_by(Tag.name)).all()
                return {name: n for name, n in rows}

            by_owner = dict(session.execute(select(Follow.userid, func.count(Follow.contact_id.distinct()))
                                            .where(Follow.status == FOLLOW_ACTIVE).group_by(Follow.userid)).all())
            return {"by_tier": by_group(ASSET_TIERS.name), "by_stage": by_group(LIFECYCLE.name), "by_owner": by_owner}

    def select_segment(self, expr: str, *, reachable_only: bool = True):
        """A Select of external_userid for a segment expression (tag ids resolved now); SegmentError."""
        from bot.contacts.models import Contact

        with self.runtime.session() as session:
            query = self.segments.select(session, expr, reachable_only=reachable_only)
        return query.with_only_columns(Contact.external_userid)

    # -- tags ----------------------------------------------------------------------------------
    def recompute_tags(self) -> RecomputeReport:
        with self.runtime.session() as session:
            return recompute(session, self.settings, self.clock.now())


def build_contacts_service(runtime) -> ContactsService:
    return ContactsService(runtime)
