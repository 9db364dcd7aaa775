"""Storage fixtures: every storage test runs on SQLite and on PostgreSQL.

``database`` is an Engine on an empty database at the newest schema,
parametrized ``[sqlite]`` / ``[postgresql]``. SQLite: a file in the test's
tmp_path (copied from a template migrated once per session). PostgreSQL: one
database per session and xdist worker (``isotrack_test_<worker>_<pid>``),
created from the ``postgres`` maintenance database, emptied before each test
and dropped at the end. When the server does not answer, the ``postgresql``
cases are skipped with the reason.

The server is 127.0.0.1:5432, user postgres (trust); ISOTRACK_TEST_POSTGRESQL_URL
(a URL to the maintenance database) points elsewhere.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL, make_url

from isotrack.store import create_engine_for, upgrade
from tests.store import backend_summary

BACKENDS = ("sqlite", "postgresql")
POSTGRESQL_ADMIN_URL = make_url(
    os.environ.get(
        "ISOTRACK_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
)
CONNECT_TIMEOUT_S = 3
_blank_names = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    """Count tests per backend even when tests/conftest.py does not load the plugin."""
    if not config.pluginmanager.is_registered(backend_summary):
        config.pluginmanager.register(backend_summary, backend_summary.PLUGIN_NAME)


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@cache
def postgresql_unreachable() -> str | None:
    """Why the PostgreSQL server cannot be used, or None when it answers."""
    where = f"{POSTGRESQL_ADMIN_URL.host}:{POSTGRESQL_ADMIN_URL.port or 5432}"
    try:
        psycopg.connect(_libpq(POSTGRESQL_ADMIN_URL), connect_timeout=CONNECT_TIMEOUT_S).close()
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        return f"PostgreSQL not reachable at {where}: {reason}"
    return None


def _admin(statement: sql.Composed) -> None:
    with psycopg.connect(
        _libpq(POSTGRESQL_ADMIN_URL), autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
    ) as connection:
        connection.execute(statement)


@pytest.fixture(scope="session")
def postgresql_database_url() -> Iterator[URL]:
    """A fresh PostgreSQL database for this session and worker, dropped afterwards."""
    yield from _postgresql_database(f"isotrack_test_{_worker()}_{os.getpid()}")


def _postgresql_database(name: str) -> Iterator[URL]:
    reason = postgresql_unreachable()
    if reason is not None:
        pytest.skip(reason)
    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield POSTGRESQL_ADMIN_URL.set(database=name)
    finally:
        _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def migrated_postgresql(postgresql_database_url: URL) -> Iterator[Engine]:
    engine = create_engine_for(postgresql_database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database at the newest schema, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "isotrack.db"
    engine = create_engine_for(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection closed: the WAL is folded into the file
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An Engine on an empty database at the newest schema."""
    if backend == "sqlite":
        path = tmp_path / "isotrack.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        engine = create_engine_for(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("migrated_postgresql")
    with engine.begin() as connection:
        connection.execute(
            text(
                "TRUNCATE ppp_keys, outbox, ehr_command_sources, ehr_resources, ehr_links, "
                "calendar_feeds, rate_buckets, seen_tokens, clinic_settings, sso_requests, "
                "sso_identities, smart_launches, smart_sessions, account_tokens, login_attempts, "
                "refresh_tokens, "
                "users, audit, commands, patients RESTART IDENTITY"
            )
        )
        connection.execute(text("TRUNCATE contact_preferences"))  # issue 16: reminder choices
    yield engine
    engine.dispose()  # connections of this test's threads and subprocess go


@pytest.fixture
def blank_database_url(backend: str, tmp_path: Path) -> Iterator[URL]:
    """The URL of a database with no tables at all (a new one for each test)."""
    if backend == "sqlite":
        yield make_url(f"sqlite:///{tmp_path / 'blank.db'}")
        return
    yield from _postgresql_database(
        f"isotrack_blank_{_worker()}_{os.getpid()}_{next(_blank_names)}"
    )


@pytest.fixture
def other_blank_database_url(backend: str, tmp_path: Path) -> Iterator[URL]:
    """A database with no tables on the other backend (for cross-database restores)."""
    if backend == "postgresql":
        yield make_url(f"sqlite:///{tmp_path / 'other.db'}")
        return
    yield from _postgresql_database(
        f"isotrack_other_{_worker()}_{os.getpid()}_{next(_blank_names)}"
    )
