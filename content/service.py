"""The content library service: items, immutable versions, the review workflow, sendability."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope
from content.models import (APPROVED, DRAFT, RETIRED, SUBMITTED, ContentIndexState, ContentItem,
                            ContentVersion)
from content.schema import CONTENT_FIELDS, ContentFields, FieldError, hash_fields, validate_fields

log = logging.getLogger(__name__)


class ContentError(Exception):
    """A workflow rule was broken (unknown item, wrong status, ...). Message is for operators."""


@dataclass(frozen=True)
class ItemSummary:
    item_id: int
    slug: str
    kind: str
    title: str
    latest_version_id: int | None
    latest_status: str | None
    live_version_id: int | None


class ContentService:
    """Content items and their versions. Every write bumps the index generation in the same
    transaction, so matchers in every process see the change before their next search."""

    def __init__(self, session_factory: sessionmaker[Session], clock, *, four_eyes: bool = True):
        self._sessions = session_factory
        self._clock = clock
        self._four_eyes = four_eyes

    # ---- reading -------------------------------------------------------------------------
    def get_version(self, version_id: int) -> ContentVersion | None:
        with self._sessions() as session:
            return session.get(ContentVersion, version_id)

    def get_item(self, item: int | str) -> ContentItem | None:
        with self._sessions() as session:
            return self._item(session, item)

    def versions(self, item: int | str) -> list[ContentVersion]:
        with self._sessions() as session:
            found = self._require_item(session, item)
            stmt = select(ContentVersion).where(ContentVersion.item_id == found.id).order_by(ContentVersion.number)
            return list(session.scalars(stmt))

    def is_sendable(self, version: ContentVersion | None, now: datetime | None = None) -> bool:
        """Approved and inside its validity window: the only content that may ever be sent."""
        if version is None or version.status != APPROVED:
            return False
        now = now or self._clock.now()
        if version.valid_from is not None and now < version.valid_from:
            return False
        return version.valid_until is None or now < version.valid_until

    def list_items(self, *, kind: str | None = None, status: str | None = None, topic: str | None = None,
                   search: str | None = None, limit: int = 100, offset: int = 0) -> list[ItemSummary]:
        with self._sessions() as session:
            stmt = (select(ContentItem, ContentVersion)
                    .join(ContentVersion, ContentVersion.id == ContentItem.latest_version_id)
                    .order_by(ContentItem.slug))
            if kind:
                stmt = stmt.where(ContentItem.kind == kind)
            if status:
                stmt = stmt.where(ContentVersion.status == status)
            if search:
                like = f"%{search}%"
                stmt = stmt.where(or_(ContentVersion.title.like(like), ContentItem.slug.like(like)))
            rows = session.execute(stmt).all()
        if topic:
            rows = [r for r in rows if topic in (r[1].topics or [])]
        return [ItemSummary(i.id, i.slug, i.kind, v.title, i.latest_version_id, v.status, i.live_version_id)
                for i, v in rows[offset:offset + limit]]

    def live_versions(self) -> list[tuple[ContentItem, ContentVersion]]:
        """Every item's approved version (validity is checked at query time by the matcher)."""
        with self._sessions() as session:
            stmt = (select(ContentItem, ContentVersion)
                    .join(ContentVersion, ContentVersion.id == ContentItem.live_version_id)
                    .where(ContentVersion.status == APPROVED).order_by(ContentItem.id))
            return [(i, v) for i, v in session.execute(stmt).all()]

    def generation(self) -> int:
        with self._sessions() as session:
            value = session.scalar(select(ContentIndexState.generation).where(ContentIndexState.id == 1))
            return int(value or 0)

    def count(self) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.count(ContentItem.id))) or 0)

    # ---- writing -------------------------------------------------------------------------
    def create_item(self, *, slug: str, kind: str, title: str, body: str, author: str,
                    source: str | None = None, **fields: Any) -> ContentVersion:
        """Create an item with its first version (a draft unless ``status`` says otherwise)."""
        data = validate_fields({"slug": slug, "kind": kind, "title": title, "body": body, **fields})
        with session_scope(self._sessions) as session:
            if self._item(session, data.slug) is not None:
                raise ContentError(f"content item {data.slug} already exists")
            return self._insert(session, data, author, source)

    def edit_item(self, item_id: int | str, editor: str, **changes: Any) -> ContentVersion:
        """A new draft version: the latest version's fields with ``changes`` applied."""
        unknown = set(changes) - set(CONTENT_FIELDS)
        if unknown:
            raise FieldError([(name, "cannot be edited") for name in sorted(unknown)])
        with session_scope(self._sessions) as session:
            item = self._require_item(session, item_id)
            latest = session.get(ContentVersion, item.latest_version_id)
            current = {name: getattr(latest, name) for name in CONTENT_FIELDS}
            data = validate_fields({"slug": item.slug, "kind": item.kind, **current, **changes,
                                    "status": DRAFT})
            return self._add_version(session, item, data, editor)

    def submit(self, version_id: int, by: str) -> ContentVersion:
        with session_scope(self._sessions) as session:
            version = self._require_version(session, version_id, DRAFT)
            version.status, version.submitted_at = SUBMITTED, self._clock.now()
            self._bump(session)
            return version

    def reject(self, version_id: int, by: str, note: str | None = None) -> ContentVersion:
        with session_scope(self._sessions) as session:
            version = self._require_version(session, version_id, SUBMITTED)
            version.status, version.note = DRAFT, note
            self._bump(session)
            return version

    def approve(self, version_id: int, approver: str) -> ContentVersion:
        """Approve a submitted version; it becomes the item's live version, the old one retires."""
        with session_scope(self._sessions) as session:
            version = self._require_version(session, version_id, SUBMITTED)
            if self._four_eyes and approver == version.created_by:
                raise ContentError("the author of a version cannot approve it")
            self._make_live(session, version, approver)
            return version

    def retire(self, item_id: int | str, by: str, note: str | None = None) -> ContentVersion | None:
        """Withdraw an item: its live version is retired and nothing of it can be sent."""
        with session_scope(self._sessions) as session:
            item = self._require_item(session, item_id)
            if item.live_version_id is None:
                return None
            version = session.get(ContentVersion, item.live_version_id)
            self._retire_version(session, version, by, note)
            item.live_version_id, item.updated_at = None, self._clock.now()
            self._bump(session)
            return version

    def upsert(self, data: ContentFields, actor: str, source: str | None = None) -> str:
        """Bring one item to exactly ``data`` (import). Returns created/updated/status/unchanged.
        All of it happens in one transaction: an item is never half-imported."""
        with session_scope(self._sessions) as session:
            item = self._item(session, data.slug)
            if item is None:
                self._insert(session, data, actor, source)
                return "created"
            if item.kind != data.kind:
                raise FieldError([("kind", f"is {item.kind} in the library; an item's kind cannot change")])
            latest = session.get(ContentVersion, item.latest_version_id)
            if latest.content_hash == data.content_hash():
                if latest.status == data.status:
                    return "unchanged"
                self._set_status(session, item, latest, data.status, actor)
                self._bump(session)
                return "status"
            self._add_version(session, item, data, actor)
            return "updated"

    # ---- internals -----------------------------------------------------------------------
    def _insert(self, session: Session, data: ContentFields, actor: str, source: str | None) -> ContentVersion:
        now = self._clock.now()
        item = ContentItem(slug=data.slug, kind=data.kind, source=source, created_at=now, updated_at=now)
        session.add(item)
        session.flush()
        return self._add_version(session, item, data, actor)

    def _add_version(self, session: Session, item: ContentItem, data: ContentFields, actor: str) -> ContentVersion:
        now = self._clock.now()
        number = (session.scalar(select(func.max(ContentVersion.number))
                                 .where(ContentVersion.item_id == item.id)) or 0) + 1
        values = data.model_dump(include=set(CONTENT_FIELDS))
        version = ContentVersion(item_id=item.id, number=number, status=DRAFT, created_at=now, created_by=actor,
                                 content_hash=hash_fields(values), **values)
        session.add(version)
        session.flush()
        item.latest_version_id, item.updated_at = version.id, now
        self._set_status(session, item, version, data.status, actor)
        self._bump(session)
        return version

    def _set_status(self, session: Session, item: ContentItem, version: ContentVersion, status: str,
                    actor: str) -> None:
        now = self._clock.now()
        if status == APPROVED:
            version.submitted_at = version.submitted_at or now
            self._make_live(session, version, actor)
        elif status == RETIRED:
            self._retire_version(session, version, actor, None)
            if item.live_version_id == version.id:
                item.live_version_id = None
        elif status == SUBMITTED:
            version.status, version.submitted_at = SUBMITTED, now
        else:
            version.status = status

    def _make_live(self, session: Session, version: ContentVersion, approver: str) -> None:
        now = self._clock.now()
        item = session.get(ContentItem, version.item_id)
        if item.live_version_id and item.live_version_id != version.id:
            old = session.get(ContentVersion, item.live_version_id)
            self._retire_version(session, old, approver, f"superseded by version {version.number}")
        version.status, version.approved_at, version.approved_by = APPROVED, now, approver
        item.live_version_id, item.updated_at = version.id, now
        self._bump(session)

    def _retire_version(self, session: Session, version: ContentVersion, by: str, note: str | None) -> None:
        version.status, version.retired_at, version.retired_by = RETIRED, self._clock.now(), by
        if note:
            version.note = note

    def _bump(self, session: Session) -> None:
        now = self._clock.now()
        done = session.execute(update(ContentIndexState).where(ContentIndexState.id == 1)
                               .values(generation=ContentIndexState.generation + 1, updated_at=now))
        if done.rowcount == 0:
            session.add(ContentIndexState(id=1, generation=1, updated_at=now))
            session.flush()

    @staticmethod
    def _item(session: Session, item: int | str) -> ContentItem | None:
        if isinstance(item, int):
            return session.get(ContentItem, item)
        return session.scalar(select(ContentItem).where(ContentItem.slug == str(item).lower()))

    def _require_item(self, session: Session, item: int | str) -> ContentItem:
        found = self._item(session, item)
        if found is None:
            raise ContentError(f"no content item {item}")
        return found

    @staticmethod
    def _require_version(session: Session, version_id: int, status: str) -> ContentVersion:
        version = session.get(ContentVersion, version_id)
        if version is None:
            raise ContentError(f"no content version {version_id}")
        if version.status != status:
            raise ContentError(f"version {version_id} is {version.status}, expected {status}")
        return version


@dataclass
class ContentServices:
    library: ContentService
    matcher: Any  # content.matcher.Matcher
    settings: Any  # content.settings.ContentSettings


def build_content_services(runtime) -> ContentServices:
    """Wire the library and the matcher from a runtime (settings, session_factory, clock, redis).
    The embedding model is loaded lazily, on the first search."""
    from content.matcher import Matcher
    from content.settings import ContentSettings
    from content.sources import DatabaseSource

    settings = runtime.settings.domain("content", ContentSettings)
    library = ContentService(runtime.session_factory, runtime.clock)
    matcher = Matcher(DatabaseSource(library, runtime.session_factory, runtime.clock), settings, runtime.clock)
    return ContentServices(library=library, matcher=matcher, settings=settings)
