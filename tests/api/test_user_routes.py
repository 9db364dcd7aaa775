"""An admin creates, lists and deactivates users over HTTP; a deactivated user's
token stops working at once."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.api.route_helpers import TOKEN_URL, sign_in

USERS_URL = "/api/v1/users"


def test_admin_creates_lists_and_deactivates_a_user(client: TestClient, api_engine: Engine) -> None:
    admin = sign_in(client, api_engine, "admin")
    created = client.post(USERS_URL, json={"username": "nurse-kim", "role": "nurse"}, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    password = body["password"]
    assert len(password) >= 16

    token = client.post(TOKEN_URL, data={"username": "nurse-kim", "password": password})
    assert token.status_code == 200, token.text
    nurse = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert client.get("/api/v1/patients", headers=nurse).status_code == 200

    listed = client.get(USERS_URL, headers=admin)
    assert listed.status_code == 200
    text = listed.text
    assert "nurse-kim" in text
    assert password not in text
    assert "password_hash" not in text

    user_id = next(u["id"] for u in listed.json() if u["username"] == "nurse-kim")
    gone = client.post(f"{USERS_URL}/{user_id}/deactivate", headers=admin)
    assert gone.status_code == 200, gone.text
    assert client.get("/api/v1/patients", headers=nurse).status_code == 401
    again = client.post(TOKEN_URL, data={"username": "nurse-kim", "password": password})
    assert again.status_code in (401, 403)


def test_only_admins_manage_users(client: TestClient, api_engine: Engine) -> None:
    prescriber = sign_in(client, api_engine, "prescriber")
    refused = client.post(USERS_URL, json={"username": "x", "role": "nurse"}, headers=prescriber)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert client.get(USERS_URL).status_code == 401


def test_deactivating_an_unknown_user_is_404(client: TestClient, api_engine: Engine) -> None:
    admin = sign_in(client, api_engine, "admin")
    answer = client.post(f"{USERS_URL}/00000000-0000-0000-0000-000000000000/deactivate",
                         headers=admin)  # fmt: skip
    assert answer.status_code == 404
