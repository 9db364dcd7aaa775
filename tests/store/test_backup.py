"""Backup and restore: the restored database equals the original, row for row."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import URL

from isotrack.delivery import OutgoingMessage, Recipient
from isotrack.delivery.preferences import ContactChoices
from isotrack.errors import CommandRejected, StorageError
from isotrack.http.passwords import create_user
from isotrack.knowledge import KnowledgeBase
from isotrack.store import (
    UnitOfWork,
    backup,
    create_engine_for,
    execute,
    read_record,
    restore,
    row_counts,
    verify_audit,
)
from isotrack.store.contact_preferences import write_contact_preferences
from isotrack.store.outbox import Queued, enqueue
from tests.store.helpers import NOW, all_rows, enrol, measurement, start_course


def _clinic(engine: Engine, kb: KnowledgeBase) -> None:
    """Two patients, a course, measurements, a read and a refused command."""
    for patient_id in ("P-001", "P-002"):
        enrolment = enrol(patient_id, f"Patient {patient_id}")
        execute(engine, patient_id, enrolment, actor="ann", now=NOW, kb=kb)
    execute(engine, "P-001", start_course("C-1"), actor="ann", now=NOW, kb=kb)
    for n in range(6):
        execute(engine, f"P-00{1 + n % 2}", measurement(n), actor="bob", now=NOW, kb=kb)
    read_record(engine, "P-002", actor="cat", now=NOW, kb=kb)
    # A user who may sign in: a restore must keep who can use the clinic's API.
    create_user(engine, "nurse-kim", "nurse", now=NOW, actor="admin")
    # What the clinic set up beside the record: a restore that lost a patient's opt-out
    # would write to them again, and one that lost the outbox would resend its reminders.
    write_contact_preferences(engine, "P-002", ContactChoices(opted_out=True), actor="ann", now=NOW)
    recipient = Recipient("patient", "Patient P-001", "p1@example.org", None, "UTC")
    message = OutgoingMessage("P-001/visit/m2/email", "email", recipient, "A reminder", "Hi", NOW)
    enqueue(engine, [Queued(message, "visit", "P-001")], actor="worker", now=NOW)
    with pytest.raises(CommandRejected):
        execute(engine, "P-003", measurement(1), actor="bob", now=NOW, kb=kb)


def _restored_equals(original: Engine, url: URL | str) -> None:
    restored = create_engine_for(url)
    try:
        assert all_rows(restored) == all_rows(original)
        assert verify_audit(restored).ok
        assert verify_audit(restored).head_hash == verify_audit(original).head_hash
    finally:
        restored.dispose()


def test_a_backup_restores_to_an_equal_database(
    database: Engine, kb: KnowledgeBase, blank_database_url: URL, tmp_path: Path
) -> None:
    """SQLite: an online-backup file; PostgreSQL: portable JSON."""
    _clinic(database, kb)
    path = tmp_path / "clinic.backup"
    written = backup(database, path)
    assert written == ("sqlite" if database.dialect.name == "sqlite" else "json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert restore(path, blank_database_url) == written
    _restored_equals(database, blank_database_url)


def test_a_json_backup_restores_to_an_equal_database(
    database: Engine, kb: KnowledgeBase, blank_database_url: URL, tmp_path: Path
) -> None:
    _clinic(database, kb)
    path = tmp_path / "clinic.json"
    assert backup(database, path, format="json") == "json"
    document = json.loads(path.read_text())
    assert document["format"] == "isotrack-backup"
    assert len(document["tables"]["audit"]["rows"]) == row_counts(database)["audit"]
    restore(path, blank_database_url)
    _restored_equals(database, blank_database_url)


def test_a_backup_restores_into_the_other_kind_of_database(
    database: Engine, kb: KnowledgeBase, other_blank_database_url: URL, tmp_path: Path
) -> None:
    """SQLite -> PostgreSQL (from the SQLite backup file) and PostgreSQL -> SQLite (JSON)."""
    _clinic(database, kb)
    path = tmp_path / "clinic.backup"
    backup(database, path)
    restore(path, other_blank_database_url)
    _restored_equals(database, other_blank_database_url)
    restored = create_engine_for(other_blank_database_url)
    with UnitOfWork(database) as uow:
        original_version = uow.patients.version("P-001")
    try:  # the restored database goes on numbering commands where the original stopped
        _, version = execute(restored, "P-001", measurement(9), actor="ann", now=NOW, kb=kb)
        assert version == original_version + 1
        assert verify_audit(restored).ok
    finally:
        restored.dispose()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_sqlite_backup_is_one_self_contained_file(
    database: Engine, kb: KnowledgeBase, tmp_path: Path
) -> None:
    _clinic(database, kb)
    path = tmp_path / "clinic.db"
    backup(database, path)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("clinic")) == [
        "clinic.db"
    ]
    copy = sqlite3.connect(path)
    try:
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert copy.execute("SELECT count(*) FROM commands").fetchone() == (9,)
    finally:
        copy.close()


def test_restoring_into_a_database_that_holds_data_is_refused_unless_replacing(
    database: Engine, kb: KnowledgeBase, tmp_path: Path
) -> None:
    _clinic(database, kb)
    path = tmp_path / "clinic.backup"
    backup(database, path)
    execute(database, "P-001", measurement(7), actor="ann", now=NOW, kb=kb)
    with pytest.raises(StorageError, match=r"is not empty \(2 patients, 10 commands"):
        restore(path, database)
    assert row_counts(database)["commands"] == 10
    restore(path, database, replace=True)
    assert row_counts(database)["commands"] == 9
    assert verify_audit(database).ok


def test_a_file_that_is_not_an_isotrack_backup_is_refused(
    blank_database_url: URL, tmp_path: Path
) -> None:
    text = tmp_path / "notes.json"
    text.write_text('{"hello": "world"}')
    with pytest.raises(StorageError, match="not an isotrack backup"):
        restore(text, blank_database_url)
    other = tmp_path / "other.db"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE notes (line TEXT)")
    connection.commit()
    connection.close()
    with pytest.raises(StorageError, match="an SQLite file but not an isotrack database"):
        restore(other, blank_database_url)
