"""A batch of commands (an import) is one transaction: all of it, or none of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from isotrack.clinical.state.commands import Dispense, RecordWeight
from isotrack.errors import CommandRejected, ConflictError
from isotrack.knowledge import KnowledgeBase
from isotrack.store import (
    PendingCommand,
    UnitOfWork,
    execute,
    execute_many,
    read_history,
    row_counts,
    verify_audit,
)
from isotrack.store.hashing import timestamp_text
from tests.store.helpers import ENROLLED_ON, NOW, enrol, measurement, start_course

EARLIER = NOW - timedelta(days=40, hours=3)


def batch() -> list[PendingCommand]:
    """Enrolment and a course recorded by ann 40 days ago, then two measurements by bob."""
    return [
        PendingCommand(enrol(), "ann", EARLIER, ENROLLED_ON),
        PendingCommand(start_course(), "ann", EARLIER, ENROLLED_ON),
        PendingCommand(measurement(1), "bob", EARLIER + timedelta(days=1)),
        PendingCommand(measurement(2)),
    ]


def test_a_batch_is_stored_with_each_command_s_own_recorder_and_moment(
    database: Engine, kb: KnowledgeBase
) -> None:
    record, version = execute_many(database, "P-001", batch(), actor="importer", now=NOW, kb=kb)
    assert version == 4
    assert record is not None
    assert record.current_course is not None
    history = read_history(database, "P-001", actor="cat", now=NOW)
    assert [(s.seq, s.actor, s.recorded_at, s.recorded_on) for s in history] == [
        (1, "ann", EARLIER, ENROLLED_ON),
        (2, "ann", EARLIER, ENROLLED_ON),
        (3, "bob", EARLIER + timedelta(days=1), (EARLIER + timedelta(days=1)).date()),
        (4, "importer", NOW, NOW.date()),
    ]
    assert [s.command for s in history] == [p.command for p in batch()]
    assert verify_audit(database).ok


def test_each_command_of_a_batch_has_its_audit_row_naming_who_recorded_it(
    database: Engine, kb: KnowledgeBase
) -> None:
    execute_many(database, "P-001", batch(), actor="importer", now=NOW, kb=kb)
    with UnitOfWork(database) as uow:
        entries = uow.audit.entries("P-001")
    assert [(e.action, e.actor, e.at) for e in entries] == [
        ("command:EnrolPatient", "importer", NOW),
        ("command:StartCourse", "importer", NOW),
        ("command:RecordWeight", "importer", NOW),
        ("command:RecordLabResult", "importer", NOW),
    ]
    assert entries[0].detail == {
        "seq": 1,
        "recorded_by": "ann",
        "recorded_at": timestamp_text(EARLIER),
    }
    assert entries[3].detail == {"seq": 4}


def test_a_refused_command_stores_nothing_of_the_batch_and_is_audited(
    database: Engine, kb: KnowledgeBase
) -> None:
    execute(database, "P-001", enrol(), actor="ann", now=NOW, kb=kb)
    before = row_counts(database)
    refused = Dispense(on=ENROLLED_ON, prescription_id="nope", quantity=10)
    commands = [
        PendingCommand(start_course()),
        PendingCommand(RecordWeight(on=ENROLLED_ON, value=70.0)),
        PendingCommand(refused),
        PendingCommand(measurement(3)),
    ]
    with pytest.raises(CommandRejected, match=r"command 3 of 4 \(Dispense\).*nothing"):
        execute_many(database, "P-001", commands, actor="importer", now=NOW, kb=kb)
    after = row_counts(database)
    assert after["commands"] == before["commands"] == 1
    assert after["audit"] == before["audit"] + 1
    with UnitOfWork(database) as uow:
        last = uow.audit.entries("P-001")[-1]
    assert last.action == "rejected:Dispense"
    assert (last.detail["batch_index"], last.detail["batch_size"]) == (3, 4)
    assert verify_audit(database).ok


def test_a_batch_on_a_record_changed_since_it_was_read_is_a_conflict(
    database: Engine, kb: KnowledgeBase
) -> None:
    execute(database, "P-001", enrol(), actor="ann", now=NOW, kb=kb)
    with pytest.raises(ConflictError):
        execute_many(
            database, "P-001", [PendingCommand(measurement(1))], actor="importer", now=NOW,
            kb=kb, expected_version=0,
        )  # fmt: skip
    assert row_counts(database)["commands"] == 1


def test_an_enrolment_for_another_patient_is_refused(database: Engine, kb: KnowledgeBase) -> None:
    with pytest.raises(CommandRejected, match="use the same id"):
        execute_many(
            database, "P-002", [PendingCommand(enrol("P-001"))], actor="importer", now=NOW, kb=kb
        )
    assert row_counts(database)["commands"] == 0


def test_an_empty_batch_changes_nothing(database: Engine, kb: KnowledgeBase) -> None:
    assert execute_many(database, "P-001", [], actor="importer", now=NOW, kb=kb) == (None, 0)
    assert row_counts(database)["audit"] == 0
