"""No page without sign-in except /login, /knowledge and the pages of one-time links
(invitations, password resets); no change without the
CSRF token. Both walk every web route the app has, so a new page is covered
the day it is added."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Iterator

from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine, text
from starlette.routing import BaseRoute

from isotrack import SAFETY_LINE
from isotrack.http.authz import STAFF_ROLES, Role
from isotrack.http.passwords import DEMO_PATIENT_ID
from tests.web.conftest import SignIn, TestClient

PUBLIC_PATHS = frozenset(
    {"/login", "/login/sso", "/login/sso/callback", "/smart/launch", "/smart/callback"}
)  # SSO: docs/sso.md; SMART launch: docs/smart.md
PUBLIC_PREFIXES = ("/knowledge", "/invitation/", "/password/", "/calendar/")  # the token is the key
SAMPLE_PARAMETERS = {"patient_id": DEMO_PATIENT_ID, "rule_id": "PREG-ACTIVE"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CHANGING_TABLES = (
    "patients", "commands", "users", "refresh_tokens", "account_tokens", "calendar_feeds",
)  # fmt: skip
"""What a refused form must leave as it was (the audit trail may note the refusal)."""
_PARAMETER = re.compile(r"{([^}:]+)(?::[^}]*)?}")


def flat_routes(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) of every APIRoute, through included routers (FastAPI keeps
    those as branches holding the original router and the include prefix)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            include_prefix = getattr(getattr(route, "include_context", None), "prefix", "")
            yield from flat_routes(inner.routes, prefix + include_prefix)
        elif isinstance(route, APIRoute):
            yield prefix + route.path, route


def web_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path with sample parameters) of every route of the web app."""
    found = []
    for full_path, route in flat_routes(app.routes):
        if route.endpoint.__module__.startswith("isotrack.web"):
            path = _PARAMETER.sub(lambda m: SAMPLE_PARAMETERS.get(m.group(1), "x"), full_path)
            found += [(method, path) for method in sorted(route.methods)]
    return sorted(set(found))


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def database_fingerprint(engine: Engine) -> str:
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in CHANGING_TABLES:
            rows = connection.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()  # noqa: S608  # fixed table names
            digest.update(repr(rows).encode())
    return digest.hexdigest()


def test_the_walk_finds_the_pages_of_the_foundation(web_app: FastAPI) -> None:
    routes = web_routes(web_app)
    assert ("GET", "/") in routes
    assert ("POST", "/logout") in routes
    assert ("GET", "/knowledge/rules/PREG-ACTIVE") in routes


def test_every_page_redirects_an_anonymous_browser_to_sign_in(
    web_app: FastAPI, anonymous: TestClient
) -> None:
    for method, path in web_routes(web_app):
        if method != "GET":
            continue
        response = anonymous.get(path)
        if is_public(path):
            # 410: a one-time link that no longer works (the walk's sample token is none)
            assert response.status_code in (200, 404, 410), f"{path}: {response.status_code}"
            continue
        assert response.status_code == 303, f"{path}: {response.status_code}"
        assert response.headers["location"].startswith("/login?next="), path


def test_every_form_refuses_an_anonymous_post(
    web_app: FastAPI, anonymous: TestClient, web_engine: Engine
) -> None:
    before = database_fingerprint(web_engine)
    for method, path in web_routes(web_app):
        if method not in UNSAFE or path == "/login":
            continue
        response = anonymous.request(method, path, data={"anything": "1"})
        refused = response.status_code == 403 or (
            response.status_code == 303 and response.headers["location"].startswith("/login")
        )
        assert refused, f"{method} {path}: {response.status_code}"
    assert database_fingerprint(web_engine) == before


def test_every_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(
    web_app: FastAPI, sign_in: SignIn, web_engine: Engine
) -> None:
    """Each role posts every form with no token and with a forged one: always 403, and
    for each form at least one role (one allowed to use it) is refused for the token."""
    clients = {role: sign_in(role) for role in (*STAFF_ROLES, Role.PATIENT)}
    before = database_fingerprint(web_engine)
    refused_for_the_token: set[str] = set()
    unsafe = [(m, p) for m, p in web_routes(web_app) if m in UNSAFE and p != "/login"]
    assert unsafe
    for method, path in unsafe:
        for role, client in clients.items():
            for data in ({}, {"csrf_token": "forged"}):
                response = client.request(method, path, data=data)
                assert response.status_code == 403, (
                    f"{role} {method} {path}: {response.status_code}"
                )
                if "nothing was changed" in response.text:
                    refused_for_the_token.add(path)
    assert database_fingerprint(web_engine) == before
    assert refused_for_the_token == {path for _, path in unsafe}


def test_the_login_form_needs_its_csrf_token(anonymous: TestClient, web_engine: Engine) -> None:
    before = database_fingerprint(web_engine)
    response = anonymous.post("/login", data={"username": "demo-nurse", "password": "x"})
    assert response.status_code == 403
    assert database_fingerprint(web_engine) == before


def test_a_csrf_token_of_another_session_is_refused(sign_in: SignIn) -> None:
    first, second = sign_in(Role.NURSE), sign_in(Role.NURSE)
    token_of_first = re.search(r'name="csrf_token" value="([^"]+)"', first.get("/knowledge").text)
    assert token_of_first is not None
    response = second.post("/logout", data={"csrf_token": token_of_first.group(1)})
    assert response.status_code == 403


def test_the_csrf_header_htmx_sends_is_accepted(sign_in: SignIn) -> None:
    client = sign_in(Role.NURSE)
    page = client.get("/knowledge").text
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', page)
    assert token is not None
    response = client.post("/logout", headers={"X-CSRF-Token": token.group(1)})
    assert response.status_code == 303


def test_every_full_page_carries_the_safety_line(web_app: FastAPI, sign_in: SignIn) -> None:
    clients = {role: sign_in(role) for role in (Role.PRESCRIBER, Role.PHARMACIST, Role.PATIENT)}
    pages = 0
    for method, path in web_routes(web_app):
        if method != "GET":
            continue
        for role, client in clients.items():
            response = client.get(path)
            if response.status_code == 200 and response.text.lstrip().startswith("<!doctype"):
                pages += 1
                assert SAFETY_LINE in html.unescape(response.text), f"{role} {path}"
    assert pages > 10
