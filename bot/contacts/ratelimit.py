"""A token bucket in Redis, shared by every process that calls the same WeCom endpoint."""

from __future__ import annotations

import time
from collections.abc import Callable

# KEYS[1] bucket; ARGV: rate (tokens/s), burst, now (s), wanted. Returns the wait in seconds ("0": taken).
_LUA = """
local rate, burst, now, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= want then tokens = tokens - want else wait = (want - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return tostring(wait)
"""


class TokenBucket:
    def __init__(self, redis, key: str, *, per_minute: int, burst: int,
                 sleep: Callable[[float], None] = time.sleep, now: Callable[[], float] = time.time):
        self.key = key
        self.rate = per_minute / 60.0
        self.burst = burst
        self._script = redis.register_script(_LUA)
        self._sleep = sleep
        self._now = now

    def try_take(self, n: int = 1) -> float:
        """Take n tokens if available; otherwise return how long to wait (nothing taken)."""
        return float(self._script(keys=[self.key], args=[self.rate, self.burst, self._now(), n]))

    def take(self, n: int = 1) -> float:
        """Block until n tokens are taken; returns the total time waited."""
        waited = 0.0
        while True:
            wait = self.try_take(n)
            if wait <= 0:
                return waited
            self._sleep(wait)
            waited += wait
