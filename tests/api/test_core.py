"""The app shell: probes, problem+json errors, request ids, security headers,
CORS, body limits, the rate limit and the JSON access log."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from tests.api.conftest import TestClient

from isotrack.errors import (
    ConflictError,
    NotFoundError,
    ProgrammeRefusal,
    StorageError,
)
from isotrack.knowledge import KnowledgeBase
from isotrack.server import create_app
from isotrack.server.logging_json import ACCESS_LOGGER, JsonFormatter
from isotrack.server.middleware import BODY_LIMIT, FHIR_BODY_LIMIT, TokenBucketLimiter
from isotrack.settings import Settings
from isotrack.store import create_engine_for, downgrade

PROBLEM = "application/problem+json"


class Weight(BaseModel):
    weight_kg: float = Field(gt=20, lt=300)


@dataclass(frozen=True)
class FakePrincipal:
    user_id: str


def add_test_routes(app: FastAPI) -> None:
    @app.post("/test/weights")
    def record_weight(weight: Weight) -> dict[str, float]:
        return {"weight_kg": weight.weight_kg}

    @app.post("/test/screen")
    async def screen(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.post("/test/notes")
    async def notes(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.get("/test/crash")
    def crash() -> None:
        raise RuntimeError("SELECT secret FROM patients -- Dana Example")

    @app.get("/test/missing")
    def missing() -> None:
        raise NotFoundError("no patient 7d3c")

    @app.get("/test/conflict")
    def conflict() -> None:
        raise ConflictError("the record changed: reload and try again")

    @app.get("/test/refused")
    def refused() -> None:
        raise ProgrammeRefusal("pregnancy_test", "no negative test in the last 7 days")

    @app.get("/test/storage")
    def storage() -> None:
        raise StorageError("the database postgresql://clinic@db/isotrack cannot be used")

    @app.get("/test/items/{item_id}")
    def item(item_id: str, request: Request) -> dict[str, str]:
        request.state.principal = FakePrincipal(user_id="user-1")
        return {"item": item_id}


@pytest.fixture
def test_client(api_app: FastAPI) -> Iterator[TestClient]:
    add_test_routes(api_app)
    with TestClient(api_app, raise_server_exceptions=False) as test_client:
        yield test_client


def assert_problem(response: object, status: int, code: str) -> dict[str, object]:
    assert getattr(response, "status_code", None) == status
    headers = getattr(response, "headers", {})
    assert headers["content-type"].startswith(PROBLEM)
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:isotrack:problem:{code}"
    assert body["title"]
    assert body["request_id"] == headers["x-request-id"]
    return body


# --- probes ---------------------------------------------------------------------------


def test_health_answers_ok(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_answers_when_the_database_is_at_the_newest_schema(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_ready_is_a_503_problem_without_the_database_url_when_the_schema_is_gone(
    client: TestClient, api_engine: Engine
) -> None:
    downgrade(api_engine, "base")
    body = assert_problem(client.get("/ready"), 503, "storage")
    assert "isotrack" not in str(body["detail"]).lower() or "://" not in str(body["detail"])
    assert "://" not in json.dumps(body)


def test_health_does_not_need_the_database(client: TestClient, api_engine: Engine) -> None:
    downgrade(api_engine, "base")
    assert client.get("/health").status_code == 200


def test_create_app_refuses_a_database_without_the_schema(
    tmp_path: object, kb: KnowledgeBase
) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path}/blank.db")
    with pytest.raises(StorageError, match="isotrack db upgrade"):
        create_app(Settings(env="test"), engine=engine, kb=kb)
    engine.dispose()


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert "/health" in document["paths"]
    assert "Problem" in document["components"]["schemas"]
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/api/v1/openapi.json" in docs.text
    policy = docs.headers["content-security-policy"]
    assert "'sha256-" in policy
    assert "frame-ancestors 'none'" in policy


def test_openapi_describes_every_error_as_a_problem(test_client: TestClient) -> None:
    document = test_client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/test/weights"]["post"]
    for status in ("422", "default"):
        content = operation["responses"][status]["content"]
        assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert "HTTPValidationError" not in document["components"]["schemas"]


# --- problem+json ---------------------------------------------------------------------


def test_unknown_path_is_a_404_problem(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/nothing-here"), 404, "not-found")


def test_wrong_method_is_a_405_problem(client: TestClient) -> None:
    assert_problem(client.post("/health"), 405, "method-not-allowed")


def test_invalid_body_is_a_422_problem_naming_the_first_field(test_client: TestClient) -> None:
    response = test_client.post("/test/weights", json={"weight_kg": 900})
    body = assert_problem(response, 422, "invalid-request")
    assert body["field"] == "weight_kg"
    assert "900" not in json.dumps(body)  # the submitted value is not echoed


def test_value_inside_the_range_passes_validation(test_client: TestClient) -> None:
    response = test_client.post("/test/weights", json={"weight_kg": 64})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/test/missing", 404, "not-found"),
        ("/test/conflict", 409, "conflict"),
        ("/test/refused", 422, "programme-refusal"),
        ("/test/storage", 503, "storage"),
    ],
)
def test_engine_errors_map_to_their_status_and_code(
    test_client: TestClient, path: str, status: int, code: str
) -> None:
    assert_problem(test_client.get(path), status, code)


def test_an_invalid_input_problem_names_its_field(test_client: TestClient) -> None:
    body = assert_problem(test_client.get("/test/refused"), 422, "programme-refusal")
    assert body["field"] == "pregnancy_test"


def test_a_storage_problem_keeps_the_database_url_server_side(test_client: TestClient) -> None:
    body = assert_problem(test_client.get("/test/storage"), 503, "storage")
    assert "postgresql://" not in json.dumps(body)


def test_an_unhandled_error_is_a_generic_500_with_the_request_id_and_a_logged_traceback(
    test_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="isotrack.api.errors"):
        response = test_client.get("/test/crash", headers={"X-Request-ID": "req-500"})
    body = assert_problem(response, 500, "internal-error")
    assert body["request_id"] == "req-500"
    text = response.text
    assert "SELECT" not in text
    assert "Traceback" not in text
    assert "RuntimeError" not in text
    assert "Dana" not in text
    logged = [r for r in caplog.records if r.exc_info]
    assert logged
    assert getattr(logged[0], "fields", {})["request_id"] == "req-500"
    assert "Traceback" in JsonFormatter().format(logged[0])


# --- request id and headers -----------------------------------------------------------


def test_a_given_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


def test_a_malformed_request_id_is_replaced(client: TestClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "<script>"})
    assert response.headers["x-request-id"] not in {"", "<script>"}
    assert len(response.headers["x-request-id"]) == 32


def test_a_request_id_is_made_when_none_is_given(client: TestClient) -> None:
    first = client.get("/health").headers["x-request-id"]
    second = client.get("/health").headers["x-request-id"]
    assert first != second


@pytest.mark.parametrize("path", ["/health", "/api/v1/nothing-here"])
def test_security_headers_are_on_every_response(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["content-security-policy"] == "default-src 'self'; frame-ancestors 'none'"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"


def test_cors_is_off_by_default(client: TestClient) -> None:
    response = client.options(
        "/health",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in response.headers
    get = client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in get.headers


def test_cors_allows_only_the_configured_origins(
    api_settings: Settings, api_engine: Engine, kb: KnowledgeBase
) -> None:
    settings = api_settings.model_copy(update={"cors_origins": ("https://clinic.example",)})
    with TestClient(create_app(settings, engine=api_engine, kb=kb)) as cors_client:
        allowed = cors_client.get("/health", headers={"Origin": "https://clinic.example"})
        other = cors_client.get("/health", headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://clinic.example"
    assert "access-control-allow-origin" not in other.headers


# --- body limits ----------------------------------------------------------------------


def test_a_declared_body_over_100_kb_is_a_413_problem(test_client: TestClient) -> None:
    response = test_client.post("/test/notes", content=b"x" * (BODY_LIMIT + 1))
    assert_problem(response, 413, "body-too-large")


def test_a_body_of_exactly_100_kb_is_accepted(test_client: TestClient) -> None:
    response = test_client.post("/test/notes", content=b"x" * BODY_LIMIT)
    assert response.json() == {"bytes": BODY_LIMIT}


def test_a_streamed_body_without_length_is_stopped_at_the_limit(test_client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"x" * 10_000

    response = test_client.post("/test/notes", content=chunks())
    assert_problem(response, 413, "body-too-large")


def test_a_fhir_route_accepts_a_body_over_100_kb(test_client: TestClient) -> None:
    size = BODY_LIMIT * 3
    response = test_client.post("/test/screen", content=b"x" * size)
    assert response.json() == {"bytes": size}


def test_a_fhir_body_over_5_mb_is_a_413_problem(test_client: TestClient) -> None:
    response = test_client.post(
        "/test/notes",
        content=b"x" * (FHIR_BODY_LIMIT + 1),
        headers={"Content-Type": "application/fhir+json"},
    )
    assert_problem(response, 413, "body-too-large")


# --- rate limit -----------------------------------------------------------------------


@pytest.fixture
def limited_client(
    api_settings: Settings, api_engine: Engine, kb: KnowledgeBase
) -> Iterator[TestClient]:
    settings = api_settings.model_copy(update={"rate_limit_per_minute": 1, "rate_limit_burst": 2})
    app = create_app(settings, engine=api_engine, kb=kb)
    add_test_routes(app)
    with TestClient(app, raise_server_exceptions=False) as limited:
        yield limited


def test_requests_over_the_rate_are_a_429_problem_with_retry_after(
    limited_client: TestClient,
) -> None:
    assert limited_client.get("/test/items/a").status_code == 200
    assert limited_client.get("/test/items/a").status_code == 200
    response = limited_client.get("/test/items/a")
    assert_problem(response, 429, "rate-limited")
    assert int(response.headers["retry-after"]) >= 1


def test_probes_are_not_rate_limited(limited_client: TestClient) -> None:
    statuses = {limited_client.get("/health").status_code for _ in range(5)}
    assert statuses == {200}


def test_a_verified_token_draws_on_its_users_bucket_not_the_address(
    limited_client: TestClient,
) -> None:
    token = {"Authorization": "Bearer token-of-user-1"}
    assert limited_client.get("/test/items/a", headers=token).status_code == 200
    assert limited_client.get("/test/items/a", headers=token).status_code == 200
    assert limited_client.get("/test/items/a", headers=token).status_code == 429
    # The address spent only the first request (before the token was known).
    assert limited_client.get("/test/items/a").status_code == 200


def test_the_bucket_refills_at_the_rate() -> None:
    moment = [0.0]
    limiter = TokenBucketLimiter(60, 1, clock=lambda: moment[0])
    assert limiter.take("k") is None
    wait = limiter.take("k")
    assert wait == pytest.approx(1.0)
    moment[0] = 0.5
    assert limiter.take("k") is not None
    moment[0] = 1.01
    assert limiter.take("k") is None
    assert limiter.take("other") is None


# --- access log -----------------------------------------------------------------------


def test_each_request_logs_one_json_line_with_the_path_template(
    test_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        test_client.get(
            "/test/items/dana-example",
            headers={"X-Request-ID": "req-log", "Authorization": "Bearer secret-token"},
        )
    records = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert len(records) == 1
    line = JsonFormatter().format(records[0])
    assert "\n" not in line
    document = json.loads(line)
    assert document["method"] == "GET"
    assert document["path"] == "/test/items/{item_id}"
    assert document["status"] == 200
    assert document["request_id"] == "req-log"
    assert document["user_id"] == "user-1"
    assert document["duration_ms"] >= 0
    assert "dana" not in line.lower()
    assert "secret-token" not in line


def test_an_unmatched_path_is_logged_without_its_text(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        client.get("/patients/Dana%20Example")
    document = json.loads(JsonFormatter().format(caplog.records[-1]))
    assert document["path"] == "<unmatched>"
    assert document["status"] == 404
    assert document["user_id"] is None
