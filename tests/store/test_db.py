"""Engines: SQLite opened for durability and queued writers; PostgreSQL via psycopg."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from isotrack.errors import StorageError
from isotrack.store import UnitOfWork, create_engine_for, upgrade
from isotrack.store.db import SQLITE_BUSY_TIMEOUT_MS


def test_sqlite_is_opened_with_wal_foreign_keys_busy_timeout_and_full_sync(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }
    engine.dispose()
    assert pragma == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
        "synchronous": 2,  # FULL
    }


def test_an_sqlite_transaction_holds_the_write_lock_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    engine = create_engine_for(f"sqlite:///{path}")
    upgrade(engine)
    with UnitOfWork(engine):
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
    engine.dispose()


def test_a_plain_postgresql_url_gets_the_psycopg_driver() -> None:
    engine = create_engine_for("postgresql://postgres@127.0.0.1:5432/isotrack")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/isotrack", "postgresql+psycopg2://u@h/d", "not a url"]
)
def test_an_unsupported_database_url_is_refused_with_what_to_use(url: str) -> None:
    with pytest.raises(StorageError, match=r"sqlite|psycopg|cannot be read"):
        create_engine_for(url)


def test_an_unreachable_server_is_a_storage_error_naming_the_database() -> None:
    engine = create_engine_for("postgresql://postgres@127.0.0.1:1/nowhere")
    with pytest.raises(StorageError, match=r"127\.0\.0\.1:1/nowhere cannot be used"):
        UnitOfWork(engine).__enter__()
    engine.dispose()


def test_a_database_without_the_tables_says_to_upgrade(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'new.db'}")
    with pytest.raises(StorageError, match="isotrack db upgrade"), UnitOfWork(engine) as uow:
        uow.patients.ids()
    engine.dispose()
