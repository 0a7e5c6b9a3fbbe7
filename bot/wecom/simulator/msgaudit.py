"""The simulated session archive (会话内容存档): WeCom's side of GetChatData / DecryptData.

Keeps the corp's chat log with gap-free seqs and serves it the way the finance SDK does: each record's
random key is RSA-PKCS#1 v1.5 encrypted with the public key of a `publickey_ver` (keys can be rotated;
old records keep their old version), and the message JSON is AES-256-CBC encrypted with that random
key. The product therefore runs its real decrypt path: pick the private key by publickey_ver, RSA-decrypt
the random key, then `decrypt()` (standing in for the SDK's DecryptData, whose cipher is internal to
the SDK) opens the message.

    archive = SimulatedChatArchive(clock=clock)
    pem = archive.private_key_pem(1)                  # goes into compliance.archive.private_keys["1"]
    archive.text("zhangsan", ["wmClient01"], "您好")   # an advisor's own chat message
    sender.msgaudit_notify()                          # WeCom tells the product there is new data
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import secrets
import string
import threading
import time
from typing import Any

from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MAX_LIMIT = 1000
_KEY_ALPHABET = string.ascii_letters + string.digits


class SimulatedChatArchive:
    def __init__(self, *, clock: Any = None, key_bits: int = 2048):
        self._clock = clock
        self._key_bits = key_bits
        self._lock = threading.Lock()
        self._keys: dict[int, rsa.RSAPrivateKey] = {}
        self.current_version = 0
        self._records: list[dict[str, Any]] = []
        self._msgids = itertools.count(1)
        self.calls: list[tuple[int, int]] = []  # (seq, limit) of every get_chat_data
        self.fail_next: int = 0  # the next N get_chat_data calls fail (network error, SDK 10001)
        self.rotate_key()

    # ---- keys (the admin console's 消息加密公钥)
    def rotate_key(self) -> int:
        """A new key pair becomes current; records already stored keep their version."""
        with self._lock:
            self.current_version += 1
            self._keys[self.current_version] = rsa.generate_private_key(public_exponent=65537,
                                                                        key_size=self._key_bits)
            return self.current_version

    def private_key_pem(self, version: int) -> str:
        return self._keys[version].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()).decode()

    def private_keys(self) -> dict[str, str]:
        return {str(v): self.private_key_pem(v) for v in self._keys}

    # ---- the chat log
    def _now_ms(self) -> int:
        return int((self._clock.now().timestamp() if self._clock else time.time()) * 1000)

    def add(self, message: dict[str, Any]) -> int:
        """Store one message (the decrypted JSON WeCom would give); returns its seq."""
        with self._lock:
            msg = dict(message)
            msg.setdefault("msgid", f"{next(self._msgids)}_{secrets.token_hex(6)}_external")
            msg.setdefault("action", "send")
            msg.setdefault("msgtime", self._now_ms())
            version = self.current_version
            random_key = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(32))
            public = self._keys[version].public_key()
            record = {
                "seq": len(self._records) + 1,
                "msgid": msg["msgid"],
                "publickey_ver": version,
                "encrypt_random_key": base64.b64encode(public.encrypt(random_key.encode(), padding.PKCS1v15())).decode(),
                "encrypt_chat_msg": _aes_encrypt(random_key, json.dumps(msg, ensure_ascii=False)),
            }
            self._records.append(record)
            return record["seq"]

    def text(self, sender: str, tolist: list[str], content: str, *, roomid: str = "", msgid: str | None = None,
             msgtime_ms: int | None = None) -> int:
        msg: dict[str, Any] = {"from": sender, "tolist": list(tolist), "roomid": roomid, "msgtype": "text",
                               "text": {"content": content}}
        if msgid:
            msg["msgid"] = msgid
        if msgtime_ms is not None:
            msg["msgtime"] = msgtime_ms
        return self.add(msg)

    def image(self, sender: str, tolist: list[str], *, sdkfileid: str = "CtYBMzA2OTAyMDEwMjA0NjIzMDYwMDIwMTAw",
              roomid: str = "") -> int:
        return self.add({"from": sender, "tolist": list(tolist), "roomid": roomid, "msgtype": "image",
                         "image": {"sdkfileid": sdkfileid, "md5sum": secrets.token_hex(16), "filesize": 4096}})

    def recall(self, sender: str, tolist: list[str], pre_msgid: str) -> int:
        return self.add({"from": sender, "tolist": list(tolist), "roomid": "", "action": "recall",
                         "msgtype": "revoke", "revoke": {"pre_msgid": pre_msgid}})

    def switch(self, user: str) -> int:
        return self.add({"action": "switch", "user": user, "time": self._now_ms()})

    @property
    def last_seq(self) -> int:
        return len(self._records)

    # ---- the SDK surface (ChatArchiveSource)
    def get_chat_data(self, seq: int, limit: int) -> list[dict[str, Any]]:
        if not isinstance(seq, int) or seq < 0 or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise ValueError("SDK error 10000: 参数错误 (seq >= 0, 1 <= limit <= 1000)")
        with self._lock:
            self.calls.append((seq, limit))
            if self.fail_next > 0:
                self.fail_next -= 1
                raise ConnectionError("SDK error 10001: 网络错误")
            return [dict(r) for r in self._records[seq:seq + limit]]

    def decrypt(self, random_key: str, encrypt_chat_msg: str) -> dict[str, Any]:
        try:
            return json.loads(_aes_decrypt(random_key, encrypt_chat_msg))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError("SDK error 10006: 解密失败") from exc


def _aes_key(random_key: str) -> bytes:
    key = random_key.encode()
    if len(key) != 32:
        raise ValueError("random key must be 32 bytes")
    return key


def _aes_encrypt(random_key: str, plaintext: str) -> str:
    iv = os.urandom(16)
    padder = sym_padding.PKCS7(128).padder()
    data = padder.update(plaintext.encode("utf-8")) + padder.finalize()
    enc = Cipher(algorithms.AES(_aes_key(random_key)), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + enc.update(data) + enc.finalize()).decode()


def _aes_decrypt(random_key: str, blob: str) -> str:
    raw = base64.b64decode(blob)
    iv, body = raw[:16], raw[16:]
    dec = Cipher(algorithms.AES(_aes_key(random_key)), modes.CBC(iv)).decryptor()
    data = dec.update(body) + dec.finalize()
    unpadder = sym_padding.PKCS7(128).unpadder()
    return (unpadder.update(data) + unpadder.finalize()).decode("utf-8")
