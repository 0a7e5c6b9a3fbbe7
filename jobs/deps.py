"""Adapters over the services campaigns use but do not own (contacts, content, compliance,
conversations, holds), so a missing collaborator fails — or is knowingly skipped — in one place.

- Compliance fails closed: without `bot.compliance.presend` no push is created.
- Holds / human conversations: if those services are not installed there can be no hold and no open
  human conversation, so pushes proceed (logged once).
- Audience: `contacts.select_segment(expr)`; without the contacts service only the default long-tail
  segment is available (CRM total assets under [campaigns] long_tail_assets_yuan).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

logger = logging.getLogger(__name__)


class DependencyMissing(RuntimeError):
    """A collaborating service this action needs is not available."""


def _uid_only(stmt):
    """The segment as a Select of external_userid only (contacts may add columns such as the id)."""
    cols = {c.name: c for c in stmt.selected_columns}
    if list(cols) == ["external_userid"]:
        return stmt
    sub = stmt.subquery("seg")
    return select(sub.c.external_userid)


class Collaborators:
    def __init__(self, runtime, settings):
        self._runtime = runtime
        self._services = runtime.services
        self._settings = settings
        self._guard = None
        self._warned: set[str] = set()

    def _service(self, name: str):
        if not self._services.available(name):
            return None
        try:
            return getattr(self._services, name)
        except ImportError as exc:  # the domain is not shipped; a misconfigured one raises (fails closed)
            self._warn(name, f"service {name} is not installed: {type(exc).__name__}")
            return None

    def _warn(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message)

    # ---- audience ------------------------------------------------------------------------
    def segment(self, expr: str | None):
        expr = (expr or self._settings.default_segment).strip()
        contacts = self._service("contacts")
        if contacts is not None and hasattr(contacts, "select_segment"):
            return _uid_only(contacts.select_segment(expr))
        if contacts is not None and hasattr(contacts, "segments"):  # SegmentService.select(session, expr)
            with self._runtime.session_factory() as session:
                return _uid_only(contacts.segments.select(session, expr))
        if expr == self._settings.default_segment:
            from bot.contacts.models import CrmClient

            return select(CrmClient.external_userid).where(
                CrmClient.external_userid.is_not(None), CrmClient.total_assets < self._settings.long_tail_assets_yuan)
        raise DependencyMissing(f"segment {expr!r} needs the contacts service (runtime.services.contacts)")

    def with_owner_and_risk(self, eligible_stmt, *, dialect: str):
        """Each eligible client with its sender and CRM risk rating, ordered by sender so tasks are cut in
        one pass (byte order on PostgreSQL: a collation-aware sort of a million ids is far slower).
        The sender follows contacts' `owner_of`, set-based: the CRM owner if they still follow the
        client, else the most recently added active follow user (ties: smallest userid)."""
        from bot.contacts.models import FOLLOW_ACTIVE, Contact, CrmClient, Follow

        e = eligible_stmt.subquery("e")
        crm_follow, latest, newer = aliased(Follow), aliased(Follow), aliased(Follow)
        is_crm_owner = and_(crm_follow.contact_id == Contact.id, crm_follow.status == FOLLOW_ACTIVE,
                            crm_follow.userid == CrmClient.owner_userid)
        is_latest = and_(latest.contact_id == Contact.id, latest.status == FOLLOW_ACTIVE, ~exists().where(
            newer.contact_id == latest.contact_id, newer.status == FOLLOW_ACTIVE,
            or_(newer.added_at > latest.added_at, and_(newer.added_at == latest.added_at,
                                                       newer.userid < latest.userid))))
        owner = func.coalesce(crm_follow.userid, latest.userid)
        owner_key, uid_key = owner, e.c.external_userid
        if dialect == "postgresql":
            owner_key, uid_key = owner_key.collate("C"), uid_key.collate("C")
        return (select(e.c.external_userid, e.c.step, owner.label("owner"), CrmClient.risk_level.label("risk"))
                .select_from(e)
                .join(Contact, Contact.external_userid == e.c.external_userid, isouter=True)
                .join(CrmClient, CrmClient.external_userid == e.c.external_userid, isouter=True)
                .join(crm_follow, is_crm_owner, isouter=True)
                .join(latest, is_latest, isouter=True)
                .order_by(owner_key, e.c.step, uid_key))

    # ---- content -------------------------------------------------------------------------
    def library(self):
        content = self._service("content")
        if content is None:
            raise DependencyMissing("content library (runtime.services.content) is not available")
        return getattr(content, "library", content)

    def resolve_content(self, ref: str, now):
        """A content version id or item slug -> (version, sendable)."""
        library = self.library()
        if str(ref).isdigit():
            version = library.get_version(int(ref))
        else:
            item = library.get_item(ref)
            version = library.get_version(item.live_version_id) if item and item.live_version_id else None
        return version, library.is_sendable(version, now)

    # ---- courtesy and compliance -----------------------------------------------------------
    def in_human_conversation(self, external_userid: str) -> bool:
        svc = self._service("conversations")
        if svc is None or not hasattr(svc, "in_human_conversation"):
            self._warn("conversations", "conversations service missing: no open human conversations assumed")
            return False
        return bool(svc.in_human_conversation(external_userid))

    def on_hold(self, external_userid: str) -> bool:
        svc = self._service("holds")
        if svc is None or not hasattr(svc, "is_on_hold"):
            self._warn("holds", "holds service missing: no compliance holds assumed")
            return False
        return bool(svc.is_on_hold(external_userid=external_userid))

    def sender_on_hold(self, userid: str) -> bool:
        """An advisor under a compliance hold sends nothing (checked once per task)."""
        svc = self._service("holds")
        if svc is None or not hasattr(svc, "is_on_hold"):
            return False
        return bool(svc.is_on_hold(userid=userid))

    def presend(self):
        if self._guard is None:
            svc = self._service("presend")
            if svc is not None and hasattr(svc, "check"):
                self._guard = svc
            else:
                try:
                    from bot.compliance.presend import PresendGuard
                    from bot.compliance.settings import ComplianceSettings
                except ImportError as exc:
                    raise DependencyMissing("bot.compliance.presend is missing: nothing may be sent") from exc
                cs = self._runtime.settings.domain("compliance", ComplianceSettings)
                self._guard = PresendGuard.from_settings(self._runtime.session_factory, self._runtime.clock, cs)
        return self._guard

    def check_outbound(self, *, text: str, recipient: str | None, campaign_id: int, content_version_id,
                       product_risk_level: str | None, client_risk_level: str | None) -> Any:
        from bot.compliance.presend import OutboundRequest

        request = OutboundRequest(channel="mass", text=text, recipient=recipient, origin=f"campaign:{campaign_id}",
                                  content_version_id=content_version_id, product_risk_level=product_risk_level,
                                  client_risk_rating=client_risk_level)
        return self.presend().check(request)
