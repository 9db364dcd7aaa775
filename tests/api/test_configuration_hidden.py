"""No client ever sees configuration, database URLs or stack traces (issue 14, point 1).

Before: an anonymous sign-in on a server whose key was a placeholder got a 422 body
naming ISOTRACK_SECRET_KEY, /ready said 200, and a 404 for an unknown patient named
the database URL. The server now refuses to start on such settings; should a request
meet a configuration problem anyway (settings swapped under a running app, as here),
the answer is a generic 503 and the setting is named in the server log only.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.api.route_helpers import PATIENTS_URL, TOKEN_URL, sign_in

from isotrack.errors import ConfigurationError
from isotrack.server import create_app
from isotrack.settings import Settings

WEAK = Settings(
    env="production",
    secret_key="changeme",  # noqa: S106  # the placeholder under test, not a secret
    cds_public_url="https://x.example.org",
)


def test_create_app_refuses_unusable_production_settings(
    api_engine: Engine, api_settings: Settings
) -> None:
    weak = api_settings.model_copy(update={"env": "production", "secret_key": None})
    with pytest.raises(ConfigurationError, match="ISOTRACK_SECRET_KEY"):
        create_app(weak, engine=api_engine)


def test_a_configuration_problem_is_a_generic_503_for_every_client(
    api_app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    api_app.state.settings = WEAK
    signin = client.post(TOKEN_URL, data={"username": "someone", "password": "guess"})
    ready = client.get("/ready")
    page = client.get("/login", headers={"Accept": "text/html"})
    for answer in (signin, ready, page):
        assert answer.status_code == 503, answer.text
        assert "ISOTRACK" not in answer.text
        assert "changeme" not in answer.text
    assert signin.headers["content-type"] == "application/problem+json"
    assert page.headers["content-type"].startswith("text/html")
    assert "ISOTRACK_SECRET_KEY" in caplog.text


def test_a_missing_patient_does_not_name_the_database(
    client: TestClient, api_engine: Engine
) -> None:
    staff = sign_in(client, api_engine, "prescriber")
    answer = client.get(f"{PATIENTS_URL}/nobody", headers=staff)
    assert answer.status_code == 404, answer.text
    for revealing in ("sqlite", "postgresql", str(api_engine.url.database)):
        assert revealing not in answer.text
