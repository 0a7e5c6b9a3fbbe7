"""微信客服 intake: `kf_msg_or_event` says "something arrived"; we pull it with `kf/sync_msg`.

- The cursor is stored per account (open_kfid) and only advanced after the page is stored.
- The callback's Token is passed (looser rate limits); once it has expired (10 min, e.g. a retried
  inbox row) we pull without it.
- `has_more` is followed; messages are stored once (unique channel+msgid), so overlapping pulls
  (two workers, a lost cursor) are harmless. One Redis lock per account keeps pulls in order.
- WeCom only returns the last 3 days; nothing is assumed about older messages: a client message
  first seen long after it was sent is recorded and marked stale, never answered by the bot.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Callable

from redis.exceptions import LockError
from wechatpy.exceptions import WeChatClientException

from bot.conversations.models import IN, KF, OUT, KfCursor
from bot.conversations.store import ensure_kf_session, record_message
from bot.db import session_scope

logger = logging.getLogger(__name__)

INVALID_MSG_TOKEN = 95007
CLIENT, SYSTEM, SERVICER = 3, 4, 5
MAX_PAGES = 100  # one pull never loops forever on a misbehaving has_more


class KfIntake:
    def __init__(self, session_factory, clock, redis, redis_prefix: str, client: Callable[[], Any], *,
                 limit: int = 1000, on_stored: Callable[[Any, dict], None] | None = None):
        self._sessions = session_factory
        self._clock = clock
        self._redis = redis
        self._prefix = redis_prefix
        self._client = client
        self._limit = limit
        self._on_stored = on_stored

    def pull(self, open_kfid: str, token: str | None = None) -> int:
        """Fetch everything new for one account; returns how many messages were new to us."""
        if not open_kfid:
            raise ValueError("kf_msg_or_event without OpenKfId")
        lock = self._redis.lock(f"{self._prefix}:conversations:kf-pull:{open_kfid}", timeout=120,
                                blocking_timeout=60)
        if not lock.acquire():
            raise TimeoutError(f"kf pull lock for {open_kfid} still held after 60 s")
        try:
            return self._pull_locked(open_kfid, token or "")
        finally:
            try:
                lock.release()
            except LockError:  # expired or flushed meanwhile: harmless, storing is idempotent by msgid
                logger.warning("kf pull lock open_kfid=%s was lost before release", open_kfid)

    def _pull_locked(self, open_kfid: str, token: str) -> int:
        with session_scope(self._sessions) as session:
            row = session.get(KfCursor, open_kfid)
            cursor = row.cursor if row else ""
        new = 0
        for _ in range(MAX_PAGES):
            page = self._sync(open_kfid, cursor or "", token)
            if page is None:  # token expired: pull again without it
                token = ""
                continue
            stored = self._store_page(open_kfid, page.get("msg_list") or [], page.get("next_cursor") or cursor)
            new += len(stored)
            cursor = page.get("next_cursor") or cursor
            if not page.get("has_more"):
                break
        else:
            logger.warning("kf pull open_kfid=%s stopped after %d pages", open_kfid, MAX_PAGES)
        if new:
            logger.info("kf pull open_kfid=%s new=%d", open_kfid, new)
        return new

    def _sync(self, open_kfid: str, cursor: str, token: str) -> dict | None:
        data = {"cursor": cursor, "limit": self._limit, "open_kfid": open_kfid}
        if token:
            data["token"] = token
        try:
            # wechatpy's kf.sync_msg has no open_kfid parameter; the client still adds token and base URL.
            return self._client().post("kf/sync_msg", data=data)
        except WeChatClientException as exc:
            if exc.errcode == INVALID_MSG_TOKEN and token:
                logger.info("kf sync token expired open_kfid=%s; pulling without it", open_kfid)
                return None
            raise

    def _store_page(self, open_kfid: str, messages: list[dict], next_cursor: str) -> list[dict]:
        now = self._clock.now()
        stored = []
        with session_scope(self._sessions) as session:
            for msg in messages:
                fields = _fields(open_kfid, msg, now)
                if fields is None:
                    continue
                if record_message(session, **fields) is None:
                    continue  # seen before
                stored.append(fields)
                if self._on_stored is not None:  # archived in the same transaction as our own record
                    self._on_stored(session, fields)
                if fields["origin"] == CLIENT:
                    kf_session = ensure_kf_session(session, fields["open_kfid"], fields["external_userid"], now)
                    last = kf_session.last_client_msg_at
                    if last is None or fields["sent_at"] >= last:
                        kf_session.last_client_msg_at = fields["sent_at"]
                        kf_session.replies_since_client_msg = 0
                        kf_session.updated_at = now
            row = session.get(KfCursor, open_kfid)
            if row is None:
                session.add(KfCursor(open_kfid=open_kfid, cursor=next_cursor, updated_at=now))
            else:
                row.cursor, row.updated_at = next_cursor, now
        return stored


def _fields(open_kfid: str, msg: dict, now: datetime) -> dict | None:
    msgid = msg.get("msgid")
    external_userid = msg.get("external_userid") or (msg.get("event") or {}).get("external_userid")
    if not msgid or not external_userid:
        logger.warning("kf message without msgid/external_userid skipped open_kfid=%s", open_kfid)
        return None
    origin = int(msg.get("origin") or 0)
    msgtype = str(msg.get("msgtype") or "unknown")
    body = msg.get(msgtype) if isinstance(msg.get(msgtype), dict) else {}
    sent_at = datetime.fromtimestamp(int(msg.get("send_time") or now.timestamp()), tz=timezone.utc)
    return {
        "channel": KF, "msgid": str(msgid), "direction": OUT if origin == SERVICER else IN, "origin": origin,
        "open_kfid": msg.get("open_kfid") or open_kfid, "external_userid": external_userid,
        "userid": msg.get("servicer_userid"), "msgtype": msgtype,
        "text": body.get("content") if msgtype == "text" else None,
        "event": body if msgtype == "event" else None,
        "sent_at": sent_at, "recorded_at": now,
    }
