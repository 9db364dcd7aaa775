"""The shared limits (:mod:`isotrack.store.limits`) in Redis (``ISOTRACK_REDIS_URL``).

A bucket is a hash (``tokens``, ``updated``) changed by one Lua script, which
Redis runs atomically, and expires once it would be full again; a token id is a
key set with ``SET NX`` that expires with its token. Keys start with
``isotrack:`` so that one Redis may serve other programs too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, cast

import redis

from isotrack.errors import StorageError
from isotrack.store.limits import wait_for

PREFIX = "isotrack:"

_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local mode = ARGV[4]
local stored = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(stored[1]) or burst
local updated = tonumber(stored[2]) or now
if now > updated then
  tokens = math.min(burst, tokens + (now - updated) * rate)
  updated = now
end
local allowed = 0
if tokens >= 1 then
  allowed = 1
end
if mode == 'peek' then
  return {allowed, tostring(tokens)}
end
if allowed == 1 then
  tokens = tokens - 1
elseif mode == 'charge' then
  tokens = 0
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(updated))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return {allowed, tostring(tokens)}
"""


class RedisLimits:
    """The buckets and the replay cache in Redis. ``clock`` is a parameter for tests."""

    def __init__(self, client: redis.Redis, *, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._clock = clock
        self._bucket = client.register_script(_BUCKET)

    @classmethod
    def from_url(cls, url: str) -> RedisLimits:
        """The store on the Redis at ``url`` (``redis://host:6379/0``); StorageError
        when it does not answer (the server refuses to start without its limits)."""
        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        try:
            client.ping()
        except redis.RedisError as error:
            raise StorageError(
                f"ISOTRACK_REDIS_URL: Redis does not answer ({type(error).__name__})"
            ) from None
        return cls(client)

    def take(self, key: str, rate: float, burst: float) -> float | None:
        allowed, tokens = self._run(key, rate, burst, "take")
        return None if allowed else wait_for(tokens, rate) or 1.0 / rate

    def charge(self, key: str, rate: float, burst: float) -> None:
        self._run(key, rate, burst, "charge")

    def peek(self, key: str, rate: float, burst: float) -> float | None:
        allowed, tokens = self._run(key, rate, burst, "peek")
        return None if allowed else wait_for(tokens, rate) or 1.0 / rate

    def first_use(self, issuer: str, jti: str, *, expires: float, now: float) -> bool:
        seconds = max(1, math.ceil(expires - now))
        name = f"{PREFIX}jti:{len(issuer)}:{issuer}:{jti}"
        return bool(self._client.set(name, b"1", nx=True, ex=seconds))

    def _run(self, key: str, rate: float, burst: float, mode: str) -> tuple[bool, float]:
        answer = cast(
            "list[Any]",
            self._bucket(keys=[PREFIX + "bucket:" + key], args=[rate, burst, self._clock(), mode]),
        )
        return bool(int(answer[0])), float(answer[1])
