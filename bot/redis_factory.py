"""Redis connections. "memory://" gives the in-process stand-in (fakeredis, with Lua for locks)."""

from __future__ import annotations

import redis

MEMORY_URL = "memory://"


def make_redis(url: str):
    if url == MEMORY_URL:
        import fakeredis  # only the embedded default needs it

        return fakeredis.FakeRedis(server=fakeredis.FakeServer())
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)


def is_embedded(url: str) -> bool:
    return url == MEMORY_URL
