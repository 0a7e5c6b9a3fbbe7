"""The session archive (会话内容存档) source and the pull that archives it.

WeCom's finance SDK gives encrypted chat data from a sequence number: GetChatData(seq, limit) ->
[{seq, msgid, publickey_ver, encrypt_random_key, encrypt_chat_msg}]. The random key is RSA
(PKCS#1 v1.5) encrypted with the public key of `publickey_ver`; we decrypt it with the matching
private key (old versions kept in settings), then the SDK's DecryptData turns (random key, message)
into the JSON message. `ChatArchiveSource` is that interface; `SdkChatArchiveSource` wraps
pyweworkfinance (its native library is imported only when the production source is built), and
`bot.wecom.simulator.msgaudit.SimulatedChatArchive` does the same crypto for tests and the demo.

The pull resumes from the stored cursor; the cursor and the batch's messages commit together, so a
crash repeats nothing and skips nothing. A batch that cannot be decrypted (unknown key version) fails
whole and is retried: the cursor never passes a message that was not archived.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.compliance.archive import ArchiveEntry, ArchiveService
from bot.compliance.archive_models import INBOUND, OUTBOUND, ArchivePullCursor
from bot.db import session_scope

logger = logging.getLogger(__name__)
_CUR = ArchivePullCursor.__table__
CURSOR_NAME = "msgaudit"


class ChatArchiveSource(Protocol):
    def get_chat_data(self, seq: int, limit: int) -> list[dict[str, Any]]:
        """Encrypted records after `seq`: {seq, msgid, publickey_ver, encrypt_random_key, encrypt_chat_msg}."""

    def decrypt(self, random_key: str, encrypt_chat_msg: str) -> dict[str, Any]:
        """The SDK's DecryptData: the message JSON, given the RSA-decrypted random key."""


class ArchiveSourceError(Exception):
    """The session archive cannot be read: SDK missing, app not configured, keys wrong."""


class ArchiveKeyError(ArchiveSourceError):
    """No private key for a publickey_ver, or the random key does not decrypt with it."""


class KeyRing:
    """RSA private keys per publickey_ver; a value is a PEM file path or the PEM text."""

    def __init__(self, keys: dict[str, str]):
        self._sources = {str(k): v for k, v in keys.items()}
        self._loaded: dict[str, Any] = {}

    def _key(self, version: str):
        if version not in self._loaded:
            source = self._sources.get(version)
            if source is None:
                raise ArchiveKeyError(f"no private key configured for publickey_ver {version} "
                                      f"(compliance.archive.private_keys)")
            pem = source.encode() if source.lstrip().startswith("-----BEGIN") else Path(source).read_bytes()
            self._loaded[version] = serialization.load_pem_private_key(pem, password=None)
        return self._loaded[version]

    def decrypt_random_key(self, publickey_ver: int | str, encrypt_random_key: str) -> str:
        try:
            plain = self._key(str(publickey_ver)).decrypt(base64.b64decode(encrypt_random_key), padding.PKCS1v15())
        except ArchiveKeyError:
            raise
        except Exception as exc:  # wrong key, corrupt data: never log the data itself
            raise ArchiveKeyError(f"random key does not decrypt with publickey_ver {publickey_ver}: "
                                  f"{type(exc).__name__}") from None
        return plain.decode("utf-8")


class SdkChatArchiveSource:
    """Production: the official SDK through pyweworkfinance (needs its native library)."""

    def __init__(self, corp_id: str, secret: str, *, library_path: str = "", timeout: int = 10, proxy: str = "",
                 proxy_password: str = ""):
        try:  # imported here: the SDK's native library is only needed (and present) on production hosts
            from pyweworkfinance import WeWorkFinance
        except ImportError as exc:
            raise ArchiveSourceError("the session archive needs the finance SDK: pip install pyweworkfinance==1.1.0 "
                                  f"({type(exc).__name__})") from None

        self._sdk = WeWorkFinance(corp_id, secret, dll_path=library_path or None, default_timeout=timeout)
        self._proxy, self._passwd, self._timeout = proxy, proxy_password, timeout

    def get_chat_data(self, seq: int, limit: int) -> list[dict[str, Any]]:
        result = self._sdk.get_chat_data(seq=seq, limit=limit, proxy=self._proxy, passwd=self._passwd,
                                         timeout=self._timeout)
        return [{"seq": c.seq, "msgid": c.msgid, "publickey_ver": c.publickey_ver,
                 "encrypt_random_key": c.encrypt_random_key, "encrypt_chat_msg": c.encrypt_chat_msg}
                for c in result.chatdata]

    def decrypt(self, random_key: str, encrypt_chat_msg: str) -> dict[str, Any]:
        return self._sdk.decrypt_data(random_key, encrypt_chat_msg)


def message_to_entry(msg: dict[str, Any], external_prefixes: tuple[str, ...]) -> ArchiveEntry:
    """One decrypted session-archive message as an archive entry (channel "chat")."""
    is_external = lambda uid: bool(uid) and str(uid).startswith(external_prefixes)  # noqa: E731
    action = msg.get("action", "send")
    msgtype = msg.get("msgtype") or ("switch" if action == "switch" else "unknown")
    sender = str(msg.get("from") or msg.get("user") or "unknown")
    tolist = [str(t) for t in (msg.get("tolist") or [])]
    millis = msg.get("msgtime") or msg.get("time") or 0
    sent_at = datetime.fromtimestamp(int(millis) / 1000, tz=timezone.utc)
    if msgtype == "text":
        content = str((msg.get("text") or {}).get("content", ""))
    else:
        body = msg.get(msgtype)
        content = json.dumps(body, ensure_ascii=False, sort_keys=True) if body is not None else ""
    externals = [u for u in [sender, *tolist] if is_external(u)]
    internals = [u for u in [sender, *tolist] if not is_external(u)]
    receiver = msg.get("roomid") or ",".join(tolist)
    return ArchiveEntry.build(
        "chat", INBOUND if is_external(sender) else OUTBOUND, sender[:128], receiver, content, sent_at,
        msgid=msg.get("msgid"), msgtype=str(msgtype)[:32],
        external_userid=externals[0][:128] if externals else None,
        userid=internals[0][:128] if internals else None, origin=f"msgaudit:{action}")


class ArchivePuller:
    def __init__(self, session_factory, clock, source: ChatArchiveSource, keys: KeyRing, archive: ArchiveService,
                 *, limit: int = 1000, max_batches: int = 100, external_prefixes=("wo", "wm", "wb"),
                 on_message=None):
        self._session_factory = session_factory
        self._clock = clock
        self._source = source
        self._keys = keys
        self._archive = archive
        self._limit = limit
        self._max_batches = max_batches
        self._prefixes = tuple(external_prefixes)
        self._on_message = on_message

    def cursor(self) -> int:
        with session_scope(self._session_factory) as session:
            return int(session.scalar(select(_CUR.c.seq).where(_CUR.c.source == CURSOR_NAME)) or 0)

    def pull(self) -> dict:
        """Pull and archive everything new (up to max_batches). Returns counts and the new cursor."""
        archived = batches = 0
        seq = self.cursor()
        while batches < self._max_batches:
            chatdata = self._source.get_chat_data(seq, self._limit)  # a WeCom call: outside any transaction
            batches += 1
            chatdata = sorted((c for c in chatdata if int(c["seq"]) > seq), key=lambda c: int(c["seq"]))
            if not chatdata:
                break
            messages = []
            for item in chatdata:
                random_key = self._keys.decrypt_random_key(item["publickey_ver"], item["encrypt_random_key"])
                msg = self._source.decrypt(random_key, item["encrypt_chat_msg"])
                msg.setdefault("msgid", item["msgid"])
                messages.append((int(item["seq"]), msg))
            new_seq = messages[-1][0]
            entries = [message_to_entry(m, self._prefixes) for _, m in messages]
            with session_scope(self._session_factory) as session:
                if not self._advance(session, seq, new_seq):
                    logger.info("archive pull: cursor moved by another puller; starting again")
                    seq = self.cursor()
                    continue
                ids = self._archive.record_entries(entries, session=session)
            archived += len(entries)
            logger.info("archive pull: %d messages, seq %d..%d", len(entries), messages[0][0], new_seq)
            self._hand_over(messages, ids)
            seq = new_seq
            if len(chatdata) < self._limit:
                break
        return {"archived": archived, "batches": batches, "cursor": seq}

    def _advance(self, session, old: int, new: int) -> bool:
        """Move the cursor old -> new; False when another puller moved it first (this batch is dropped)."""
        now = self._clock.now()
        ins = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        session.execute(ins(_CUR).values(source=CURSOR_NAME, seq=0, updated_at=now)
                        .on_conflict_do_nothing(index_elements=["source"]))
        return session.execute(update(_CUR).where(_CUR.c.source == CURSOR_NAME, _CUR.c.seq == old)
                               .values(seq=new, updated_at=now)).rowcount == 1

    def _hand_over(self, messages, ids) -> None:
        if self._on_message is None:
            return
        for (seq, msg), record_id in zip(messages, ids):
            try:
                self._on_message({**msg, "seq": seq, "archive_id": record_id})
            except Exception as exc:  # the archive is kept; logged by id only (exception text may hold content)
                logger.error("conversations rejected archived message archive_id=%s: %s", record_id,
                             type(exc).__name__)


def build_puller(runtime) -> ArchivePuller:
    from bot.compliance.archive_settings import archive_settings

    cfg = archive_settings(runtime.settings)
    services = runtime.services
    if services.available("archive_source"):
        source = services.archive_source
    else:
        app = runtime.settings.wecom.apps.get(cfg.app)
        if app is None:
            raise ArchiveSourceError(f"no WeCom app {cfg.app!r} configured for the session archive")
        source = SdkChatArchiveSource(runtime.settings.wecom.corp_id, app.secret, library_path=cfg.sdk_library_path,
                                      timeout=cfg.sdk_timeout_seconds, proxy=cfg.sdk_proxy,
                                      proxy_password=cfg.sdk_proxy_password)
    on_message = None
    if services.available("conversations"):
        on_message = lambda msg: services.conversations.accept_archived_message(msg)  # noqa: E731
    return ArchivePuller(runtime.session_factory, runtime.clock, source, KeyRing(cfg.private_keys),
                         services.archive, limit=cfg.pull_limit, max_batches=cfg.pull_max_batches,
                         external_prefixes=cfg.external_prefixes, on_message=on_message)
