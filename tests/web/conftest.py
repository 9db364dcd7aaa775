"""Page-test fixtures: the whole app (API + pages) on the demo clinic.

- ``web_engine``: an SQLite database with the demo clinic (as of :data:`WEB_NOW`)
  and one user per role (``demo-<role>``, passwords of :func:`test_password`),
  copied from a session template for each test;
- ``web_app``: ``create_app`` on it, ``NowDep`` fixed at :data:`WEB_NOW`;
- ``anonymous``: a TestClient that sends ``Accept: text/html`` (as browsers do for
  pages) and does not follow redirects;
- ``sign_in(role)``: a new such client signed in as that role's demo user;
- ``csrf_token(client, path)``: the CSRF token of the page at ``path``.
"""

from __future__ import annotations

import re
import shutil
import warnings
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from isotrack.http.authz import Role
from isotrack.http.deps import current_time
from isotrack.http.passwords import totp_code
from isotrack.knowledge import KnowledgeBase
from isotrack.server import create_app
from isotrack.settings import Settings
from isotrack.store import create_engine_for
from tests.web.demo_db import Account, create_accounts, load_demo_clinic

with warnings.catch_warnings():
    # Starlette would rather use httpx2 (not a dependency of isotrack); httpx still works.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

WEB_ZONE = timezone(timedelta(hours=1), "CET")
WEB_NOW = datetime(2026, 3, 2, 10, 30, tzinfo=WEB_ZONE)
"""The moment every page test runs at (NowDep); the demo clinic is built for its day."""
PAGE_HEADERS = {"Accept": "text/html,application/xhtml+xml"}
UNTRIPPABLE_RATE = 1_000_000
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

SignIn = Callable[[Role], TestClient]


@pytest.fixture(scope="session")
def web_template(
    tmp_path_factory: pytest.TempPathFactory, kb: KnowledgeBase
) -> tuple[Path, dict[Role, Account]]:
    """The demo clinic and users in an SQLite file, built once per session."""
    path = tmp_path_factory.mktemp("web-template") / "isotrack.db"
    engine = create_engine_for(f"sqlite:///{path}")
    load_demo_clinic(engine, WEB_NOW, kb)
    accounts = create_accounts(engine, WEB_NOW)
    engine.dispose()
    return path, accounts


@pytest.fixture
def accounts(web_template: tuple[Path, dict[Role, Account]]) -> dict[Role, Account]:
    return web_template[1]


@pytest.fixture
def web_engine(web_template: tuple[Path, dict[Role, Account]], tmp_path: Path) -> Iterator[Engine]:
    path = tmp_path / "isotrack.db"
    shutil.copyfile(web_template[0], path)
    engine = create_engine_for(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def web_settings(web_engine: Engine) -> Settings:
    return Settings(
        env="test",
        database_url=web_engine.url.render_as_string(hide_password=False),
        rate_limit_per_minute=UNTRIPPABLE_RATE,
        rate_limit_burst=UNTRIPPABLE_RATE,
    )


@pytest.fixture
def web_app(web_settings: Settings, web_engine: Engine, kb: KnowledgeBase) -> FastAPI:
    app = create_app(web_settings, engine=web_engine, kb=kb)
    app.dependency_overrides[current_time] = lambda: WEB_NOW
    return app


def page_client(app: FastAPI) -> TestClient:
    """A client that asks for pages as a browser does and shows each redirect."""
    return TestClient(
        app, raise_server_exceptions=False, follow_redirects=False, headers=PAGE_HEADERS
    )


@pytest.fixture
def anonymous(web_app: FastAPI) -> Iterator[TestClient]:
    with page_client(web_app) as client:
        yield client


def csrf_token(client: TestClient, path: str = "/login") -> str:
    """The CSRF token the page at ``path`` gives this client."""
    response = client.get(path)
    match = _CSRF.search(response.text)
    assert match is not None, f"no CSRF token on {path} ({response.status_code})"
    return match.group(1)


def sign_in_as(client: TestClient, account: Account) -> None:
    """Sign ``client`` in through the login form (fails the test when refused)."""
    form = {
        "username": account.username,
        "password": account.password,
        "csrf_token": csrf_token(client, "/login"),
    }
    if account.totp_secret is not None:
        form["totp"] = totp_code(account.totp_secret, WEB_NOW)
    response = client.post("/login", data=form)
    assert response.status_code == 303, response.text


@pytest.fixture
def sign_in(web_app: FastAPI, accounts: dict[Role, Account]) -> Iterator[SignIn]:
    clients: list[TestClient] = []

    def signed_in(role: Role) -> TestClient:
        client = page_client(web_app)
        client.__enter__()
        clients.append(client)
        sign_in_as(client, accounts[role])
        return client

    yield signed_in
    for client in clients:
        client.__exit__(None, None, None)
