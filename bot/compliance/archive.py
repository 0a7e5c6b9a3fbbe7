"""The conversation archive: every inbound and outbound message on every channel, append-only and
hash-chained.

    archive = runtime.services.archive
    record_id = archive.record("kf", "outbound", sender="bot", receiver="wmABC", content="您好",
                               sent_at=now, msgid="kfmsg-1", external_userid="wmABC",
                               suggestion_id="S12", content_version_id="CV7", origin="suggestion")

Chain positions are assigned under one lock (a PostgreSQL advisory transaction lock; on SQLite the
database's single writer, taken by first writing the chain head), so `chain_seq` has no gaps and each
`prev_hash` is the hash of the record before it. Recording is idempotent on (channel, msgid).
No code path updates or deletes archive rows; retention purges go through `bot.compliance.retention`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import insert, select, text, tuple_, update
from sqlalchemy.orm import Session

from bot.compliance.archive_models import (CHANNELS, DIRECTIONS, GENESIS_HASH, INBOUND, ArchiveChainHead,
                                           ArchiveMessage)
from bot.compliance.search import ensure_sqlite_fts, tokenize
from bot.db import session_scope

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock key of the chain (an arbitrary constant: "arch" in ASCII).
CHAIN_LOCK_KEY = 0x61726368
HASH_VERSION = "v1"
CANONICAL_FIELDS = ("chain_seq", "channel", "direction", "sender", "receiver", "external_userid", "userid",
                    "sent_at", "recorded_at", "msgid", "msgtype", "content", "tokens", "suggestion_id",
                    "content_version_id", "origin")
_MSG = ArchiveMessage.__table__
_HEAD = ArchiveChainHead.__table__


class ArchiveError(ValueError):
    """Bad input to the archive; nothing was recorded."""


def canonical_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(fields: dict[str, Any], prev_hash: str) -> str:
    """sha256 over the canonical fields and the previous record's hash (the chain link)."""
    values = []
    for name in CANONICAL_FIELDS:
        value = fields.get(name)
        values.append(canonical_time(value) if isinstance(value, datetime) else value)
    payload = json.dumps([HASH_VERSION, *values, prev_hash], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ArchiveEntry:
    """One message to archive, validated."""

    channel: str
    direction: str
    sender: str
    receiver: str
    content: str
    sent_at: datetime
    msgid: str | None = None
    msgtype: str = "text"
    external_userid: str | None = None
    userid: str | None = None
    suggestion_id: str | None = None
    content_version_id: str | None = None
    origin: str | None = None

    @classmethod
    def build(cls, channel, direction, sender, receiver, content, sent_at, *, msgid=None, msgtype="text",
              external_userid=None, userid=None, suggestion_id=None, content_version_id=None,
              origin=None) -> "ArchiveEntry":
        if channel not in CHANNELS:
            raise ArchiveError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
        if direction not in DIRECTIONS:
            raise ArchiveError(f"unknown direction {direction!r}; expected inbound or outbound")
        if not isinstance(sender, str) or not sender:
            raise ArchiveError("sender must be a non-empty string")
        if isinstance(receiver, (list, tuple)):
            receiver = ",".join(str(r) for r in receiver)
        if not isinstance(receiver, str):
            raise ArchiveError("receiver must be a string or a list of strings")
        if not isinstance(content, str):
            raise ArchiveError("content must be a string")
        if not isinstance(sent_at, datetime) or sent_at.tzinfo is None:
            raise ArchiveError("sent_at must be a timezone-aware datetime")
        if not isinstance(msgtype, str) or not msgtype:
            raise ArchiveError("msgtype must be a non-empty string")
        if msgid is not None and (not str(msgid) or len(str(msgid)) > 128):
            raise ArchiveError("msgid must be 1-128 characters")
        for name, value in (("sender", sender), ("external_userid", external_userid), ("userid", userid)):
            if value is not None and len(str(value)) > 128:
                raise ArchiveError(f"{name} is longer than 128 characters")
        if len(msgtype) > 32:
            raise ArchiveError("msgtype is longer than 32 characters")
        opt = lambda v: None if v is None else str(v)  # noqa: E731 - ids may be ints or strings
        for name, value in (("suggestion_id", suggestion_id), ("content_version_id", content_version_id),
                            ("origin", origin)):
            if value is not None and len(str(value)) > 64:
                raise ArchiveError(f"{name} is longer than 64 characters")
        return cls(channel, direction, sender, receiver, content, sent_at.astimezone(timezone.utc),
                   opt(msgid), msgtype, opt(external_userid), opt(userid), opt(suggestion_id),
                   opt(content_version_id), opt(origin))


def lock_chain(session: Session, now: datetime) -> tuple[int, str]:
    """Take the chain lock for the rest of the transaction; returns (last_seq, last_hash)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    else:  # SQLite: writing first takes the database's write lock before anything is read
        session.execute(update(_HEAD).where(_HEAD.c.id == 1).values(updated_at=now))
    row = session.execute(select(_HEAD.c.last_seq, _HEAD.c.last_hash).where(_HEAD.c.id == 1)).first()
    if row is None:
        session.execute(insert(_HEAD).values(id=1, last_seq=0, last_hash=GENESIS_HASH, updated_at=now))
        return 0, GENESIS_HASH
    return int(row.last_seq), row.last_hash


class ArchiveService:
    def __init__(self, session_factory, clock):
        self._session_factory = session_factory
        self._clock = clock
        ensure_sqlite_fts(session_factory.kw["bind"])

    # ---- writing -------------------------------------------------------------------------
    def record(self, channel: str, direction: str, sender: str, receiver: str | Sequence[str], content: str,
               sent_at: datetime, *, msgid: str | None = None, msgtype: str = "text",
               external_userid: str | None = None, userid: str | None = None,
               suggestion_id: str | int | None = None, content_version_id: str | int | None = None,
               origin: str | None = None, session: Session | None = None) -> int:
        """Archive one message; returns its record id (the existing one for a known (channel, msgid)).

        With `session`, the record joins the caller's transaction (and holds the chain lock until it
        ends: keep that transaction short)."""
        entry = ArchiveEntry.build(channel, direction, sender, receiver, content, sent_at, msgid=msgid,
                                   msgtype=msgtype, external_userid=external_userid, userid=userid,
                                   suggestion_id=suggestion_id, content_version_id=content_version_id,
                                   origin=origin)
        return self.record_entries([entry], session=session)[0]

    def record_entries(self, entries: Iterable[ArchiveEntry], *, session: Session | None = None) -> list[int]:
        entries = list(entries)
        if not entries:
            return []
        if session is None:
            with session_scope(self._session_factory) as own:
                return self._append(own, entries)
        return self._append(session, entries)

    def _append(self, session: Session, entries: list[ArchiveEntry]) -> list[int]:
        now = self._clock.now()
        last_seq, last_hash = lock_chain(session, now)
        keys = {(e.channel, e.msgid) for e in entries if e.msgid is not None}
        known: dict[tuple[str, str], int] = {}
        if keys:
            for chunk in _chunks(sorted(keys), 500):
                rows = session.execute(select(_MSG.c.channel, _MSG.c.msgid, _MSG.c.id)
                                       .where(tuple_(_MSG.c.channel, _MSG.c.msgid).in_(chunk))).all()
                known.update({(r.channel, r.msgid): r.id for r in rows})
        rows, slots, pending = [], [], {}
        for index, e in enumerate(entries):
            key = (e.channel, e.msgid) if e.msgid is not None else None
            if key is not None and key in known:
                slots.append(("known", known[key]))
                continue
            if key is not None and key in pending:  # the same message twice in one batch
                slots.append(("row", pending[key]))
                continue
            last_seq += 1
            row = {"chain_seq": last_seq, "channel": e.channel, "direction": e.direction, "sender": e.sender,
                   "receiver": e.receiver, "external_userid": e.external_userid, "userid": e.userid,
                   "sent_at": e.sent_at, "recorded_at": now, "msgid": e.msgid, "msgtype": e.msgtype,
                   "content": e.content, "tokens": tokenize(e.content), "suggestion_id": e.suggestion_id,
                   "content_version_id": e.content_version_id, "origin": e.origin, "prev_hash": last_hash}
            row["hash"] = last_hash = record_hash(row, row["prev_hash"])
            if key is not None:
                pending[key] = len(rows)
            slots.append(("row", len(rows)))
            rows.append(row)
        ids: list[int] = []
        if rows:
            result = session.execute(insert(_MSG).returning(_MSG.c.id, sort_by_parameter_order=True), rows)
            ids = [r.id for r in result]
            session.execute(update(_HEAD).where(_HEAD.c.id == 1)
                            .values(last_seq=last_seq, last_hash=last_hash, updated_at=now))
            logger.debug("archived %d records, chain head seq=%d", len(rows), last_seq)
        return [value if kind == "known" else ids[value] for kind, value in slots]

    # ---- reading -------------------------------------------------------------------------
    def get(self, record_id: int) -> dict | None:
        with session_scope(self._session_factory) as session:
            row = session.execute(select(_MSG).where(_MSG.c.id == record_id)).mappings().first()
            return dict(row) if row else None

    def first_client_message_after(self, external_userid: str, since: datetime) -> datetime | None:
        """When the client first wrote (any channel) after `since`, or None (campaign reply metric)."""
        with session_scope(self._session_factory) as session:
            return session.scalar(select(_MSG.c.sent_at).where(
                _MSG.c.external_userid == external_userid, _MSG.c.direction == INBOUND, _MSG.c.sent_at > since)
                .order_by(_MSG.c.sent_at).limit(1))

    def head(self) -> dict:
        with session_scope(self._session_factory) as session:
            row = session.execute(select(_HEAD).where(_HEAD.c.id == 1)).mappings().first()
            return dict(row) if row else {"last_seq": 0, "last_hash": GENESIS_HASH}


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def build_archive_service(runtime) -> ArchiveService:
    return ArchiveService(runtime.session_factory, runtime.clock)
