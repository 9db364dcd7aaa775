"""API fixtures: the app on a migrated database, SQLite and PostgreSQL.

``api_engine`` is an Engine on an empty database at the newest schema,
parametrized ``[sqlite]`` / ``[postgresql]`` (the PostgreSQL cases are skipped
when the server does not answer); ``api_settings`` the test settings (a rate
limit too high to trip); ``api_app`` the app of ``create_app`` with ``NowDep``
fixed at :data:`API_NOW`; ``client`` a TestClient on it (server errors come
back as 500 responses, not raised).
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL
from tests.store import conftest as store_fixtures

from isotrack.http.deps import current_time
from isotrack.knowledge import KnowledgeBase
from isotrack.server import create_app
from isotrack.settings import Settings
from isotrack.store import create_engine_for, upgrade

with warnings.catch_warnings():
    # Starlette would rather use httpx2 (not a dependency of isotrack); httpx still works.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

API_ZONE = timezone(timedelta(hours=1), "CET")
API_NOW = datetime(2026, 3, 2, 10, 30, tzinfo=API_ZONE)
"""The moment every API test runs at (NowDep)."""
UNTRIPPABLE_RATE = 1_000_000


@pytest.fixture(scope="session")
def api_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database at the newest schema, copied for each test."""
    path = tmp_path_factory.mktemp("api-template") / "isotrack.db"
    engine = create_engine_for(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def api_postgresql_url() -> Iterator[URL]:
    """A PostgreSQL database for the API tests of this session and worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    yield from store_fixtures._postgresql_database(f"isotrack_api_{worker}_{os.getpid()}")


@pytest.fixture(scope="session")
def api_migrated_postgresql(api_postgresql_url: URL) -> Iterator[Engine]:
    engine = create_engine_for(api_postgresql_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=store_fixtures.BACKENDS)
def api_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An Engine on an empty database at the newest schema (every table emptied)."""
    if request.param == "sqlite":
        path = tmp_path / "isotrack.db"
        shutil.copyfile(request.getfixturevalue("api_sqlite_template"), path)
        engine = create_engine_for(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("api_migrated_postgresql")
    upgrade(engine)  # a test may have migrated it down
    tables = [name for name in inspect(engine).get_table_names() if name != "alembic_version"]
    if tables:
        with engine.begin() as connection:
            names = ", ".join(f'"{name}"' for name in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield engine
    engine.dispose()


@pytest.fixture
def api_settings(api_engine: Engine) -> Settings:
    return Settings(
        env="test",
        database_url=api_engine.url.render_as_string(hide_password=False),
        rate_limit_per_minute=UNTRIPPABLE_RATE,
        rate_limit_burst=UNTRIPPABLE_RATE,
    )


@pytest.fixture
def api_app(api_settings: Settings, api_engine: Engine, kb: KnowledgeBase) -> FastAPI:
    app = create_app(api_settings, engine=api_engine, kb=kb)
    app.dependency_overrides[current_time] = lambda: API_NOW
    return app


@pytest.fixture
def client(api_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(api_app, raise_server_exceptions=False) as test_client:
        yield test_client
