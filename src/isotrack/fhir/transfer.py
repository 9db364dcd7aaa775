"""Export a stored patient as a FHIR R4 Bundle, and import one into the store:
the two use cases behind ``isotrack export`` / ``import``.

An import is checked whole before anything is written (an error names the
Bundle entry), then stored in ONE transaction (:func:`isotrack.store.execute_many`):
all of it, or nothing. A patient already in the database is refused
(ConflictError) unless ``update`` is set. Every command stored and every read
is audited as usual, the import's rows by the one who imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine

from isotrack.clinical.record import PatientRecord, apply, replay
from isotrack.errors import ConflictError
from isotrack.fhir.decode import FhirBundle
from isotrack.fhir.export import record_to_bundle
from isotrack.fhir.export_values import Resource
from isotrack.fhir.import_log import check_log
from isotrack.fhir.import_record import ImportPlan, plan_import, target_patient_id
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store import (
    PendingCommand,
    StoredCommand,
    execute_many,
    patient_ids,
    read_history,
)


@dataclass(frozen=True, slots=True)
class ImportResult:
    plan: ImportPlan
    created: bool
    """True: a new patient; False: an existing one updated."""
    version: int


def export_patient(
    engine: Engine, patient_id: str, *, actor: str, now: datetime, kb: KnowledgeBase
) -> Resource:
    """The patient's whole record as a FHIR R4 Bundle (the read is audited)."""
    history = read_history(engine, patient_id, actor=actor, now=now)
    record = replay(((s.command, s.recorded_on) for s in history), kb=kb)
    return record_to_bundle(record, history, kb=kb, on=now.date())


def import_bundle(
    engine: Engine,
    bundle: FhirBundle,
    *,
    actor: str,
    now: datetime,
    kb: KnowledgeBase,
    on: date | None = None,
    patient_id: str | None = None,
    update: bool = False,
) -> ImportResult:
    """Create the Bundle's patient (as ``patient_id`` when given) or, with ``update``,
    add to the stored one what the Bundle holds and the record does not.

    ``on`` is the import day (default ``now``'s): data dated after it is refused."""
    day = now.date() if on is None else on
    target = target_patient_id(bundle, patient_id)
    existing, history = _existing(engine, target, kb, now, update=update, actor=actor)
    plan = plan_import(
        bundle, kb=kb, on=day, patient_id=target, existing=existing, existing_log=history
    )
    pending = _checked(plan, existing, kb, day)
    _, version = execute_many(
        engine, plan.patient_id, pending, actor=actor, now=now, kb=kb,
        expected_version=len(history),
    )  # fmt: skip
    return ImportResult(plan, existing is None, version)


def _checked(
    plan: ImportPlan, existing: PatientRecord | None, kb: KnowledgeBase, day: date
) -> list[PendingCommand]:
    """Check every command before any is stored (an error names the Bundle entry);
    the commands to store, with who recorded them and when."""
    if plan.log:
        check_log(plan.log, kb=kb, on=day, record=existing)
        return [PendingCommand(e.command, e.actor, e.recorded_at, e.recorded_on) for e in plan.log]
    record = existing
    for command in plan.commands:
        record = apply(record, command, today=day, kb=kb)
    return [PendingCommand(command, recorded_on=day) for command in plan.commands]


def _existing(
    engine: Engine,
    patient_id: str,
    kb: KnowledgeBase,
    now: datetime,
    *,
    update: bool,
    actor: str,
) -> tuple[PatientRecord | None, list[StoredCommand]]:
    """The patient's record and command log if the patient is in the database (an
    audited read), else (None, []). ConflictError without ``update``."""
    if patient_id not in patient_ids(engine):
        return None, []
    if not update:
        raise ConflictError(
            f"patient {patient_id} is already in the database: import into another database, "
            "give another id (--patient), or update the record (--update) to add what the "
            "Bundle holds and the record does not"
        )
    history = read_history(engine, patient_id, actor=actor, now=now)
    return replay(((s.command, s.recorded_on) for s in history), kb=kb), history
