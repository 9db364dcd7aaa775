"""The audit trail: every command and read chained by SHA-256; tampering is found
and the first broken row named. Tampering goes around isotrack: on SQLite with
the sqlite3 module, on PostgreSQL with psycopg."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date

import psycopg
import pytest
from sqlalchemy import Engine

from isotrack.clinical.state.commands import RecordWeight
from isotrack.errors import CommandRejected
from isotrack.knowledge import KnowledgeBase
from isotrack.store import UnitOfWork, execute, read_record, verify_audit
from isotrack.store.hashing import GENESIS, audit_fields, chain
from tests.store.helpers import NOW, TODAY, enrol, start_course

RawSql = Callable[..., None]


def raw_sql(engine: Engine) -> RawSql:
    """Run statements on the database behind isotrack's back, and commit them."""
    if engine.dialect.name == "sqlite":

        def run_sqlite(*statements: str) -> None:
            connection = sqlite3.connect(str(engine.url.database))
            try:
                for statement in statements:
                    connection.execute(statement)
                connection.commit()
            finally:
                connection.close()

        return run_sqlite

    def run_postgresql(*statements: str) -> None:
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url) as connection:  # one transaction, committed at the end
            for statement in statements:
                connection.execute(statement.encode())

    return run_postgresql


def _clinic_day(engine: Engine, kb: KnowledgeBase) -> None:
    """Seven audit rows: 1-2 enrol and start the course, 3-5 weights, 6 a read,
    7 a refused weight."""
    execute(engine, "P-001", enrol(), actor="ann", now=NOW, kb=kb)
    execute(engine, "P-001", start_course("C-1"), actor="ann", now=NOW, kb=kb)
    for kg in (70.0, 71.0, 72.0):
        execute(engine, "P-001", RecordWeight(on=TODAY, value=kg), actor="bob", now=NOW, kb=kb)
    read_record(engine, "P-001", actor="cat", now=NOW, kb=kb)
    with pytest.raises(CommandRejected):
        execute(engine, "P-001", RecordWeight(on=TODAY, value=-1.0), actor="bob", now=NOW, kb=kb)


def test_an_untouched_trail_verifies_and_every_command_and_read_is_in_it(
    database: Engine, kb: KnowledgeBase
) -> None:
    _clinic_day(database, kb)
    result = verify_audit(database)
    assert (result.ok, result.rows, result.first_broken) == (True, 7, None)
    with UnitOfWork(database) as uow:
        entries = uow.audit.entries()
    assert [(e.id, e.action, e.actor) for e in entries] == [
        (1, "command:EnrolPatient", "ann"),
        (2, "command:StartCourse", "ann"),
        (3, "command:RecordWeight", "bob"),
        (4, "command:RecordWeight", "bob"),
        (5, "command:RecordWeight", "bob"),
        (6, "read", "cat"),
        (7, "rejected:RecordWeight", "bob"),
    ]
    assert result.head_hash == entries[-1].row_hash
    assert entries[2].before_hash == entries[1].after_hash  # one patient, one chain of states
    assert entries[5].before_hash == entries[5].after_hash == entries[4].after_hash


def test_an_empty_trail_verifies(database: Engine) -> None:
    result = verify_audit(database)
    assert (result.ok, result.rows, result.head_hash) == (True, 0, GENESIS)


TAMPERING = {
    "a changed row": (
        "UPDATE audit SET actor = 'mallory' WHERE id = 3",
        3,
        "row 3 was changed: its contents do not match its hash",
    ),
    "a deleted row": ("DELETE FROM audit WHERE id = 3", 4, "row 3 missing before row 4: deleted"),
    "the first row deleted": ("DELETE FROM audit WHERE id = 1", 2, "row 1 missing before row 2"),
    "two rows deleted": ("DELETE FROM audit WHERE id IN (2, 3)", 4, "rows 2 to 3 missing"),
    "two rows swapped": (
        (
            "UPDATE audit SET id = -3 WHERE id = 3",
            "UPDATE audit SET id = 3 WHERE id = 4",
            "UPDATE audit SET id = 4 WHERE id = -3",
        ),
        3,
        "row 3 does not follow row 2",
    ),
    "a command's payload changed": (
        "UPDATE commands SET payload = replace(payload, '71.0', '91.0') WHERE seq = 4",
        4,
        "row 4: command 4 of patient P-001 was changed after it was recorded",
    ),
    "a command's author changed": (
        "UPDATE commands SET actor = 'mallory' WHERE seq = 3",
        3,
        "command 3 of patient P-001 was changed",
    ),
    "the newest command's audit row deleted": (
        "DELETE FROM audit WHERE id >= 5",
        None,
        "patient P-001: command 5 (RecordWeight) has no audit row",
    ),
    "a patient's version moved": (
        "UPDATE patients SET version = 4",
        None,
        "patient P-001: version 4 and record hash do not match the command log (5 commands)",
    ),
}


@pytest.mark.parametrize(("sql", "first_broken", "reason"), TAMPERING.values(), ids=list(TAMPERING))
def test_verification_fails_after_tampering_and_names_the_first_broken_row(
    database: Engine,
    kb: KnowledgeBase,
    sql: str | tuple[str, ...],
    first_broken: int | None,
    reason: str,
) -> None:
    _clinic_day(database, kb)
    raw_sql(database)(*((sql,) if isinstance(sql, str) else sql))
    result = verify_audit(database)
    assert not result.ok
    assert result.first_broken == first_broken
    assert reason in result.reason


def test_a_changed_row_given_a_correct_new_hash_breaks_the_link_to_the_next_row(
    database: Engine, kb: KnowledgeBase
) -> None:
    _clinic_day(database, kb)
    with UnitOfWork(database) as uow:
        row = uow.audit.entries()[2]
        previous = uow.audit.entries()[1].row_hash
    fields = audit_fields(
        id_=row.id,
        at=row.at,
        actor="mallory",
        action=row.action,
        patient_id=row.patient_id,
        detail='{"seq":3}',
        before_hash=row.before_hash,
        after_hash=row.after_hash,
    )
    forged = chain(previous, fields)
    # S608: `forged` is a hex digest computed above, not outside input.
    forge = f"UPDATE audit SET actor = 'mallory', row_hash = '{forged}' WHERE id = 3"  # noqa: S608
    raw_sql(database)(forge)
    result = verify_audit(database)
    assert (result.ok, result.first_broken) == (False, 4)
    assert "row 4 does not follow row 3" in result.reason


def test_the_audit_time_is_kept_to_the_microsecond_on_both_databases(
    database: Engine, kb: KnowledgeBase
) -> None:
    execute(database, "P-001", enrol(), actor="ann", now=NOW, kb=kb)
    with UnitOfWork(database) as uow:
        (entry,) = uow.audit.entries()
    assert entry.at == NOW
    assert entry.at.date() == date(2026, 3, 2)
