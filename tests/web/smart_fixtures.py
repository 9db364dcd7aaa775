"""What the SMART launch tests share: the settings of an app registered with the test
EHR (tests/oidc/smart_provider.mjs), a browser on https (the embedded session's
cookie is ``Secure``), the launch played end to end, and the rows a refusal must
leave as they were."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI
from sqlalchemy import Engine, func, select

from isotrack.settings import Settings
from isotrack.store.models import (
    AuditRow,
    CommandRow,
    Patient,
    RefreshTokenRow,
    SmartLaunchRow,
    SmartSessionRow,
    SsoIdentityRow,
    UserRow,
)
from tests.oidc.smart_provider import CLIENT_ID, CLIENT_SECRET, SmartProvider
from tests.web.conftest import PAGE_HEADERS, UNTRIPPABLE_RATE, TestClient

BASE_URL = "https://testserver"
REDIRECT = BASE_URL + "/smart/callback"
EHR_ORIGIN = "https://ehr.example.org"
ROLES = {"Practitioner": "prescriber", "PractitionerRole": "nurse"}
COUNTED = (UserRow, SsoIdentityRow, RefreshTokenRow, SmartSessionRow, Patient, CommandRow)


def registration(provider: SmartProvider, **changes: Any) -> dict[str, Any]:
    return {
        "iss": provider.fhir_base,
        "name": "Test EHR",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "frame_origins": [EHR_ORIGIN],
        "patient_identifier_system": "https://github.com/synthetichealth/synthea",
        "roles": ROLES,
        **changes,
    }


def smart_settings(engine: Engine, provider: SmartProvider, **changes: Any) -> Settings:
    return Settings(
        env="test",
        database_url=engine.url.render_as_string(hide_password=False),
        rate_limit_per_minute=UNTRIPPABLE_RATE,
        rate_limit_burst=UNTRIPPABLE_RATE,
        smart_ehrs=json.dumps([registration(provider, **changes)]),
        smart_redirect_url=REDIRECT,
    )


def https_client(app: FastAPI) -> TestClient:
    return TestClient(
        app,
        base_url=BASE_URL,
        raise_server_exceptions=False,
        follow_redirects=False,
        headers=PAGE_HEADERS,
    )


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def start_launch(browser: TestClient, iss: str, launch: str | None) -> str:
    """``/smart/launch`` as the EHR opens it; the authorization URL it redirects to."""
    params = {"iss": iss, **({"launch": launch} if launch else {})}
    response = browser.get("/smart/launch", params=params)
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def launch(
    browser: TestClient,
    provider: SmartProvider,
    login: str = "dr.smart",
    *,
    patient: str = "ehr-patient-1",
    cancel: bool = False,
    **context: Any,
) -> Any:
    """An EHR launch played to the end: the callback's response."""
    launch_id = provider.new_launch(patient, **context)
    authorization = start_launch(browser, provider.fhir_base, launch_id)
    return browser.get(local(provider.authorize(authorization, login, cancel=cancel)))


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.__tablename__: connection.scalar(select(func.count()).select_from(table)) or 0
            for table in (*COUNTED, SmartLaunchRow)
        }


def stored(engine: Engine) -> dict[str, int]:
    """What a refused launch must not change (the launch under way is taken, so gone)."""
    return {k: v for k, v in counts(engine).items() if k != "smart_launches"}


def refusal_reasons(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        details = connection.scalars(
            select(AuditRow.detail)
            .where(AuditRow.action == "auth:smart-refused")
            .order_by(AuditRow.id)
        )
        return [json.loads(detail)["reason"] for detail in details]


def assert_refused(response: Any, status: int, title: str) -> None:
    assert response.status_code == status, response.text
    assert title in response.text
    assert "You are not signed in to isotrack." in response.text
    assert "isotrack_session" not in response.headers.get("set-cookie", "")
