"""Embedded safely: only the pages of a session launched from inside a registered EHR
may be framed, and only by that EHR's origins; its session cookie is
``SameSite=None; Secure`` (a browser sends nothing else to a third-party frame),
an ordinary session's stays ``Lax``; CSRF is enforced in the embedded session too."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from isotrack.http.authz import Role
from isotrack.knowledge import KnowledgeBase
from isotrack.server import create_app
from isotrack.settings import Settings
from tests.oidc.smart_provider import SmartProvider, running_smart_provider
from tests.web.conftest import TestClient, csrf_token
from tests.web.demo_db import Account
from tests.web.smart_fixtures import EHR_ORIGIN, REDIRECT, https_client, launch, smart_settings
from tests.web.test_web_security import CHANGING_TABLES, database_fingerprint

FRAMED_BY_EHR = f"frame-ancestors {EHR_ORIGIN}"
FRAMED_BY_NONE = "frame-ancestors 'none'"


@pytest.fixture(scope="module")
def provider() -> Iterator[SmartProvider]:
    with running_smart_provider([REDIRECT]) as running:
        yield running


@pytest.fixture
def smart_app(web_engine: Engine, provider: SmartProvider, kb: KnowledgeBase) -> FastAPI:
    return create_app(smart_settings(web_engine, provider), engine=web_engine, kb=kb)


@pytest.fixture
def embedded(smart_app: FastAPI, provider: SmartProvider) -> Iterator[TestClient]:
    """A browser in the EHR's frame, launched as dr.smart."""
    with https_client(smart_app) as client:
        assert launch(client, provider).status_code == 303
        yield client


def session_cookie(response: object) -> str:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    return next(h for h in headers if h.startswith("isotrack_session=")).lower()


def test_the_pages_of_a_launched_session_may_be_framed_by_the_ehr_only(
    embedded: TestClient,
) -> None:
    for path in ("/clinic", "/clinic/worklist", "/knowledge"):
        response = embedded.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        assert FRAMED_BY_EHR in policy, path
        assert "'none'" not in policy.split("frame-ancestors", 1)[1], path
        assert "x-frame-options" not in response.headers, path
        assert "default-src 'self'" in policy
        assert "form-action 'self'" in policy


def test_an_ordinary_session_is_never_framed_and_its_cookie_stays_lax(
    smart_app: FastAPI, accounts: dict[Role, Account]
) -> None:
    with https_client(smart_app) as client:
        token = csrf_token(client, "/login")
        account = accounts[Role.PRESCRIBER]  # no second factor (only the admin has one)
        response = client.post(
            "/login",
            data={"username": account.username, "password": account.password, "csrf_token": token},
        )
        assert response.status_code == 303, response.text
        cookie = session_cookie(response)
        assert "samesite=lax" in cookie
        assert "samesite=none" not in cookie
        page = client.get("/clinic")
    assert page.status_code == 200
    assert FRAMED_BY_NONE in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_an_anonymous_page_and_the_api_are_never_framed(smart_app: FastAPI) -> None:
    with https_client(smart_app) as client:
        login = client.get("/login")
        api = client.get("/health", headers={"Accept": "application/json"})
    for response in (login, api):
        assert FRAMED_BY_NONE in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"


def test_an_ehr_no_longer_registered_may_no_longer_frame_its_sessions(
    embedded: TestClient, smart_app: FastAPI, web_engine: Engine, kb: KnowledgeBase
) -> None:
    # the same database, the server restarted without the EHR's registration
    bare = Settings(**{**smart_app.state.settings.model_dump(), "smart_ehrs": ()})
    app = create_app(bare, engine=web_engine, kb=kb)
    with https_client(app) as client:
        client.cookies.update(embedded.cookies)
        page = client.get("/clinic")
    assert page.status_code == 200
    assert FRAMED_BY_NONE in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_csrf_is_enforced_in_the_embedded_session(embedded: TestClient, web_engine: Engine) -> None:
    before = database_fingerprint(web_engine)
    # a form of a clinical page posted without its token (or with a forged one)
    for data in ({}, {"csrf_token": "forged"}):
        response = embedded.post("/logout", data=data)
        assert response.status_code == 403, response.text
        assert "did not come from this site" in response.text
    assert embedded.get("/clinic").status_code == 200  # still signed in: nothing changed
    assert database_fingerprint(web_engine) == before
    # with the page's own token the same form works, and the frame's cookie is removed
    token = re.search(r'name="csrf_token" value="([^"]+)"', embedded.get("/clinic").text)
    assert token is not None
    response = embedded.post("/logout", data={"csrf_token": token[1]})
    assert response.status_code == 303
    assert "samesite=none" in session_cookie(response)
    assert embedded.get("/clinic").status_code == 303


def test_the_refusal_page_of_a_registered_ehr_may_be_shown_in_its_frame(
    smart_app: FastAPI, provider: SmartProvider
) -> None:
    with https_client(smart_app) as client:
        response = launch(client, provider, "visitor")
    assert response.status_code == 403
    assert FRAMED_BY_EHR in response.headers["content-security-policy"]
    assert "x-frame-options" not in response.headers


assert "refresh_tokens" in CHANGING_TABLES  # the fingerprint covers the sessions
