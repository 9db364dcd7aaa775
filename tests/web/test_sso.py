"""Single sign-on pages against a real OpenID Provider (oidc-provider, tests/oidc).

The browser's side is a TestClient on isotrack and an httpx client at the provider;
isotrack's server side (discovery, JWKS, code exchange) talks to the provider over
loopback. A refused sign-in shows a page and stores no account, no identity and no
session: only an ``auth:sso-refused`` audit row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select

from isotrack.knowledge import KnowledgeBase
from isotrack.server import create_app
from isotrack.settings import Settings
from isotrack.store.models import AuditRow, RefreshTokenRow, SsoIdentityRow, SsoRequestRow, UserRow
from isotrack.store.users import StoredUser, user_transaction
from tests.oidc.provider import CLIENT_SECRET, OpenIdProvider, running_provider
from tests.web.conftest import UNTRIPPABLE_RATE, TestClient, page_client

REDIRECT = "http://testserver/login/sso/callback"
ROLE_GROUPS = {"derm-prescribers": "prescriber", "pharmacy": "pharmacist"}


@pytest.fixture(scope="module")
def provider() -> Iterator[OpenIdProvider]:
    with running_provider([REDIRECT]) as running:
        yield running


def sso_settings(engine: Engine, issuer: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "database_url": engine.url.render_as_string(hide_password=False),
        "rate_limit_per_minute": UNTRIPPABLE_RATE,
        "rate_limit_burst": UNTRIPPABLE_RATE,
        "oidc_issuer": issuer,
        "oidc_client_id": "isotrack",
        "oidc_client_secret": CLIENT_SECRET.format("isotrack"),
        "oidc_redirect_url": REDIRECT,
        "oidc_role_groups": ROLE_GROUPS,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def sso_app(web_engine: Engine, provider: OpenIdProvider, kb: KnowledgeBase) -> FastAPI:
    return create_app(sso_settings(web_engine, provider.issuer), engine=web_engine, kb=kb)


@pytest.fixture
def browser(sso_app: FastAPI) -> Iterator[TestClient]:
    with page_client(sso_app) as client:
        yield client


def start(client: TestClient, path: str = "/login/sso") -> str:
    response = client.get(path)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def local(url: str) -> str:
    """The path and query of a callback URL (the TestClient's host is testserver)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    return f"{parts.path}?{urlencode({**query, **changes})}"


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.__tablename__: connection.scalar(select(func.count()).select_from(table)) or 0
            for table in (UserRow, SsoIdentityRow, RefreshTokenRow, SsoRequestRow)
        }


def audit_actions(engine: Engine) -> list[str]:
    """The sign-in rows of the audit trail, oldest first."""
    with engine.connect() as connection:
        actions = connection.scalars(select(AuditRow.action).order_by(AuditRow.id))
        return [action for action in actions if action.startswith("auth:")]


def refusal_reasons(engine: Engine) -> list[str]:
    """The reasons of the ``auth:sso-refused`` audit rows, oldest first."""
    with engine.connect() as connection:
        details = connection.scalars(
            select(AuditRow.detail)
            .where(AuditRow.action == "auth:sso-refused")
            .order_by(AuditRow.id)
        )
        return [json.loads(detail)["reason"] for detail in details]


def assert_refused(response: Any, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert "Sign-in not completed" in response.text
    assert words in response.text
    assert "isotrack_session" not in response.headers.get("set-cookie", "")


def test_the_login_page_offers_single_sign_on_beside_the_password_form(
    browser: TestClient,
) -> None:
    page = browser.get("/login?next=/clinic").text
    assert 'href="/login/sso?next=/clinic"' in page or 'href="/login/sso?next=%2Fclinic"' in page
    assert 'name="password"' in page


def test_a_prescriber_signs_in_and_the_account_is_created_linked_and_audited(
    browser: TestClient, provider: OpenIdProvider, web_engine: Engine
) -> None:
    before = counts(web_engine)
    authorization = start(browser, "/login/sso?next=/clinic")
    query = parse_qs(urlsplit(authorization).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["response_type"] == ["code"]
    assert {"state", "nonce", "code_challenge"} <= query.keys()
    response = browser.get(local(provider.authorize(authorization, "dr.sso")))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/clinic"
    assert browser.get("/clinic").status_code == 200
    after = counts(web_engine)
    assert after["users"] == before["users"] + 1
    assert after["sso_identities"] == before["sso_identities"] + 1
    assert after["sso_requests"] == 0
    with web_engine.connect() as connection:
        user = connection.execute(select(UserRow).where(UserRow.username == "dr.sso")).one()
        identity = connection.execute(select(SsoIdentityRow)).one()
    assert (user.role, identity.issuer, identity.subject) == (
        "prescriber",
        provider.issuer,
        "dr.sso",
    )
    assert audit_actions(web_engine)[-2:] == ["auth:sso-account-created", "auth:sso-login"]

    # the second sign-in finds the same account
    browser.cookies.clear()
    again = browser.get(local(provider.authorize(start(browser), "dr.sso")))
    assert again.status_code == 303
    assert counts(web_engine)["users"] == after["users"]
    assert audit_actions(web_engine)[-1] == "auth:sso-login"


def test_a_wrong_state_is_refused_and_nothing_is_stored(
    browser: TestClient, provider: OpenIdProvider, web_engine: Engine
) -> None:
    callback = provider.authorize(start(browser), "dr.sso")
    before = counts(web_engine)
    response = browser.get(with_query(callback, state="not-the-state-isotrack-sent"))
    assert_refused(response, 400, "Start again from the sign-in page")
    after = counts(web_engine)
    assert {k: after[k] for k in ("users", "sso_identities", "refresh_tokens")} == {
        k: before[k] for k in ("users", "sso_identities", "refresh_tokens")
    }
    assert audit_actions(web_engine)[-1] == "auth:sso-refused"
    assert refusal_reasons(web_engine)[-1] == "state unknown, used already or expired"


def test_a_replayed_callback_and_a_replayed_code_are_refused(
    browser: TestClient, provider: OpenIdProvider, web_engine: Engine
) -> None:
    callback = provider.authorize(start(browser), "dr.sso")
    assert browser.get(local(callback)).status_code == 303
    before = counts(web_engine)
    # the same callback again: its state was used
    assert_refused(browser.get(local(callback)), 400, "Start again")
    # the used code with a fresh state: the provider refuses the code itself
    fresh_state = parse_qs(urlsplit(start(browser)).query)["state"][0]
    assert_refused(browser.get(with_query(callback, state=fresh_state)), 400, "Start again")
    after = counts(web_engine)
    assert after["users"] == before["users"]
    assert after["refresh_tokens"] == before["refresh_tokens"]
    assert audit_actions(web_engine)[-2:] == ["auth:sso-refused", "auth:sso-refused"]
    assert refusal_reasons(web_engine)[-2:] == [
        "state unknown, used already or expired",
        "token endpoint refused the code: invalid_grant",
    ]


def test_a_code_issued_to_another_client_and_a_foreign_iss_are_refused(
    browser: TestClient, provider: OpenIdProvider, web_engine: Engine
) -> None:
    # the person is sent to the provider as another client (other-app) with
    # isotrack's state: the code is other-app's, and the provider refuses it to isotrack
    authorization = start(browser)
    as_other = authorization.replace("client_id=isotrack", "client_id=other-app")
    assert as_other != authorization
    before = counts(web_engine)
    assert_refused(browser.get(local(provider.authorize(as_other, "dr.sso"))), 400, "Start again")
    # a callback naming another issuer (RFC 9207) is refused before any code exchange
    callback = provider.authorize(start(browser), "dr.sso")
    assert_refused(browser.get(with_query(callback, iss="http://evil.example")), 400, "Start")
    assert counts(web_engine)["users"] == before["users"]
    assert counts(web_engine)["refresh_tokens"] == before["refresh_tokens"]
    assert refusal_reasons(web_engine)[-2:] == [
        "token endpoint refused the code: invalid_grant",
        "callback from issuer 'http://evil.example'",
    ]


def test_a_callback_in_another_browser_is_refused(
    sso_app: FastAPI, browser: TestClient, provider: OpenIdProvider, web_engine: Engine
) -> None:
    callback = provider.authorize(start(browser), "dr.sso")
    before = counts(web_engine)
    with page_client(sso_app) as other:
        assert_refused(other.get(local(callback)), 400, "Start again")
    assert counts(web_engine)["users"] == before["users"]
    assert refusal_reasons(web_engine)[-1] == "state started in another browser"


@pytest.mark.parametrize(
    ("login", "words"),
    [
        ("visitor", "none of your groups gives access to isotrack"),
        ("nobody.known", "none of your groups gives access to isotrack"),
        ("two.hats", "more than one isotrack role (pharmacist, prescriber)"),
    ],
)
def test_a_person_without_exactly_one_mapped_role_gets_a_clear_page_and_no_account(
    browser: TestClient, provider: OpenIdProvider, web_engine: Engine, login: str, words: str
) -> None:
    before = counts(web_engine)
    response = browser.get(local(provider.authorize(start(browser), login)))
    assert_refused(response, 403, words)
    after = counts(web_engine)
    assert after["users"] == before["users"]
    assert after["sso_identities"] == before["sso_identities"]
    assert after["refresh_tokens"] == before["refresh_tokens"]
    assert browser.get("/clinic").status_code in {303, 401}


def test_a_provider_answering_with_another_issuer_is_refused(
    web_engine: Engine, provider: OpenIdProvider, kb: KnowledgeBase
) -> None:
    # the same provider reached under another name: its discovery document names its
    # own issuer, which is not the configured one (OpenID Connect Discovery §4.3)
    elsewhere = provider.issuer.replace("127.0.0.1", "localhost")
    app = create_app(sso_settings(web_engine, elsewhere), engine=web_engine, kb=kb)
    before = counts(web_engine)
    with page_client(app) as client:
        assert_refused(client.get("/login/sso"), 502, "cannot be reached")
    assert counts(web_engine) == before
    assert "the discovery document names issuer" in refusal_reasons(web_engine)[-1]


def test_a_pharmacist_lands_on_the_pharmacy_and_a_local_name_is_never_taken_over(
    browser: TestClient, provider: OpenIdProvider, web_engine: Engine
) -> None:
    with user_transaction(web_engine) as tx:
        local_user = StoredUser.new(
            "ph.sso", "nurse", "$argon2id$local", created_at=datetime.now(UTC)
        )
        tx.users.add(local_user)
    response = browser.get(local(provider.authorize(start(browser), "ph.sso")))
    assert response.status_code == 303
    assert response.headers["location"].startswith("/pharmacy")
    with web_engine.connect() as connection:
        rows = connection.execute(
            select(UserRow.username, UserRow.role).where(UserRow.username.like("ph.sso%"))
        ).all()
    assert sorted(rows)[0] == ("ph.sso", "nurse")
    assert sorted(rows)[1][0].startswith("ph.sso#sso-")
    assert sorted(rows)[1][1] == "pharmacist"


def test_an_sso_account_has_no_password_and_a_disabled_one_is_refused(
    browser: TestClient, provider: OpenIdProvider, web_engine: Engine
) -> None:
    assert browser.get(local(provider.authorize(start(browser), "dr.sso"))).status_code == 303
    for password in ("", "!sso", "any password"):
        answer = browser.post(
            "/api/v1/auth/token", data={"username": "dr.sso", "password": password}
        )
        assert answer.status_code in {401, 422}, answer.text
    with user_transaction(web_engine) as tx:
        user = tx.users.by_username("dr.sso")
        assert user is not None
        tx.users.deactivate(user.id)
    browser.cookies.clear()
    refused = browser.get(local(provider.authorize(start(browser), "dr.sso")))
    assert_refused(refused, 403, "Your isotrack account is disabled")


def test_the_role_follows_the_groups_at_each_sign_in(
    browser: TestClient, provider: OpenIdProvider, web_engine: Engine, kb: KnowledgeBase
) -> None:
    assert browser.get(local(provider.authorize(start(browser), "dr.sso"))).status_code == 303
    remapped = sso_settings(
        web_engine, provider.issuer, oidc_role_groups={"derm-prescribers": "nurse"}
    )
    with page_client(create_app(remapped, engine=web_engine, kb=kb)) as client:
        assert client.get(local(provider.authorize(start(client), "dr.sso"))).status_code == 303
    with web_engine.connect() as connection:
        roles = connection.scalars(select(UserRow.role).where(UserRow.username == "dr.sso")).all()
    assert roles == ["nurse"]
    assert audit_actions(web_engine)[-2:] == ["auth:sso-role-changed", "auth:sso-login"]
