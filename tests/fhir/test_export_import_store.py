"""Export from one database, import into an EMPTY other one: the same command log
(types, payloads, dates, actors, moments), the same record hash, an intact audit
trail. The source is SQLite; the target is SQLite and PostgreSQL (the storage
fixtures of tests/store)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from isotrack.clinical.state.commands import EnrolPatient
from isotrack.demo.clinic import demo_clinic
from isotrack.demo.story import DemoPatient
from isotrack.errors import ConflictError, InvalidInputError
from isotrack.fhir import decode_bundle
from isotrack.fhir.transfer import export_patient, import_bundle
from isotrack.knowledge import KnowledgeBase
from isotrack.store import (
    UnitOfWork,
    create_engine_for,
    execute,
    read_history,
    row_counts,
    verify_audit,
)
from tests.clinical.test_record_properties import KB, command_sequence
from tests.store.conftest import (  # noqa: F401  # fixtures used by the tests below
    backend,
    database,
    migrated_postgresql,
    postgresql_database_url,
    sqlite_template,
)

TODAY = date(2026, 3, 2)
CLINIC = demo_clinic(TODAY)
NOW = datetime(2027, 6, 1, 8, 15, tzinfo=UTC)
"""After every command the generated sequences record (they start on 2026-03-02)."""


@pytest.fixture
def source(sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:  # noqa: F811
    """An empty SQLite database to export from."""
    path = tmp_path / "source.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine_for(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def load(
    engine: Engine, patient_id: str, commands: list[tuple[object, date]], kb: KnowledgeBase
) -> None:
    """Record each command on its day, as a clinic would have (two clinicians)."""
    for seq, (command, day) in enumerate(commands, start=1):
        at = datetime.combine(day, time(9, seq % 60, 0, 4321 * seq), UTC)
        actor = "dr-lee" if seq % 2 else "nurse ann"
        execute(engine, patient_id, command, actor=actor, now=at, kb=kb)  # type: ignore[arg-type]


def log_of(engine: Engine, patient_id: str) -> list[tuple[object, ...]]:
    history = read_history(engine, patient_id, actor="auditor", now=NOW)
    return [(s.seq, s.command, s.actor, s.recorded_at, s.recorded_on) for s in history]


def record_hash(engine: Engine, patient_id: str) -> str:
    with UnitOfWork(engine) as uow:
        return uow.patients.record_hash(patient_id)


def round_trip(
    source: Engine, target: Engine, patient_id: str, kb: KnowledgeBase, *, same_hash: bool
) -> None:
    """Export, import into ``target``: the same log. ``same_hash``: the record hash too
    (when the source's payloads are as JSON writes them: the demo builds its commands
    in Python with whole numbers for decimal fields, stored as ``20`` not ``20.0``)."""
    bundle = export_patient(source, patient_id, actor="exporter", now=NOW, kb=kb)
    raw = msgspec.json.encode(bundle)  # through JSON, as a file would carry it
    result = import_bundle(target, decode_bundle(raw), actor="importer", now=NOW, kb=kb)
    assert result.created
    assert result.plan.patient_id == patient_id
    assert log_of(target, patient_id) == log_of(source, patient_id)
    if same_hash:
        assert record_hash(target, patient_id) == record_hash(source, patient_id)
    audit = verify_audit(target)
    assert audit.ok, audit.reason


@pytest.mark.parametrize("patient", CLINIC, ids=[p.patient_id for p in CLINIC])
def test_every_demo_patient_comes_back_into_an_empty_database(
    patient: DemoPatient,
    source: Engine,
    database: Engine,  # noqa: F811
    kb: KnowledgeBase,
) -> None:
    load(source, patient.patient_id, patient.commands, kb)  # type: ignore[arg-type]
    round_trip(source, database, patient.patient_id, kb, same_hash=False)
    counts = row_counts(database)
    assert counts["commands"] == len(patient.commands)
    assert counts["audit"] == len(patient.commands) + 1  # and the audited read of log_of


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_valid_command_sequence_comes_back_into_an_empty_database(
    data: st.DataObject,
    sqlite_template: Path,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    _, accepted, _ = command_sequence(data)
    folder = tmp_path_factory.mktemp("round-trip")
    engines = []
    for name in ("source.db", "target.db"):
        shutil.copyfile(sqlite_template, folder / name)
        engines.append(create_engine_for(f"sqlite:///{folder / name}"))
    source, target = engines
    try:
        first = accepted[0]
        assert isinstance(first, EnrolPatient)
        load(source, first.patient_id, [(c, c.on) for c in accepted], KB)
        round_trip(source, target, first.patient_id, KB, same_hash=True)
    finally:
        for engine in engines:
            engine.dispose()


def test_importing_a_patient_already_there_is_a_conflict_and_changes_nothing(
    source: Engine,
    database: Engine,  # noqa: F811
    kb: KnowledgeBase,
) -> None:
    patient = CLINIC[7]
    load(source, patient.patient_id, patient.commands, kb)  # type: ignore[arg-type]
    round_trip(source, database, patient.patient_id, kb, same_hash=False)
    before = row_counts(database)
    bundle = decode_bundle(export_patient(source, patient.patient_id, actor="x", now=NOW, kb=kb))
    with pytest.raises(ConflictError, match="--update"):
        import_bundle(database, bundle, actor="importer", now=NOW, kb=kb)
    assert row_counts(database) == before
    later = NOW + timedelta(minutes=1)
    again = import_bundle(database, bundle, actor="importer", now=later, kb=kb, update=True)
    assert (again.created, again.plan.commands) == (False, ())


def test_an_invalid_resource_stores_nothing_and_names_its_entry(
    source: Engine,
    database: Engine,  # noqa: F811
    kb: KnowledgeBase,
) -> None:
    patient = CLINIC[0]
    load(source, patient.patient_id, patient.commands, kb)  # type: ignore[arg-type]
    bundle = export_patient(source, patient.patient_id, actor="x", now=NOW, kb=kb)
    last = bundle["entry"][-1]["resource"]
    last["resourceType"] = "Basic"  # nothing isotrack can read a command from
    with pytest.raises(InvalidInputError, match=rf"entry {len(bundle['entry']) - 1} \(Basic/"):
        import_bundle(database, decode_bundle(bundle), actor="importer", now=NOW, kb=kb)
    assert row_counts(database)["commands"] == 0
