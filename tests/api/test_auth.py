"""Sign-in, tokens, refresh rotation, throttling and the second factor."""

from __future__ import annotations

import json
from datetime import timedelta

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from tests.api.conftest import API_NOW

from isotrack.errors import InvalidInputError
from isotrack.http.authz import Role
from isotrack.http.deps import current_time
from isotrack.http.passwords import NewUser, create_user, totp_code
from isotrack.http.signin import FAILURE_LIMIT, FAILURE_WINDOW
from isotrack.http.tokens import ACCESS_TOKEN_LIFETIME, ALGORITHM, issue_access_token
from isotrack.settings import DEVELOPMENT_KEY
from isotrack.store import UnitOfWork
from isotrack.store.models import UserRow
from isotrack.store.users import StoredUser, user_transaction

TOKEN_URL = "/api/v1/auth/token"  # noqa: S105  # a path, not a password
REFRESH_URL = "/api/v1/auth/refresh"
LOGOUT_URL = "/api/v1/auth/logout"
PROTECTED_URL = "/api/v1/patients"  # patient.list: staff roles


def make_user(
    engine: Engine, role: Role, *, name: str | None = None, patient_id: str | None = None
) -> NewUser:
    return create_user(
        engine,
        name or f"test-{role}",
        role,
        now=API_NOW,
        actor="test",
        patient_id=patient_id,
        with_totp=role is Role.ADMIN,
    )


def sign_in_form(user: NewUser) -> dict[str, str]:
    form = {"username": user.username, "password": user.password}
    if user.totp_secret is not None:
        form["totp"] = totp_code(user.totp_secret, API_NOW)
    return form


def sign_in(client: TestClient, user: NewUser) -> dict[str, str]:
    response = client.post(TOKEN_URL, data=sign_in_form(user))
    assert response.status_code == 200, response.text
    return dict(response.json())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def audit_actions(engine: Engine) -> list[str]:
    with UnitOfWork(engine) as uow:
        return [entry.action for entry in uow.audit.entries()]


def assert_unauthenticated(response_status: int, headers: dict[str, str]) -> None:
    assert response_status == 401
    assert headers.get("www-authenticate") == "Bearer"


def test_sign_in_returns_a_bearer_access_token_that_opens_the_api(
    client: TestClient, api_engine: Engine
) -> None:
    nurse = make_user(api_engine, Role.NURSE)
    tokens = sign_in(client, nurse)
    assert tokens["token_type"] == "bearer"  # noqa: S105  # the OAuth2 token type
    assert tokens["expires_in"] == ACCESS_TOKEN_LIFETIME.total_seconds()
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["sub"] == nurse.user_id
    assert claims["role"] == "nurse"
    assert claims["aud"] == "isotrack-api"
    assert claims["iss"] == "isotrack"
    assert claims["exp"] - claims["iat"] == ACCESS_TOKEN_LIFETIME.total_seconds()
    assert client.get(PROTECTED_URL, headers=bearer(tokens["access_token"])).status_code == 200
    assert "auth:login" in audit_actions(api_engine)


def test_a_request_without_a_token_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    response = client.get(PROTECTED_URL)
    assert_unauthenticated(response.status_code, dict(response.headers))
    assert response.headers["content-type"].startswith("application/problem+json")


def test_an_expired_access_token_is_rejected(client: TestClient, api_engine: Engine) -> None:
    nurse = make_user(api_engine, Role.NURSE)
    issued = API_NOW - ACCESS_TOKEN_LIFETIME - timedelta(seconds=1)
    token = issue_access_token(key=DEVELOPMENT_KEY, user_id=nurse.user_id, role="nurse", now=issued)
    response = client.get(PROTECTED_URL, headers=bearer(token))
    assert_unauthenticated(response.status_code, dict(response.headers))
    assert "expired" in response.json()["detail"]


def test_an_access_token_one_second_before_expiry_is_accepted(
    client: TestClient, api_engine: Engine
) -> None:
    nurse = make_user(api_engine, Role.NURSE)
    issued = API_NOW - ACCESS_TOKEN_LIFETIME + timedelta(seconds=1)
    token = issue_access_token(key=DEVELOPMENT_KEY, user_id=nurse.user_id, role="nurse", now=issued)
    assert client.get(PROTECTED_URL, headers=bearer(token)).status_code == 200


def test_a_tampered_access_token_is_rejected(client: TestClient, api_engine: Engine) -> None:
    patient_user = make_user(api_engine, Role.NURSE)
    token = sign_in(client, patient_user)["access_token"]
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["role"] = "prescriber"
    forged_payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    for forged in (
        f"{header}.{forged_payload}.{signature}",
        f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",
        jwt.encode(claims, b"another-key-of-at-least-32-bytes!!", algorithm=ALGORITHM),
        jwt.encode(claims, None, algorithm="none"),
    ):
        response = client.get(PROTECTED_URL, headers=bearer(forged))
        assert_unauthenticated(response.status_code, dict(response.headers))


def test_an_access_token_for_another_audience_or_issuer_is_rejected(
    client: TestClient, api_engine: Engine
) -> None:
    nurse = make_user(api_engine, Role.NURSE)
    token = sign_in(client, nurse)["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    for changes in ({"aud": "another-api"}, {"iss": "someone-else"}):
        forged = jwt.encode(claims | changes, DEVELOPMENT_KEY, algorithm=ALGORITHM)
        response = client.get(PROTECTED_URL, headers=bearer(forged))
        assert_unauthenticated(response.status_code, dict(response.headers))


def test_a_token_of_a_disabled_account_is_rejected(client: TestClient, api_engine: Engine) -> None:
    nurse = make_user(api_engine, Role.NURSE)
    token = sign_in(client, nurse)["access_token"]
    with user_transaction(api_engine) as tx:
        row = tx.users._session.get(UserRow, nurse.user_id)  # no API to disable yet
        assert row is not None
        row.active = False
    assert client.get(PROTECTED_URL, headers=bearer(token)).status_code == 401


def test_refresh_rotates_the_refresh_token(client: TestClient, api_engine: Engine) -> None:
    nurse = make_user(api_engine, Role.NURSE)
    first = sign_in(client, nurse)
    second = client.post(REFRESH_URL, data={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert client.get(PROTECTED_URL, headers=bearer(rotated["access_token"])).status_code == 200
    third = client.post(REFRESH_URL, data={"refresh_token": rotated["refresh_token"]})
    assert third.status_code == 200


def test_reusing_a_refresh_token_revokes_its_whole_family(
    client: TestClient, api_engine: Engine
) -> None:
    nurse = make_user(api_engine, Role.NURSE)
    stolen = sign_in(client, nurse)["refresh_token"]
    rotated = client.post(REFRESH_URL, data={"refresh_token": stolen}).json()["refresh_token"]
    reuse = client.post(REFRESH_URL, data={"refresh_token": stolen})
    assert_unauthenticated(reuse.status_code, dict(reuse.headers))
    after = client.post(REFRESH_URL, data={"refresh_token": rotated})
    assert after.status_code == 401  # the legitimate holder must sign in again
    assert "auth:refresh-reused" in audit_actions(api_engine)


def test_reuse_revokes_only_that_sign_in_not_the_users_other_sessions(
    client: TestClient, api_engine: Engine
) -> None:
    nurse = make_user(api_engine, Role.NURSE)
    other_session = sign_in(client, nurse)["refresh_token"]
    stolen = sign_in(client, nurse)["refresh_token"]
    client.post(REFRESH_URL, data={"refresh_token": stolen})
    client.post(REFRESH_URL, data={"refresh_token": stolen})
    assert client.post(REFRESH_URL, data={"refresh_token": other_session}).status_code == 200


def test_an_expired_or_unknown_refresh_token_is_rejected(
    client: TestClient, api_app: FastAPI, api_engine: Engine
) -> None:
    nurse = make_user(api_engine, Role.NURSE)
    token = sign_in(client, nurse)["refresh_token"]
    assert client.post(REFRESH_URL, data={"refresh_token": "not-a-token"}).status_code == 401
    api_app.dependency_overrides[current_time] = lambda: API_NOW + timedelta(days=2)
    assert client.post(REFRESH_URL, data={"refresh_token": token}).status_code == 401


def test_logout_revokes_the_refresh_token_family(client: TestClient, api_engine: Engine) -> None:
    nurse = make_user(api_engine, Role.NURSE)
    token = sign_in(client, nurse)["refresh_token"]
    rotated = client.post(REFRESH_URL, data={"refresh_token": token}).json()["refresh_token"]
    assert client.post(LOGOUT_URL, data={"refresh_token": rotated}).status_code == 204
    assert client.post(REFRESH_URL, data={"refresh_token": rotated}).status_code == 401
    assert "auth:logout" in audit_actions(api_engine)


def test_a_wrong_password_is_401_and_audited_without_the_password(
    client: TestClient, api_engine: Engine
) -> None:
    nurse = make_user(api_engine, Role.NURSE)
    guess = "Tr0ub4dor&3-guess"
    response = client.post(TOKEN_URL, data={"username": nurse.username, "password": guess})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid-credentials"
    unknown = client.post(TOKEN_URL, data={"username": "nobody", "password": guess})
    assert unknown.status_code == 401
    assert unknown.json()["detail"] == response.json()["detail"]
    with UnitOfWork(api_engine) as uow:
        entries = uow.audit.entries()
    assert [e.action for e in entries].count("auth:login-failed") == 2
    assert all(guess not in json.dumps(e.detail) for e in entries)


def test_after_five_failures_the_account_is_throttled_with_retry_after_and_audited(
    client: TestClient, api_app: FastAPI, api_engine: Engine
) -> None:
    nurse = make_user(api_engine, Role.NURSE)
    wrong = {"username": nurse.username, "password": "wrong"}
    for _ in range(FAILURE_LIMIT):
        assert client.post(TOKEN_URL, data=wrong).status_code == 401
    throttled = client.post(TOKEN_URL, data=sign_in_form(nurse))  # even the right password
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) == FAILURE_WINDOW.total_seconds()
    assert throttled.json()["code"] == "too-many-sign-in-failures"
    assert "auth:throttled" in audit_actions(api_engine)
    api_app.dependency_overrides[current_time] = lambda: API_NOW + FAILURE_WINDOW
    assert client.post(TOKEN_URL, data=sign_in_form(nurse)).status_code == 200


def test_four_failures_do_not_throttle(client: TestClient, api_engine: Engine) -> None:
    nurse = make_user(api_engine, Role.NURSE)
    for _ in range(FAILURE_LIMIT - 1):
        client.post(TOKEN_URL, data={"username": nurse.username, "password": "wrong"})
    assert client.post(TOKEN_URL, data=sign_in_form(nurse)).status_code == 200


def test_failures_from_one_address_throttle_other_accounts_from_it(
    client: TestClient, api_engine: Engine
) -> None:
    nurse = make_user(api_engine, Role.NURSE)
    for n in range(FAILURE_LIMIT):
        client.post(TOKEN_URL, data={"username": f"guess-{n}", "password": "wrong"})
    assert client.post(TOKEN_URL, data=sign_in_form(nurse)).status_code == 429


def test_an_account_with_totp_needs_the_current_code(
    client: TestClient, api_engine: Engine
) -> None:
    admin = make_user(api_engine, Role.ADMIN)
    password_only = {"username": admin.username, "password": admin.password}
    missing = client.post(TOKEN_URL, data=password_only)
    assert missing.status_code == 401
    assert missing.json()["code"] == "totp-required"
    assert admin.totp_secret is not None
    stale = totp_code(admin.totp_secret, API_NOW - timedelta(minutes=5))
    assert client.post(TOKEN_URL, data=password_only | {"totp": stale}).status_code == 401
    assert client.post(TOKEN_URL, data=sign_in_form(admin)).status_code == 200
    # The code of the next 30-second step (a code is used once), in client_secret.
    code = totp_code(admin.totp_secret, API_NOW + timedelta(seconds=30))
    assert client.post(TOKEN_URL, data=password_only | {"client_secret": code}).status_code == 200


def test_an_admin_without_totp_cannot_be_created_or_sign_in(
    client: TestClient, api_engine: Engine
) -> None:
    with pytest.raises(InvalidInputError, match="TOTP"):
        create_user(api_engine, "root", Role.ADMIN, now=API_NOW, actor="test")
    nurse = make_user(api_engine, Role.NURSE)
    with user_transaction(api_engine) as tx:  # an admin row made behind the API's back
        tx.users.add(
            StoredUser.new(
                "legacy-admin",
                "admin",
                tx.users.by_id(nurse.user_id).password_hash,  # type: ignore[union-attr]
                created_at=API_NOW,
            )
        )
    response = client.post(TOKEN_URL, data={"username": "legacy-admin", "password": nurse.password})
    assert response.status_code == 403
    assert response.json()["code"] == "totp-not-set-up"
    assert "--totp" in response.json()["detail"]


def test_passwords_are_stored_as_argon2id_hashes_only(api_engine: Engine) -> None:
    nurse = make_user(api_engine, Role.NURSE)
    with api_engine.connect() as connection:
        stored = connection.execute(select(UserRow.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert nurse.password not in stored
