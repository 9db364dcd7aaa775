"""The Redis the shared-limits tests use: ISOTRACK_TEST_REDIS_URL, default
``redis://127.0.0.1:6379/13`` (a database of its own; its ``isotrack:*`` keys are
deleted before each use). Tests skip with the reason when it does not answer."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import cache

import pytest
import redis

from isotrack.store.redis_limits import PREFIX, RedisLimits

REDIS_URL = os.environ.get("ISOTRACK_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


@cache
def redis_unreachable() -> str | None:
    """Why the Redis server cannot be used, or None when it answers."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        return f"Redis not reachable at {REDIS_URL}: {error}"
    return None


def empty_redis() -> str:
    """The URL of the test Redis with no isotrack keys; skips when it is not there."""
    reason = redis_unreachable()
    if reason is not None:
        pytest.skip(reason)
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=PREFIX + "*", count=1000):
        client.delete(key)
    client.close()
    return REDIS_URL


def redis_limits(*, clock: Callable[[], float] = time.time) -> RedisLimits:
    """A store on the test Redis (a new client, as a new worker would open)."""
    reason = redis_unreachable()
    if reason is not None:
        pytest.skip(reason)
    return RedisLimits(redis.Redis.from_url(REDIS_URL), clock=clock)
