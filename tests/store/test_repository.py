"""The patient repository: command logs with optimistic locking."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, insert

from isotrack.clinical.state.commands import RecordWeight, encode_command
from isotrack.errors import ConflictError
from isotrack.store import UnitOfWork
from isotrack.store.hashing import GENESIS
from isotrack.store.models import CommandRow
from tests.store.helpers import NOW, enrol, measurement, start_course


def _enrol_with_course(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        uow.patients.append("P-001", enrol(), expected_version=0, actor="ann", recorded_at=NOW)
        uow.patients.append(
            "P-001", start_course("C-7"), expected_version=1, actor="ann", recorded_at=NOW
        )


def test_appended_commands_come_back_in_order_with_who_and_when(database: Engine) -> None:
    _enrol_with_course(database)
    with UnitOfWork(database) as uow:
        version = uow.patients.append(
            "P-001", measurement(1), expected_version=2, actor="bob", recorded_at=NOW
        )
        history = uow.patients.history("P-001")
        assert uow.patients.ids() == ["P-001"]
        assert uow.patients.version("P-001") == version == 3
    assert [stored.seq for stored in history] == [1, 2, 3]
    assert [stored.command for stored in history] == [enrol(), start_course("C-7"), measurement(1)]
    assert history[-1].actor == "bob"
    assert history[-1].recorded_at == NOW
    assert history[-1].recorded_at.tzinfo is UTC
    assert history[-1].recorded_on == NOW.date()


def test_a_timestamp_in_another_zone_comes_back_as_the_same_instant_in_utc(
    database: Engine,
) -> None:
    clinic_time = NOW.astimezone(timezone(timedelta(hours=-5)))
    with UnitOfWork(database) as uow:
        uow.patients.append(
            "P-001", enrol(), expected_version=0, actor="ann", recorded_at=clinic_time
        )
    with UnitOfWork(database) as uow:
        (stored,) = uow.patients.history("P-001")
    assert stored.recorded_at == NOW
    assert stored.recorded_at.utcoffset() == timedelta(0)
    assert stored.recorded_on == clinic_time.date()


def test_a_timestamp_without_a_zone_is_refused_and_nothing_is_stored(database: Engine) -> None:
    with pytest.raises(ValueError, match="no time zone"), UnitOfWork(database) as uow:
        uow.patients.append(
            "P-001", enrol(), expected_version=0, actor="ann", recorded_at=datetime(2026, 3, 2)
        )
    with UnitOfWork(database) as uow:
        assert uow.patients.ids() == []


def test_an_unknown_patient_has_version_zero_no_history_and_the_genesis_hash(
    database: Engine,
) -> None:
    with UnitOfWork(database) as uow:
        assert uow.patients.version("nobody") == 0
        assert uow.patients.history("nobody") == []
        assert uow.patients.record_hash("nobody") == GENESIS


def test_appending_at_a_stale_version_is_a_conflict_naming_patient_and_course(
    database: Engine,
) -> None:
    _enrol_with_course(database)
    with pytest.raises(ConflictError) as raised, UnitOfWork(database) as uow:
        uow.patients.append(
            "P-001", measurement(1), expected_version=1, actor="bob", recorded_at=NOW
        )
    message = str(raised.value)
    assert "patient P-001" in message
    assert "course C-7" in message
    assert "read version 1, now version 2" in message
    assert "StartCourse by ann" in message
    with UnitOfWork(database) as uow:
        assert uow.patients.version("P-001") == 2


def test_enrolling_an_existing_patient_id_again_is_a_conflict(database: Engine) -> None:
    _enrol_with_course(database)
    with pytest.raises(ConflictError, match="patient P-001"), UnitOfWork(database) as uow:
        uow.patients.append("P-001", enrol(), expected_version=0, actor="bob", recorded_at=NOW)


def test_a_command_for_a_patient_not_in_the_database_is_a_conflict(database: Engine) -> None:
    with pytest.raises(ConflictError, match="no such patient"), UnitOfWork(database) as uow:
        uow.patients.append(
            "P-404", measurement(1), expected_version=3, actor="bob", recorded_at=NOW
        )


def _enrol_weigh_then_fail(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        uow.patients.append("P-001", enrol(), expected_version=0, actor="ann", recorded_at=NOW)
        uow.patients.append(
            "P-001",
            RecordWeight(on=NOW.date(), value=70.0),
            expected_version=1,
            actor="ann",
            recorded_at=NOW,
        )
        raise RuntimeError("boom")


def test_an_error_in_the_unit_of_work_rolls_back_every_command_in_it(database: Engine) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        _enrol_weigh_then_fail(database)
    with UnitOfWork(database) as uow:
        assert uow.patients.ids() == []
        assert uow.patients.history("P-001") == []


def test_the_record_hash_is_sha256_of_the_previous_hash_and_the_canonical_command_row(
    database: Engine,
) -> None:
    with UnitOfWork(database) as uow:
        uow.patients.append("P-001", enrol(), expected_version=0, actor="ann", recorded_at=NOW)
        first = uow.patients.record_hash("P-001")
        uow.patients.append(
            "P-001",
            RecordWeight(on=NOW.date(), value=70.0),
            expected_version=1,
            actor="bob",
            recorded_at=NOW,
        )
        second = uow.patients.record_hash("P-001")
    row = (
        '{"actor":"bob","on_date":"2026-03-02",'
        '"payload":"{\\"type\\":\\"RecordWeight\\",\\"on\\":\\"2026-03-02\\",'
        '\\"value\\":70.0,\\"unit\\":\\"kg\\"}",'
        '"recorded_at":"2026-03-02T09:30:15.123456+00:00","recorded_on":"2026-03-02",'
        '"seq":2,"type":"RecordWeight"}'
    )
    assert (
        json.loads(row)["payload"]
        == encode_command(RecordWeight(on=NOW.date(), value=70.0)).decode()
    )
    assert second == hashlib.sha256((first + row).encode()).hexdigest()
    assert GENESIS != first != second


def test_the_unique_patient_and_seq_guards_the_log_even_when_the_version_agrees(
    database: Engine,
) -> None:
    _enrol_with_course(database)
    with database.begin() as connection:  # a row slipped in behind the version's back
        connection.execute(
            insert(CommandRow).values(
                patient_id="P-001",
                seq=3,
                type="RecordWeight",
                payload="{}",
                on_date=NOW.date(),
                recorded_at=NOW,
                recorded_on=NOW.date(),
                actor="x",
            )
        )
    with (
        pytest.raises(ConflictError, match="command 3 was recorded by someone else"),
        UnitOfWork(database) as uow,
    ):
        uow.patients.append(
            "P-001", measurement(1), expected_version=2, actor="bob", recorded_at=NOW
        )
    with UnitOfWork(database) as uow:
        assert uow.patients.version("P-001") == 2
