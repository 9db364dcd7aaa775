"""Engines for the two supported databases.

SQLite (the embedded default) is opened for durability and safe concurrency:
write-ahead logging, foreign keys enforced, ``synchronous=FULL`` (a commit is on
disk before it returns) and a busy timeout. pysqlite's own transaction handling
is switched off and every transaction starts with ``BEGIN IMMEDIATE``, so a
writer takes the write lock when it starts and two writers queue instead of
failing half-way (the documented SQLAlchemy recipe for pysqlite).

PostgreSQL is reached through psycopg 3; a plain ``postgresql://`` URL is
normalised to that driver.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from isotrack.errors import StorageError
from isotrack.settings import normalise_database_url

Backend = Literal["sqlite", "postgresql"]
UrlOrEngine = str | URL | Engine

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long an SQLite writer waits for another writer's transaction to end."""
POSTGRESQL_CONNECT_TIMEOUT_S = 10


def create_engine_for(url: str | URL) -> Engine:
    """An Engine for ``url`` (SQLite file or PostgreSQL), configured as above.

    >>> engine = create_engine_for("sqlite://")
    >>> with engine.connect() as connection:
    ...     connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    1
    >>> engine.dispose()
    """
    parsed = parse_url(url)
    if backend_of(parsed) == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(
        parsed,
        pool_pre_ping=True,
        connect_args={"connect_timeout": POSTGRESQL_CONNECT_TIMEOUT_S},
    )


@contextmanager
def engine_from(url_or_engine: UrlOrEngine) -> Iterator[Engine]:
    """The given Engine, or a new one for a URL, disposed of when the block ends."""
    if isinstance(url_or_engine, Engine):
        yield url_or_engine
        return
    engine = create_engine_for(url_or_engine)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def consistent_read(engine: Engine) -> Iterator[Connection]:
    """A transaction that sees one snapshot of every table (PostgreSQL: repeatable
    read, read only; SQLite: every transaction does)."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        with connection.begin():
            yield connection


def parse_url(url: str | URL) -> URL:
    """The URL, with PostgreSQL normalised to psycopg; StorageError when unusable."""
    try:
        parsed = make_url(normalise_database_url(url) if isinstance(url, str) else url)
    except ArgumentError as error:
        raise StorageError(f"database URL {url!s} cannot be read: {error}") from error
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StorageError(
            f"database URL {parsed.render_as_string()}: isotrack stores its data in "
            "SQLite (sqlite:///FILE) or PostgreSQL (postgresql://USER@HOST/NAME)"
        )
    if parsed.get_backend_name() == "postgresql" and parsed.drivername != "postgresql+psycopg":
        raise StorageError(
            f"database URL {parsed.render_as_string()}: use the psycopg driver "
            "(postgresql:// or postgresql+psycopg://)"
        )
    return parsed


def backend_of(url_or_engine: str | URL | Engine | Connection) -> Backend:
    if isinstance(url_or_engine, Engine | Connection):
        name = url_or_engine.dialect.name
    else:
        name = parse_url(url_or_engine).get_backend_name()
    return "sqlite" if name == "sqlite" else "postgresql"


def describe(engine: Engine) -> str:
    """The engine's URL without its password, for messages."""
    return engine.url.render_as_string(hide_password=True)


@contextmanager
def storage_errors(engine: Engine) -> Iterator[None]:
    """Turn a database failure (unreachable, locked, tables missing) into StorageError.

    Integrity errors pass unchanged: the code that caused them knows what they mean.
    """
    try:
        yield
    except DBAPIError as error:
        if isinstance(error, IntegrityError):
            raise
        raise storage_error(engine, error) from error


def storage_error(engine: Engine, error: DBAPIError) -> StorageError:
    reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    return StorageError(
        f"the database {describe(engine)} cannot be used: {reason}. Check that it is "
        "reachable and at the current schema (isotrack db upgrade)"
    )


def _sqlite_engine(url: URL) -> Engine:
    # Several threads may share the pool; each connection is used by one at a time.
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _configure_sqlite_connection(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Autocommit at the driver level: SQLAlchemy's "begin" hook below starts transactions.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def session_transaction(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: commits at the end, rolls back on an error
    (database failures as StorageError)."""
    with (
        storage_errors(engine),
        Session(engine, expire_on_commit=False) as session,
        session.begin(),
    ):
        yield session
