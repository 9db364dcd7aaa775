"""Signing in and out of the web app: the session cookie, its CSRF token, the
role's start page, and the same password check, throttling and audit as the API."""

from __future__ import annotations

import secrets

import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from isotrack.http.authz import Role
from isotrack.http.tokens import refresh_token_id
from isotrack.store.models import AuditRow, RefreshTokenRow
from isotrack.web.routes.account import safe_next
from isotrack.web.sessions import LOGIN_COOKIE, SESSION_COOKIE, session_id
from tests.web.conftest import (
    WEB_NOW,
    SignIn,
    TestClient,
    csrf_token,
    page_client,
    sign_in_as,
)
from tests.web.demo_db import Account

START = {
    Role.PRESCRIBER: "/clinic",
    Role.NURSE: "/clinic",
    Role.ADMIN: "/admin/users",
    Role.PHARMACIST: "/pharmacy",
    Role.PATIENT: "/me",
}


def audit_actions(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(AuditRow.action).order_by(AuditRow.id)))


def login_form(client: TestClient, account: Account, **changes: str) -> dict[str, str]:
    form = {
        "username": account.username,
        "password": account.password,
        "csrf_token": csrf_token(client),
    }
    form.update(changes)
    return form


@pytest.mark.parametrize("role", list(Role))
def test_each_role_lands_on_its_start_page(sign_in: SignIn, role: Role) -> None:
    client = sign_in(role)
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == START[role]


def test_the_session_cookie_is_httponly_samesite_lax_and_not_the_stored_value(
    anonymous: TestClient, accounts: dict[Role, Account], web_engine: Engine
) -> None:
    response = anonymous.post("/login", data=login_form(anonymous, accounts[Role.NURSE]))
    cookie = next(
        header
        for header in response.headers.get_list("set-cookie")
        if header.startswith(SESSION_COOKIE + "=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    token = anonymous.cookies[SESSION_COOKIE]
    with Session(web_engine) as session:
        stored = session.get(RefreshTokenRow, session_id(token))
        assert stored is not None
        # The API's refresh endpoint looks up the plain digest: a session is not a refresh token.
        assert session.get(RefreshTokenRow, refresh_token_id(token)) is None


def test_the_session_cookie_is_secure_in_production(
    web_app: FastAPI, accounts: dict[Role, Account]
) -> None:
    web_app.state.settings = web_app.state.settings.model_copy(
        update={"env": "production", "secret_key": SecretStr(secrets.token_urlsafe(48))}
    )
    with page_client(web_app) as client:
        client.base_url = client.base_url.copy_with(scheme="https")
        response = client.post("/login", data=login_form(client, accounts[Role.NURSE]))
    assert response.status_code == 303
    cookies = [h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)]
    assert cookies
    assert "Secure" in cookies[0]


def test_signing_in_goes_back_to_the_page_asked_for(
    anonymous: TestClient, accounts: dict[Role, Account]
) -> None:
    form = login_form(anonymous, accounts[Role.PRESCRIBER], next="/knowledge/claims")
    response = anonymous.post("/login", data=form)
    assert response.headers["location"] == "/knowledge/claims"


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
def test_signing_in_never_sends_the_browser_to_another_site(
    anonymous: TestClient, accounts: dict[Role, Account], next_url: str
) -> None:
    form = login_form(anonymous, accounts[Role.PHARMACIST], next=next_url)
    response = anonymous.post("/login", data=form)
    assert response.headers["location"] == "/pharmacy"


def test_safe_next_keeps_only_paths_of_this_site() -> None:
    assert safe_next("/clinic/patients/demo-ana?tab=labs") == "/clinic/patients/demo-ana?tab=labs"
    assert safe_next("/\tevil") is None
    assert safe_next("") is None


def test_a_wrong_password_shows_the_message_next_to_the_field_and_is_audited(
    anonymous: TestClient, accounts: dict[Role, Account], web_engine: Engine
) -> None:
    form = login_form(anonymous, accounts[Role.NURSE], password="not-it")  # noqa: S106  # a wrong password on purpose
    response = anonymous.post("/login", data=form)
    assert response.status_code == 401
    assert 'id="field-password-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert SESSION_COOKIE not in anonymous.cookies
    assert audit_actions(web_engine)[-1] == "auth:login-failed"
    assert "not-it" not in response.text


def test_empty_fields_are_refused_before_any_password_check(
    anonymous: TestClient, web_engine: Engine
) -> None:
    before = audit_actions(web_engine)
    response = anonymous.post(
        "/login", data={"username": "", "password": "", "csrf_token": csrf_token(anonymous)}
    )
    assert response.status_code == 422
    assert "Enter your username." in response.text
    assert "Enter your password." in response.text
    assert audit_actions(web_engine) == before


def test_sign_in_is_throttled_like_the_api_after_five_failures(
    anonymous: TestClient, accounts: dict[Role, Account], web_engine: Engine
) -> None:
    account = accounts[Role.NURSE]
    for _ in range(5):
        anonymous.post("/login", data=login_form(anonymous, account, password="wrong"))  # noqa: S106  # idem
    response = anonymous.post("/login", data=login_form(anonymous, account))
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text
    assert int(response.headers["retry-after"]) > 0
    assert audit_actions(web_engine)[-1] == "auth:throttled"
    assert SESSION_COOKIE not in anonymous.cookies


def test_an_admin_needs_the_totp_code(anonymous: TestClient, accounts: dict[Role, Account]) -> None:
    response = anonymous.post("/login", data=login_form(anonymous, accounts[Role.ADMIN]))
    assert response.status_code == 401
    assert 'id="field-totp-error"' in response.text
    assert "6-digit code" in response.text


def test_a_successful_sign_in_is_audited_and_replaces_the_login_cookie(
    anonymous: TestClient, accounts: dict[Role, Account], web_engine: Engine
) -> None:
    csrf_token(anonymous)
    assert LOGIN_COOKIE in anonymous.cookies
    sign_in_as(anonymous, accounts[Role.PATIENT])
    assert audit_actions(web_engine)[-1] == "auth:login"
    assert SESSION_COOKIE in anonymous.cookies
    assert LOGIN_COOKIE not in anonymous.cookies


def test_signing_out_revokes_the_session_server_side(
    web_app: FastAPI, accounts: dict[Role, Account], web_engine: Engine
) -> None:
    with page_client(web_app) as client:
        sign_in_as(client, accounts[Role.NURSE])
        token = client.cookies[SESSION_COOKIE]
        response = client.post("/logout", data={"csrf_token": csrf_token(client, "/knowledge")})
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
        assert "You are signed out." in client.get("/login").text
        assert "You are signed out." not in client.get("/login").text  # shown once
    assert audit_actions(web_engine)[-1] == "auth:logout"
    with page_client(web_app) as replay:  # the old cookie, replayed, opens nothing
        replay.cookies.set(SESSION_COOKIE, token)
        response = replay.get("/")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


def test_a_forged_session_cookie_is_a_redirect_to_sign_in(anonymous: TestClient) -> None:
    anonymous.cookies.set(SESSION_COOKIE, "forged")
    response = anonymous.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


def test_an_expired_session_is_a_redirect_to_sign_in(
    web_app: FastAPI, accounts: dict[Role, Account]
) -> None:
    from datetime import timedelta

    from isotrack.http.deps import current_time
    from isotrack.web.sessions import SESSION_LIFETIME

    with page_client(web_app) as client:
        sign_in_as(client, accounts[Role.NURSE])
        web_app.dependency_overrides[current_time] = lambda: (
            WEB_NOW + SESSION_LIFETIME + timedelta(seconds=1)
        )
        response = client.get("/")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


def test_a_disabled_account_loses_its_session(
    sign_in: SignIn, web_engine: Engine, accounts: dict[Role, Account]
) -> None:
    client = sign_in(Role.NURSE)
    from isotrack.store.users import user_transaction

    with user_transaction(web_engine) as tx:
        user = tx.users.by_username(accounts[Role.NURSE].username)
        assert user is not None
        tx.users.deactivate(user.id)
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_a_signed_in_browser_visiting_login_goes_to_its_start_page(sign_in: SignIn) -> None:
    client = sign_in(Role.PHARMACIST)
    response = client.get("/login")
    assert response.status_code == 303
    assert response.headers["location"] == "/pharmacy"


def test_an_htmx_request_without_a_session_is_told_to_load_the_login_page(
    anonymous: TestClient,
) -> None:
    response = anonymous.get(
        "/", headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/clinic?x=1"}
    )
    assert response.headers["HX-Redirect"] == "/login?next=/clinic%3Fx%3D1"


def test_a_stale_session_cookie_does_not_block_signing_in(
    anonymous: TestClient, accounts: dict[Role, Account]
) -> None:
    anonymous.cookies.set(SESSION_COOKIE, "expired-or-revoked")
    sign_in_as(anonymous, accounts[Role.NURSE])
    assert anonymous.get("/").headers["location"] == "/clinic"
