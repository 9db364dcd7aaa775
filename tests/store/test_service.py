"""The use cases: each command and each read is one transaction with its audit row."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from isotrack.clinical.state.commands import RecordWeight
from isotrack.errors import CommandRejected, ConflictError, NotFoundError
from isotrack.knowledge import KnowledgeBase
from isotrack.store import (
    UnitOfWork,
    execute,
    patient_ids,
    read_history,
    read_record,
    row_counts,
    verify_audit,
)
from tests.store.helpers import NOW, TODAY, enrol, measurement, start_course


def _actions(engine: Engine) -> list[tuple[str, str | None, str]]:
    with UnitOfWork(engine) as uow:
        return [(e.action, e.patient_id, e.actor) for e in uow.audit.entries()]


def _enrolled(engine: Engine, kb: KnowledgeBase) -> int:
    execute(engine, "P-001", enrol(), actor="ann", now=NOW, kb=kb)
    _, version = execute(engine, "P-001", start_course("C-1"), actor="ann", now=NOW, kb=kb)
    return version


def test_a_command_is_stored_with_its_audit_row_and_returns_the_new_record(
    database: Engine, kb: KnowledgeBase
) -> None:
    record, version = execute(database, "P-001", enrol(), actor="ann", now=NOW, kb=kb)
    assert (record.patient_id, record.name, version) == ("P-001", "Alex Example", 1)
    assert _actions(database) == [("command:EnrolPatient", "P-001", "ann")]
    with UnitOfWork(database) as uow:
        (entry,) = uow.audit.entries()
        assert entry.detail == {"seq": 1}
        assert entry.after_hash == uow.patients.record_hash("P-001")
    assert verify_audit(database).ok


def test_reading_a_record_rebuilds_it_from_the_log_and_audits_the_read(
    database: Engine, kb: KnowledgeBase
) -> None:
    _enrolled(database, kb)
    written, version = execute(
        database, "P-001", RecordWeight(on=TODAY, value=71.5), actor="bob", now=NOW, kb=kb
    )
    read, read_version = read_record(database, "P-001", actor="cat", now=NOW, kb=kb)
    assert (read, read_version) == (written, version)
    assert read.weights[-1].kg == 71.5
    assert _actions(database)[-1] == ("read", "P-001", "cat")
    assert verify_audit(database).ok


def test_reading_the_history_says_who_recorded_each_command_and_is_audited(
    database: Engine, kb: KnowledgeBase
) -> None:
    _enrolled(database, kb)
    history = read_history(database, "P-001", actor="cat", now=NOW + timedelta(hours=1))
    assert [(h.seq, type(h.command).__name__, h.actor) for h in history] == [
        (1, "EnrolPatient", "ann"),
        (2, "StartCourse", "ann"),
    ]
    assert _actions(database)[-1] == ("read", "P-001", "cat")
    assert patient_ids(database) == ["P-001"]


def test_a_refused_command_changes_nothing_and_the_refusal_is_audited(
    database: Engine, kb: KnowledgeBase
) -> None:
    version = _enrolled(database, kb)
    impossible = RecordWeight(on=TODAY, value=7000.0)
    with pytest.raises(CommandRejected, match="outside the possible"):
        execute(database, "P-001", impossible, actor="bob", now=NOW, kb=kb)
    with UnitOfWork(database) as uow:
        assert uow.patients.version("P-001") == version
        refusal = uow.audit.entries()[-1]
    assert (refusal.action, refusal.actor) == ("rejected:RecordWeight", "bob")
    assert refusal.detail["field"] == "value"
    assert "7000" in refusal.detail["command"]
    assert row_counts(database)["commands"] == version
    assert verify_audit(database).ok


def test_a_command_dated_after_the_day_it_is_recorded_is_refused(
    database: Engine, kb: KnowledgeBase
) -> None:
    _enrolled(database, kb)
    tomorrow = RecordWeight(on=TODAY + timedelta(days=1), value=70.0)
    with pytest.raises(CommandRejected, match="after today"):
        execute(database, "P-001", tomorrow, actor="bob", now=NOW, kb=kb)


def test_enrolling_under_another_patient_id_is_refused(database: Engine, kb: KnowledgeBase) -> None:
    with pytest.raises(CommandRejected, match="names patient P-001"):
        execute(database, "P-002", enrol("P-001"), actor="ann", now=NOW, kb=kb)
    assert row_counts(database)["patients"] == 0


def test_a_command_on_a_stale_version_is_a_conflict_naming_the_course(
    database: Engine, kb: KnowledgeBase
) -> None:
    version = _enrolled(database, kb)
    execute(database, "P-001", measurement(1), actor="ann", now=NOW, kb=kb)
    with pytest.raises(ConflictError, match=r"patient P-001, course C-1: the record changed"):
        execute(
            database,
            "P-001",
            measurement(2),
            actor="bob",
            now=NOW,
            kb=kb,
            expected_version=version,
        )
    assert row_counts(database)["commands"] == version + 1


def test_reading_a_patient_not_in_the_database_is_not_found(
    database: Engine, kb: KnowledgeBase
) -> None:
    with pytest.raises(NotFoundError, match="no patient 'P-404'"):
        read_record(database, "P-404", actor="cat", now=NOW, kb=kb)
    assert row_counts(database)["audit"] == 0


def test_the_time_of_a_command_must_carry_a_time_zone(database: Engine, kb: KnowledgeBase) -> None:
    with pytest.raises(ValueError, match="no time zone"):
        execute(database, "P-001", enrol(), actor="ann", now=datetime(2026, 3, 2), kb=kb)
