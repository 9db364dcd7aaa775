"""CDS fixtures: the API app on a migrated SQLite database, in unsigned test mode.

``cds_app`` is the app of ``create_app`` (clock fixed at :data:`CDS_NOW`);
``cds_client`` a TestClient on it; ``cds_engine`` its database (for the audit
trail). Tests that need a fhirServer set ``cds_app.state.cds.transport`` to an
``httpx.MockTransport``.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from isotrack.http.deps import current_time
from isotrack.knowledge import KnowledgeBase
from isotrack.server import create_app
from isotrack.settings import Settings
from isotrack.store import create_engine_for, upgrade

with warnings.catch_warnings():
    # Starlette would rather use httpx2 (not a dependency of isotrack); httpx still works.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

CDS_NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
UNTRIPPABLE_RATE = 1_000_000


@pytest.fixture(scope="session")
def cds_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cds-template") / "isotrack.db"
    engine = create_engine_for(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def cds_engine(cds_template: Path, tmp_path: Path) -> Iterator[Engine]:
    path = tmp_path / "isotrack.db"
    shutil.copyfile(cds_template, path)
    engine = create_engine_for(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def cds_settings(engine: Engine, **changes: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "database_url": engine.url.render_as_string(hide_password=False),
        "rate_limit_per_minute": UNTRIPPABLE_RATE,
        "rate_limit_burst": UNTRIPPABLE_RATE,
        "cds_allow_unsigned": True,
        **changes,
    }
    return Settings(**values)  # type: ignore[arg-type]  # keyword values of the fields


def make_app(engine: Engine, kb: KnowledgeBase, **changes: object) -> FastAPI:
    app = create_app(cds_settings(engine, **changes), engine=engine, kb=kb)
    app.dependency_overrides[current_time] = lambda: CDS_NOW
    return app


@pytest.fixture
def cds_app(cds_engine: Engine, kb: KnowledgeBase) -> FastAPI:
    return make_app(cds_engine, kb)


@pytest.fixture
def cds_client(cds_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(cds_app, raise_server_exceptions=False) as client:
        yield client
