"""Users with real tokens for the route tests: created in the database, signed in
through ``POST /api/v1/auth/token``, and a patient enrolled through the API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.api.conftest import API_NOW

from isotrack.http.passwords import create_user, totp_code

TOKEN_URL = "/api/v1/auth/token"  # noqa: S105  # a URL, not a password
PATIENTS_URL = "/api/v1/patients"
ANA = {"name": "Ana Test", "birth_date": "1999-05-04", "sex": "female"}
"""A patient who can get pregnant (assumed from sex and age)."""
MARK = {"name": "Mark Test", "birth_date": "1998-02-01", "sex": "male"}


def sign_in(
    client: TestClient, engine: Engine, role: str, *, username: str | None = None,
    patient_id: str | None = None,
) -> dict[str, str]:  # fmt: skip
    """Authorization headers of a new user with ``role`` (admins get a TOTP code)."""
    user = create_user(
        engine, username or f"{role}-{patient_id or 'staff'}", role, now=API_NOW,
        actor="test", patient_id=patient_id, with_totp=role == "admin",
    )  # fmt: skip
    form = {"username": user.username, "password": user.password}
    if user.totp_secret is not None:
        form["totp"] = totp_code(user.totp_secret, API_NOW)
    answer = client.post(TOKEN_URL, data=form)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def enrol(client: TestClient, headers: dict[str, str], patient: dict[str, Any]) -> str:
    answer = client.post(PATIENTS_URL, json=patient, headers=headers)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["patient_id"])


def post(
    client: TestClient, headers: dict[str, str], patient_id: str, path: str, body: dict[str, Any]
) -> Any:
    return client.post(f"{PATIENTS_URL}/{patient_id}/{path}", json=body, headers=headers)
