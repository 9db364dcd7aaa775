"""Many workers, one truth (issue 14 point 6): two app instances — as two worker
processes would have, each with its own engine — on one database (SQLite,
PostgreSQL) or with ``ISOTRACK_REDIS_URL``; a restart is a new app instance.

A replayed CDS token is refused by the other instance and after a restart; a
rate limit drawn on at one instance holds at the other; a signed EHR issuer
calling from one address is not throttled at 50 requests a second while an
anonymous caller from that same address is. Real servers; a case is skipped with
the reason when its server does not answer.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from tests.cds.ehr_keys import ISSUER, Ehr, rsa_key
from tests.cds.test_jwt_http import AUDIENCE, BODY, ORDER_SIGN
from tests.store.redis_server import empty_redis

from isotrack.knowledge import KnowledgeBase
from isotrack.server import create_app
from isotrack.settings import Settings
from isotrack.store import create_engine_for, upgrade

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

EHR = Ehr(rsa_key())
SHARED = ("sqlite", "postgresql", "redis")
ANONYMOUS = "/api/v1/patients"
"""A route an anonymous caller reaches (401) that draws on its address's bucket."""

Worker = Callable[..., TestClient]


@pytest.fixture(params=SHARED)
def worker(request: pytest.FixtureRequest, tmp_path: Path, kb: KnowledgeBase) -> Iterator[Worker]:
    """Starts an app instance (a worker) on the shared storage of the parameter."""
    jwks = tmp_path / "ehr-jwks.json"
    jwks.write_text(json.dumps(EHR.jwks))
    redis_url = empty_redis() if request.param == "redis" else None
    if request.param == "postgresql":
        database_url = request.getfixturevalue("api_migrated_postgresql_emptied")
    else:
        database_url = f"sqlite:///{tmp_path / 'isotrack.db'}"
        engine = create_engine_for(database_url)
        upgrade(engine)
        engine.dispose()
    engines: list[Engine] = []
    clients: list[TestClient] = []

    def start(**changes: Any) -> TestClient:
        settings = Settings(
            env="test",
            database_url=database_url,
            redis_url=redis_url,
            cds_issuers={ISSUER: str(jwks)},
            **changes,
        )
        engine = create_engine_for(database_url)
        engines.append(engine)
        client = TestClient(create_app(settings, engine=engine, kb=kb))
        clients.append(client.__enter__())
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)
    for engine in engines:
        engine.dispose()


@pytest.fixture
def api_migrated_postgresql_emptied(api_migrated_postgresql: Engine) -> str:
    with api_migrated_postgresql.begin() as connection:
        connection.execute(text("TRUNCATE rate_buckets, seen_tokens"))
    return api_migrated_postgresql.url.render_as_string(hide_password=False)


def signed_call(client: TestClient, token: str) -> int:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    return int(client.post(ORDER_SIGN, content=BODY, headers=headers).status_code)


def fresh_token() -> str:
    return EHR.token(now=time.time(), aud=AUDIENCE)


def test_a_replayed_jti_is_refused_by_another_worker_and_after_a_restart(
    worker: Worker,
) -> None:
    first, second = worker(), worker()
    token = fresh_token()
    assert signed_call(first, token) == 200
    response = second.post(ORDER_SIGN, content=BODY, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "replayed" in response.json()["detail"]
    first.__exit__(None, None, None)
    second.__exit__(None, None, None)
    restarted = worker()
    assert signed_call(restarted, token) == 401
    assert signed_call(restarted, fresh_token()) == 200


def one_worker_only(request: pytest.FixtureRequest) -> bool:
    """SQLite serves one worker: its buckets are in that worker's memory."""
    return bool(request.node.callspec.params["worker"] == "sqlite")


def test_a_rate_limit_is_shared_by_two_workers(
    worker: Worker, request: pytest.FixtureRequest
) -> None:
    if one_worker_only(request):
        pytest.skip("SQLite serves one worker: its buckets are in that worker's memory")
    first, second = (worker(rate_limit_per_minute=1, rate_limit_burst=3) for _ in range(2))
    statuses = [client.get(ANONYMOUS).status_code for client in (first, second, first)]
    assert statuses == [401, 401, 401]
    refused = second.get(ANONYMOUS)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert first.get(ANONYMOUS).status_code == 429


def test_an_issuer_sustains_50_requests_a_second_while_its_address_is_limited(
    worker: Worker, request: pytest.FixtureRequest
) -> None:
    """The EHR gateway and an anonymous caller share one address (TestClient's)."""
    first = worker(rate_limit_per_minute=1, rate_limit_burst=3)
    second = (
        first if one_worker_only(request) else worker(rate_limit_per_minute=1, rate_limit_burst=3)
    )
    anonymous = [first.get(ANONYMOUS).status_code for _ in range(4)]
    assert anonymous == [401, 401, 401, 429]
    statuses: list[int] = []
    started = time.perf_counter()
    for number in range(300):  # 6 s at 50/s: past the issuer's burst of 200
        delay = started + number / 50 - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        statuses.append(signed_call((first, second)[number % 2], fresh_token()))
        if number % 50 == 0:
            assert second.get(ANONYMOUS).status_code == 429
    assert statuses == [200] * 300
    # tokens that do not verify draw on their address: refused, then throttled
    refused = [signed_call(second, EHR.token(now=time.time(), aud="x://y")) for _ in range(4)]
    assert refused == [401, 401, 401, 429]
    assert signed_call(first, fresh_token()) == 429
