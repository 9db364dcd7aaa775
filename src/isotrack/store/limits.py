"""Rate-limit buckets and the CDS Hooks replay cache, shared by every worker.

A :class:`Limits` store answers two questions atomically, whichever process asks:

- :meth:`~Limits.take` — may one more request be drawn from the token bucket
  ``key`` (``burst`` at once, refilled at ``rate`` a second)? None when yes, else
  the seconds to wait; :meth:`~Limits.charge` draws on a bucket for a request
  already served (never below empty); :meth:`~Limits.peek` asks without drawing.
- :meth:`~Limits.first_use` — is this the first time token id ``jti`` of
  ``issuer`` is seen (it is then remembered until ``expires``)? Its times are
  the verifier's clock (seconds since 1970), so the store never judges a token's
  age by another clock than the one that checked its ``exp``.

Three stores: :class:`DatabaseLimits` (tables ``rate_buckets`` and
``seen_tokens``, one ``INSERT … ON CONFLICT`` statement per question, so that
PostgreSQL's row lock makes it atomic across workers),
:class:`~isotrack.store.redis_limits.RedisLimits` (one Lua script or ``SET NX``)
and :class:`MemoryLimits` (this process only). :func:`shared_limits` chooses:
Redis when ``ISOTRACK_REDIS_URL`` is set; else, on PostgreSQL, the database for
both; on SQLite (one worker) the replay cache in the database, so that a replay
is refused after a restart, and the buckets in memory, so that counting requests
never takes SQLite's one write lock.

Times are seconds since 1970 (``time.time``): every worker reads the same clock.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine, text

from isotrack.store.db import backend_of

PRUNE_EVERY = 1000
"""One write in this many (at random) also deletes expired rows."""
IDLE_BUCKET_SECONDS = 3600
"""A bucket untouched this long is full again whatever its rate: it is deleted."""
_MAX_MEMORY_BUCKETS = 100_000

_TAKE = text(
    """
    INSERT INTO rate_buckets (key, tokens, updated_at, allowed)
    VALUES (:key, :burst - 1, :now, :yes)
    ON CONFLICT (key) DO UPDATE SET
      tokens = CASE
        WHEN {refill} >= 1 THEN {refill} - 1
        WHEN :charge = 1 THEN 0
        ELSE {refill} END,
      allowed = ({refill} >= 1 OR :charge = 1),
      updated_at = CASE WHEN :now > rate_buckets.updated_at THEN :now
        ELSE rate_buckets.updated_at END
    RETURNING tokens, allowed
    """.format(  # noqa: S608 - constant SQL fragments, no input
        refill="(CASE WHEN rate_buckets.tokens + {gain} > :burst THEN :burst "
        "ELSE rate_buckets.tokens + {gain} END)".format(
            gain="(CASE WHEN :now > rate_buckets.updated_at "
            "THEN (:now - rate_buckets.updated_at) * :rate ELSE 0 END)"
        )
    )
)
_PEEK = text("SELECT tokens, updated_at FROM rate_buckets WHERE key = :key")
_REMEMBER = text(
    "INSERT INTO seen_tokens (issuer, jti, expires_at) VALUES (:issuer, :jti, :expires) "
    "ON CONFLICT (issuer, jti) DO NOTHING RETURNING jti"
)
_PRUNE_TOKENS = text("DELETE FROM seen_tokens WHERE expires_at < :now")
_PRUNE_BUCKETS = text("DELETE FROM rate_buckets WHERE updated_at < :before")


class Limits(Protocol):
    """What the rate limits and the replay cache need from a store."""

    def take(self, key: str, rate: float, burst: float) -> float | None:
        """Draw one request from bucket ``key``: None when allowed, else seconds to wait."""
        ...

    def charge(self, key: str, rate: float, burst: float) -> None:
        """Draw one request already served from bucket ``key`` (never below empty)."""
        ...

    def peek(self, key: str, rate: float, burst: float) -> float | None:
        """None when bucket ``key`` holds a request, else seconds to wait; draws nothing."""
        ...

    def first_use(self, issuer: str, jti: str, *, expires: float, now: float) -> bool:
        """Remember ``jti`` of ``issuer`` until ``expires`` (it is ``now``); False when
        seen before."""
        ...


@dataclass(frozen=True, slots=True)
class Split:
    """Buckets in one store, the replay cache in another (SQLite: memory, database)."""

    buckets: Limits
    replays: Limits

    def take(self, key: str, rate: float, burst: float) -> float | None:
        return self.buckets.take(key, rate, burst)

    def charge(self, key: str, rate: float, burst: float) -> None:
        self.buckets.charge(key, rate, burst)

    def peek(self, key: str, rate: float, burst: float) -> float | None:
        return self.buckets.peek(key, rate, burst)

    def first_use(self, issuer: str, jti: str, *, expires: float, now: float) -> bool:
        return self.replays.first_use(issuer, jti, expires=expires, now=now)


def wait_for(tokens: float, rate: float) -> float | None:
    """None when ``tokens`` hold a request, else the seconds until they will."""
    return None if tokens >= 1.0 else (1.0 - tokens) / rate


class DatabaseLimits:
    """The buckets and the replay cache in the database (autocommit statements)."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock

    def take(self, key: str, rate: float, burst: float) -> float | None:
        tokens, allowed = self._draw(key, rate, burst, charge=False)
        return None if allowed else wait_for(tokens, rate) or 1.0 / rate

    def charge(self, key: str, rate: float, burst: float) -> None:
        self._draw(key, rate, burst, charge=True)

    def peek(self, key: str, rate: float, burst: float) -> float | None:
        with self._engine.connect() as connection:
            row = connection.execute(_PEEK, {"key": key}).first()
        if row is None:
            return None
        gained = max(0.0, self._clock() - float(row.updated_at)) * rate
        return wait_for(min(burst, float(row.tokens) + gained), rate)

    def first_use(self, issuer: str, jti: str, *, expires: float, now: float) -> bool:
        with self._engine.begin() as connection:
            if random.randrange(PRUNE_EVERY) == 0:  # noqa: S311 - not for security
                connection.execute(_PRUNE_TOKENS, {"now": now})
            row = connection.execute(
                _REMEMBER, {"issuer": issuer, "jti": jti, "expires": expires}
            ).first()
        return row is not None

    def _draw(self, key: str, rate: float, burst: float, *, charge: bool) -> tuple[float, bool]:
        now = self._clock()
        values = {
            "key": key,
            "burst": float(burst),
            "rate": float(rate),
            "now": now,
            "yes": True,
            "charge": 1 if charge else 0,
        }
        with self._engine.begin() as connection:
            if random.randrange(PRUNE_EVERY) == 0:  # noqa: S311 - not for security
                connection.execute(_PRUNE_BUCKETS, {"before": now - IDLE_BUCKET_SECONDS})
            row = connection.execute(_TAKE, values).one()
        return float(row.tokens), bool(row.allowed)


class MemoryLimits:
    """The buckets and the replay cache of this process only; thread-safe.
    ``clock`` (seconds) is a parameter for tests."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def take(self, key: str, rate: float, burst: float) -> float | None:
        with self._lock:
            now = self._clock()
            tokens = self._tokens(key, rate, burst, now)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return wait_for(tokens, rate)
            self._buckets[key] = (tokens - 1.0, now)
            return None

    def charge(self, key: str, rate: float, burst: float) -> None:
        with self._lock:
            now = self._clock()
            self._buckets[key] = (max(self._tokens(key, rate, burst, now) - 1.0, 0.0), now)

    def peek(self, key: str, rate: float, burst: float) -> float | None:
        with self._lock:
            return wait_for(self._tokens(key, rate, burst, self._clock()), rate)

    def first_use(self, issuer: str, jti: str, *, expires: float, now: float) -> bool:
        with self._lock:
            if len(self._seen) > _MAX_MEMORY_BUCKETS:
                self._seen = {seen: until for seen, until in self._seen.items() if until >= now}
            if self._seen.get((issuer, jti), -math.inf) >= now:
                return False
            self._seen[(issuer, jti)] = expires
            return True

    def _tokens(self, key: str, rate: float, burst: float, now: float) -> float:
        if len(self._buckets) > _MAX_MEMORY_BUCKETS:
            self._buckets.clear()  # a flood of new addresses: start every bucket full again
        tokens, then = self._buckets.get(key, (burst, now))
        return min(burst, tokens + max(0.0, now - then) * rate)


def shared_limits(engine: Engine, redis_url: str | None) -> Limits:
    """The store of :func:`the module docstring <isotrack.store.limits>` for this server."""
    if redis_url:
        from isotrack.store.redis_limits import RedisLimits

        return RedisLimits.from_url(redis_url)
    if backend_of(engine) == "postgresql":
        return DatabaseLimits(engine)
    return Split(buckets=MemoryLimits(), replays=DatabaseLimits(engine))
