"""Backup and restore of the whole database.

- SQLite: a consistent copy made with SQLite's online backup API while the
  database stays in use; the copy is one self-contained SQLite file.
- PostgreSQL (or SQLite when asked): a portable JSON document holding every row
  of every table, read in one repeatable-read snapshot, with the schema
  revision. It restores into either database.

A restore refuses a database that already holds data unless ``replace=True``,
and a backup whose audit trail does not verify (see :func:`restore`).
Backup files hold patient data: they are created readable by their owner only.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, Table, create_engine, delete, func, inspect, select, text

from isotrack.errors import StorageError
from isotrack.store.checkpoint import Checkpoint
from isotrack.store.db import (
    UrlOrEngine,
    backend_of,
    consistent_read,
    create_engine_for,
    describe,
    engine_from,
    storage_errors,
)
from isotrack.store.hashing import timestamp_text
from isotrack.store.migrate import head_revision, upgrade
from isotrack.store.models import (
    CLINIC_TABLES_IN_DEPENDENCY_ORDER,
    TABLES_IN_DEPENDENCY_ORDER,
    USER_TABLES_IN_DEPENDENCY_ORDER,
    Base,
    UTCDateTime,
)
from isotrack.store.records import check_restored_commands
from isotrack.store.verification import verify_audit

BackupFormat = Literal["sqlite", "json"]

DOCUMENT_FORMAT = "isotrack-backup"
DOCUMENT_FORMAT_VERSION = 1
_SQLITE_MAGIC = b"SQLite format 3\x00"
_INSERT_BATCH = 1000


def backup(
    source: UrlOrEngine, path: str | Path, *, format: BackupFormat | None = None
) -> BackupFormat:
    """Back the database up into ``path`` (replaced atomically); returns the format
    written: an SQLite file for SQLite, JSON for PostgreSQL unless ``format`` says."""
    target = Path(path)
    with engine_from(source) as engine:
        chosen: BackupFormat = format or ("sqlite" if backend_of(engine) == "sqlite" else "json")
        if chosen == "sqlite" and backend_of(engine) != "sqlite":
            raise StorageError("a PostgreSQL database is backed up as JSON (format='json')")
        with storage_errors(engine), _atomic_file(target) as temporary:
            if chosen == "sqlite":
                _sqlite_online_backup(engine, temporary)
            else:
                document = export_tables(engine)
                temporary.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return chosen


def restore(
    path: str | Path,
    target: UrlOrEngine,
    *,
    replace: bool = False,
    checkpoint: Checkpoint | None = None,
) -> BackupFormat:
    """Restore the backup in ``path`` (either format) into ``target``, then migrate
    it to the newest schema; returns the format read.

    The backup's audit trail is verified first (and against ``checkpoint`` when
    given), apart from ``target``: a backup that fails is refused with a
    StorageError and ``target`` is not touched."""
    source = Path(path)
    kind = _format_of(source)
    json_document = _read_json(source) if kind == "json" else None
    _verify_backup(source, json_document, checkpoint)
    with engine_from(target) as engine:
        if not replace:
            _require_empty(engine)
        if kind == "sqlite" and backend_of(engine) == "sqlite":
            _check_sqlite_commands(source)
            _sqlite_restore(source, engine)
        else:
            document = _read_sqlite_file(source) if json_document is None else json_document
            import_tables(document, engine, replace=replace)
        upgrade(engine)
    return kind


def _verify_backup(
    path: Path, json_document: Mapping[str, Any] | None, checkpoint: Checkpoint | None
) -> None:
    """StorageError unless the backup's audit trail verifies: an SQLite backup is read
    in place (read only), a JSON one loaded into a scratch in-memory database."""
    if json_document is None:
        _open_sqlite_backup(path).close()
        scratch = create_engine(f"sqlite:///{path.resolve().as_uri()}?mode=ro&uri=true")
    else:
        scratch = create_engine_for("sqlite://")
    try:
        if json_document is not None:
            import_tables(json_document, scratch)
        found = verify_audit(scratch, checkpoint=checkpoint)
    finally:
        scratch.dispose()
    if not found.ok:
        raise StorageError(
            f"backup {path} fails the audit check at row {found.first_broken}: "
            f"{found.reason}; nothing was restored"
        )


BACKUP_TABLES = (
    TABLES_IN_DEPENDENCY_ORDER + USER_TABLES_IN_DEPENDENCY_ORDER + CLINIC_TABLES_IN_DEPENDENCY_ORDER
)
"""Every table a JSON backup holds: the clinical record, its audit trail, the users
with their tokens and sign-in attempts (so a restore keeps who may sign in), and the
clinic's settings, reminder choices, calendar links and sent reminders. Left out: the
pharmacy signing keys (docs/ppp.md), sign-ins and launches under way, rate buckets."""

_SERIAL_RESETS = (
    "SELECT setval(pg_get_serial_sequence('commands', 'id'), "
    "COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM commands",
    "SELECT setval(pg_get_serial_sequence('outbox', 'id'), "
    "COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM outbox",
)
"""After a PostgreSQL restore, each id sequence continues after the highest id restored."""

_NO_ROWS: Mapping[str, Any] = {"columns": None, "rows": []}


def export_tables(engine: Engine) -> dict[str, Any]:
    """Every row of every table as a JSON-ready document (one consistent snapshot)."""
    with storage_errors(engine), consistent_read(engine) as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
        if revision is None:
            raise StorageError(f"the database {describe(engine)} has no isotrack tables")
        if revision != head_revision():
            raise StorageError(
                f"the database {describe(engine)} is at schema {revision}: run "
                "`isotrack db upgrade` before backing it up as JSON"
            )
        tables: dict[str, Any] = {}
        for name in BACKUP_TABLES:
            table = _table(name)
            query = select(table).order_by(*table.primary_key.columns)
            tables[name] = {
                "columns": [column.name for column in table.columns],
                "rows": [
                    [
                        _to_json(column, value)
                        for column, value in zip(table.columns, row, strict=True)
                    ]
                    for row in connection.execute(query)
                ],
            }
    return {
        "format": DOCUMENT_FORMAT,
        "format_version": DOCUMENT_FORMAT_VERSION,
        "schema_revision": revision,
        "tables": tables,
    }


def import_tables(document: Mapping[str, Any], engine: Engine, *, replace: bool = False) -> None:
    """Load a document made by :func:`export_tables` into ``engine``'s database
    (migrated first when it has no tables); ``replace`` deletes the rows it held."""
    revision = _check_document(document)
    _check_document_commands(document)
    with storage_errors(engine):
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        if current is None:
            upgrade(engine, revision)
        elif current != revision:
            raise StorageError(
                f"the backup is at schema {revision} and the database {describe(engine)} at "
                f"{current}: restore into a new, empty database"
            )
        with engine.begin() as connection:
            if replace:
                for name in reversed(BACKUP_TABLES):
                    connection.execute(delete(_table(name)))
            for name in BACKUP_TABLES:
                # A backup made before the user tables existed holds none of them.
                rows = document["tables"].get(name, _NO_ROWS)
                if rows["rows"]:
                    _insert_rows(connection, _table(name), rows)
            if connection.dialect.name == "postgresql":
                for statement in _SERIAL_RESETS:
                    connection.execute(text(statement))


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per isotrack table (0 for a table that does not exist yet)."""
    with storage_errors(engine), engine.connect() as connection:
        existing = set(inspect(connection).get_table_names())
        return {
            name: (
                connection.scalar(select(func.count()).select_from(_table(name))) or 0
                if name in existing
                else 0
            )
            for name in BACKUP_TABLES
        }


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _require_empty(engine: Engine) -> None:
    counts = row_counts(engine)
    if any(counts.values()):
        held = ", ".join(f"{count} {name}" for name, count in counts.items())
        raise StorageError(
            f"the database {describe(engine)} is not empty ({held} rows): restore into an "
            "empty database, or replace its contents on purpose (--replace)"
        )


def _to_json(column: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, UTCDateTime) and isinstance(value, datetime):
        return timestamp_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _from_json(column: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, UTCDateTime):
        return datetime.fromisoformat(value)
    if column.type.python_type is date:
        return date.fromisoformat(value)
    return value


def _insert_rows(connection: Connection, table: Table, data: Mapping[str, Any]) -> None:
    names = [column.name for column in table.columns]
    if list(data["columns"]) != names:
        raise StorageError(
            f"backup table {table.name} has columns {data['columns']}, expected {names}"
        )
    rows = [
        {c.name: _from_json(c, v) for c, v in zip(table.columns, row, strict=True)}
        for row in data["rows"]
    ]
    for start in range(0, len(rows), _INSERT_BATCH):
        connection.execute(table.insert(), rows[start : start + _INSERT_BATCH])


def _check_document_commands(document: Mapping[str, Any]) -> None:
    data = document["tables"].get("commands", _NO_ROWS)
    columns = list(data["columns"] or [])
    if not data["rows"] or not {"patient_id", "seq", "payload"} <= set(columns):
        return
    where = [columns.index(name) for name in ("patient_id", "seq", "payload")]
    check_restored_commands(tuple(row[i] for i in where) for row in data["rows"])


def _check_sqlite_commands(path: Path) -> None:
    source = _open_sqlite_backup(path)
    try:
        rows = source.execute("SELECT patient_id, seq, payload FROM commands ORDER BY id")
        check_restored_commands(rows)
    except sqlite3.Error as error:
        raise StorageError(f"backup {path} cannot be read: {error}") from error
    finally:
        source.close()


def _check_document(document: Mapping[str, Any]) -> str:
    if document.get("format") != DOCUMENT_FORMAT:
        raise StorageError("not an isotrack backup (format is not isotrack-backup)")
    if document.get("format_version") != DOCUMENT_FORMAT_VERSION:
        raise StorageError(f"backup format version {document.get('format_version')} unknown")
    revision = document.get("schema_revision")
    if revision != head_revision():
        raise StorageError(
            f"the backup is at schema {revision}; this isotrack reads schema {head_revision()} "
            "backups: restore it with the isotrack version that made it"
        )
    return str(revision)


@contextmanager
def _atomic_file(target: Path) -> Iterator[Path]:
    """A temporary file beside ``target``, renamed onto it when the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)  # mkstemp creates it with mode 0600
    temporary = Path(name)
    try:
        yield temporary
        with temporary.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _driver_connection(connection: Connection) -> sqlite3.Connection:
    raw = connection.connection.driver_connection
    if not isinstance(raw, sqlite3.Connection):
        raise StorageError("the SQLite online backup needs the sqlite3 driver")
    return raw


def _sqlite_online_backup(engine: Engine, path: Path) -> None:
    destination = sqlite3.connect(path)
    try:
        with engine.connect() as connection:
            _driver_connection(connection).backup(destination)
        # One self-contained file: no write-ahead log beside it.
        destination.execute("PRAGMA journal_mode=DELETE")
    finally:
        destination.close()


def _sqlite_restore(path: Path, engine: Engine) -> None:
    source = _open_sqlite_backup(path)
    try:
        with storage_errors(engine), engine.connect() as connection:
            source.backup(_driver_connection(connection))
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    finally:
        source.close()
    engine.dispose()  # pooled connections must not keep the old schema cached


def _open_sqlite_backup(path: Path) -> sqlite3.Connection:
    source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        check = source.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise StorageError(f"backup {path} is damaged: {check}")
        found = source.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        if found is None:
            raise StorageError(f"backup {path} is an SQLite file but not an isotrack database")
    except BaseException:
        source.close()
        raise
    return source


def _read_sqlite_file(path: Path) -> dict[str, Any]:
    _open_sqlite_backup(path).close()
    engine = create_engine(f"sqlite:///{path.resolve().as_uri()}?mode=ro&uri=true")
    try:
        return export_tables(engine)
    finally:
        engine.dispose()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise StorageError(f"backup {path} cannot be read: {error}") from error
    if not isinstance(document, dict):
        raise StorageError(f"backup {path} is not an isotrack backup")
    return document


def _format_of(path: Path) -> BackupFormat:
    try:
        with path.open("rb") as file:
            start = file.read(len(_SQLITE_MAGIC))
    except OSError as error:
        raise StorageError(f"backup {path} cannot be read: {error}") from error
    return "sqlite" if start == _SQLITE_MAGIC else "json"
