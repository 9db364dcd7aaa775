"""The shared limits store (issue 14 point 6): buckets and replay cache that every
worker sees, on SQLite, PostgreSQL and Redis (the real servers; a case is skipped
with the reason when its server does not answer)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from isotrack.store import create_engine_for
from isotrack.store.limits import DatabaseLimits, Limits, MemoryLimits
from tests.store.redis_server import empty_redis, redis_limits

STORES = ("sqlite", "postgresql", "redis")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=STORES)
def make_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[Callable[[], float]], Limits]]:
    """Makes a store as a new worker would (its own connection), on one shared server."""
    engines: list[Engine] = []
    if request.param == "redis":
        empty_redis()
        yield lambda clock: redis_limits(clock=clock)
        return
    if request.param == "sqlite":
        path = tmp_path / "isotrack.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("database_for_limits")

    def make(clock: Callable[[], float]) -> Limits:
        engine = create_engine_for(url)
        engines.append(engine)
        return DatabaseLimits(engine, clock=clock)

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def database_for_limits(migrated_postgresql: Engine) -> str:
    with migrated_postgresql.begin() as connection:
        connection.execute(text("TRUNCATE rate_buckets, seen_tokens"))
    return migrated_postgresql.url.render_as_string(hide_password=False)


def test_a_bucket_drawn_on_by_one_worker_is_empty_for_another(
    make_store: Callable[[Callable[[], float]], Limits],
) -> None:
    clock = Clock()
    first, second = make_store(clock), make_store(clock)
    assert first.take("address:10.0.0.1", 1.0, 2) is None
    assert second.take("address:10.0.0.1", 1.0, 2) is None
    wait = first.take("address:10.0.0.1", 1.0, 2)
    assert wait == pytest.approx(1.0)
    assert second.peek("address:10.0.0.1", 1.0, 2) == pytest.approx(1.0)
    assert second.take("address:10.0.0.2", 1.0, 2) is None  # another key, its own bucket
    clock.now += 1.0
    assert second.take("address:10.0.0.1", 1.0, 2) is None  # refilled at the rate
    assert first.take("address:10.0.0.1", 1.0, 2) is not None


def test_a_charge_empties_but_never_overdraws_a_bucket(
    make_store: Callable[[Callable[[], float]], Limits],
) -> None:
    clock = Clock()
    store = make_store(clock)
    for _ in range(5):
        store.charge("user:u1", 2.0, 3)
    assert store.peek("user:u1", 2.0, 3) == pytest.approx(0.5)
    clock.now += 0.5
    assert store.take("user:u1", 2.0, 3) is None


def test_concurrent_takes_from_two_workers_let_exactly_the_burst_through(
    make_store: Callable[[Callable[[], float]], Limits],
) -> None:
    clock = Clock()  # frozen: no refill while the threads race
    stores = [make_store(clock), make_store(clock)]
    allowed: list[bool] = []
    start = threading.Barrier(12)

    def call(store: Limits) -> None:
        start.wait()
        for _ in range(4):
            allowed.append(store.take("issuer:https://ehr.example.org", 50.0, 10) is None)

    threads = [threading.Thread(target=call, args=(stores[i % 2],)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 10
    assert len(allowed) == 48


def test_an_issuer_bucket_sustains_50_requests_a_second(
    make_store: Callable[[Callable[[], float]], Limits],
) -> None:
    clock = Clock()
    store = make_store(clock)
    refused = 0
    for _ in range(500):  # ten seconds at 50/s, well past the burst of 20
        refused += store.take("issuer:i", 50.0, 20) is not None
        clock.now += 1 / 50
    assert refused == 0
    for _ in range(40):  # faster than the rate: the burst goes, then refusals
        refused += store.take("issuer:i", 50.0, 20) is not None
        clock.now += 1 / 100
    assert refused > 0


def test_a_token_id_is_used_once_across_workers_and_per_issuer(
    make_store: Callable[[Callable[[], float]], Limits],
) -> None:
    clock = Clock()
    first, second = make_store(clock), make_store(clock)
    until = clock.now + 150
    assert first.first_use("https://ehr.example.org", "j-1", expires=until, now=clock.now)
    assert not second.first_use("https://ehr.example.org", "j-1", expires=until, now=clock.now)
    assert not first.first_use("https://ehr.example.org", "j-1", expires=until, now=clock.now)
    assert second.first_use("https://other.example.org", "j-1", expires=until, now=clock.now)
    restarted = make_store(clock)
    assert not restarted.first_use("https://ehr.example.org", "j-1", expires=until, now=clock.now)


def test_the_memory_store_forgets_a_token_id_once_expired() -> None:
    store = MemoryLimits()
    assert store.first_use("i", "j", expires=100.0, now=50.0)
    assert not store.first_use("i", "j", expires=100.0, now=99.0)
    assert store.first_use("i", "j", expires=200.0, now=101.0)
