"""ACCEPTANCE: Schemathesis against the OpenAPI document finds no 5xx response and
no response that does not match its schema.

Every operation gets a bounded, deterministic number of generated requests
(no shrinking), sent signed in as a prescriber (who may do every clinical
action) and again as an admin (audit, refusals). The app runs on SQLite with
a patient enrolled; the number of requests is printed at the end."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from tests.api.conftest import API_NOW, UNTRIPPABLE_RATE
from tests.api.route_helpers import MARK, enrol, sign_in

from isotrack.http.deps import current_time
from isotrack.knowledge import KnowledgeBase
from isotrack.server import create_app
from isotrack.settings import Settings
from isotrack.store import create_engine_for

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

EXAMPLES_PER_OPERATION = 6
ROLES = ("prescriber", "admin")
_requests = {"count": 0}


@pytest.fixture(scope="module")
def fuzzed(
    tmp_path_factory: pytest.TempPathFactory, api_sqlite_template: Path, kb: KnowledgeBase
) -> Iterator[tuple[Any, dict[str, dict[str, str]]]]:
    """The app on SQLite with a patient enrolled, and the headers of each role."""
    path = tmp_path_factory.mktemp("schemathesis") / "isotrack.db"
    shutil.copyfile(api_sqlite_template, path)
    engine = create_engine_for(f"sqlite:///{path}")
    app_settings = Settings(
        env="test", database_url=f"sqlite:///{path}",
        rate_limit_per_minute=UNTRIPPABLE_RATE, rate_limit_burst=UNTRIPPABLE_RATE,
    )  # fmt: skip
    app = create_app(app_settings, engine=engine, kb=kb)
    app.dependency_overrides[current_time] = lambda: API_NOW
    with TestClient(app, raise_server_exceptions=False) as client:
        headers = {role: sign_in(client, engine, role) for role in ROLES}
        enrol(client, headers["prescriber"], MARK)
    yield app, headers
    engine.dispose()


BOUNDED = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    database=None,
)


def fuzz_every_operation(app: Any, headers: dict[str, str]) -> None:
    """Bounded, deterministic examples of every operation (schemathesis's lazy pytest
    loader does not run under pytest 9, so the operations are walked here)."""
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    for result in schema.get_all_operations():
        operation = result.ok()

        @BOUNDED
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            _requests["count"] += 1
            case.call_and_validate(
                headers=headers, checks=[not_a_server_error, response_schema_conformance]
            )

        check()


@pytest.mark.parametrize("role", ROLES)
def test_the_api_keeps_to_its_openapi_document(
    role: str, fuzzed: tuple[Any, dict[str, dict[str, str]]], request: pytest.FixtureRequest
) -> None:
    app, headers = fuzzed
    before = _requests["count"]
    fuzz_every_operation(app, headers[role])
    # Carried to the xdist controller with the report; tests/conftest.py prints the sum.
    request.node.user_properties.append(("schemathesis_requests", _requests["count"] - before))
