"""What reading the EHR's record adds to an isotrack record, command by command, each
with the EHR resource(s) it was read from.

The commands are the FHIR reader's (:func:`isotrack.fhir.import_record.plan_import`,
the fidelity of ``isotrack import``): weights, lab results, pregnancy tests and
statuses, PHQ-9 screens, lesion counts and contraception, each skipped when the
record already holds it; conditions and other medications the record cannot hold
are named in the notes. On top of that, per EHR resource (``Type/id`` and its
``meta.versionId``):

- a resource read before at the same version is *already present*;
- a resource read before at another version *changed in the EHR*: this is reported,
  and what it now says is not stored (the record keeps what was read first; the
  clinician checks and records a correction if one is needed);
- a command the record refuses (checked here, in order, as the store will) is left
  out with the reason, so the rest still comes in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from isotrack.clinical.record import PatientRecord, apply, describe_command
from isotrack.clinical.state import AnyCommand, EnrolPatient
from isotrack.ehr.reading import EhrRecord
from isotrack.errors import CommandRejected, FhirDecodeError
from isotrack.fhir.import_record import ImportPlan, plan_import
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store.ehr import ReadResource

MAX_LEFT_OUT = 20
"""Resources the reader refuses that a read leaves out (with findings) before it gives up."""
_LABEL = re.compile(r"\b([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})")


@dataclass(frozen=True, slots=True)
class ProvenanceItem:
    """One EHR resource and the isotrack command it became."""

    resource: str
    """``Type/id`` at the EHR, e.g. ``Observation/123``."""
    version_id: str
    last_updated: str
    command: str
    """The command's type, e.g. ``RecordWeight``."""
    description: str
    """The command in plain words, as the timeline shows it ("Weight 60 kg")."""
    seq: int | None = None
    """Its place in the patient's log once stored (None: not stored)."""


@dataclass(frozen=True, slots=True)
class SyncPlan:
    patient_id: str
    commands: tuple[AnyCommand, ...]
    sources: tuple[str, ...]
    """The EHR resource(s) of each command (``Observation/7``; several joined by ", ")."""
    already_present: int
    findings: tuple[str, ...]
    """What could not be read or stored, and what changed in the EHR."""
    notes: tuple[str, ...]
    """What the reader skipped or assumed (facts the record cannot hold)."""
    read: tuple[ReadResource, ...] = field(default=())
    """Every resource read, at the version read (kept with the commands)."""

    def provenance(self, kb: KnowledgeBase, first_seq: int | None = None) -> list[ProvenanceItem]:
        """Each (EHR resource, command) pair; with ``first_seq``, the commands' places in
        the log (stored from that seq on)."""
        versions = {r.label: r for r in self.read}
        items = []
        for index, (command, source) in enumerate(zip(self.commands, self.sources, strict=True)):
            for label in resource_labels(source):
                read = versions.get(label)
                items.append(
                    ProvenanceItem(
                        resource=label,
                        version_id=read.version_id if read else "",
                        last_updated=read.last_updated if read else "",
                        command=type(command).__name__,
                        description=describe_command(command, kb),
                        seq=None if first_seq is None else first_seq + index,
                    )
                )
        return items


def resource_labels(sources: str) -> list[str]:
    """The ``Type/id`` labels a reader's source names ("Device/d (Procedure/p)")."""
    return list(dict.fromkeys(f"{kind}/{rid}" for kind, rid in _LABEL.findall(sources)))


def _readable_plan(
    record: EhrRecord,
    kb: KnowledgeBase,
    on: date,
    patient_id: str,
    existing: PatientRecord | None,
) -> tuple[ImportPlan, EhrRecord]:
    """The reader's plan, leaving out each resource it refuses as impossible (an
    invalid date, say: the reader refuses the whole Bundle, naming the resource) with a
    finding; the Patient itself cannot be left out."""
    for _ in range(MAX_LEFT_OUT + 1):
        try:
            plan = plan_import(
                record.bundle, kb=kb, on=on, patient_id=patient_id, existing=existing
            )
        except FhirDecodeError as refused:
            held = record.versions()
            named = [label for label in resource_labels(refused.field) if label in held]
            if not named or named[0].startswith("Patient/"):
                raise
            record = record.without(named[0], f"not read: {named[0]}: {refused.message}")
            continue
        return plan, record
    raise FhirDecodeError(
        "the EHR's record", f"more than {MAX_LEFT_OUT} resources cannot be read: read refused"
    )


def plan_sync(
    record: EhrRecord,
    *,
    kb: KnowledgeBase,
    on: date,
    patient_id: str,
    existing: PatientRecord | None,
    read_before: dict[str, ReadResource],
) -> SyncPlan:
    """The commands that bring ``existing`` (None: a new patient, enrolled as
    ``patient_id``) up to the EHR's record on the day ``on``."""
    plan, record = _readable_plan(record, kb, on, patient_id, existing)
    versions = record.versions()
    changed = {
        label: (read_before[label].version_id, now.version_id)
        for label, now in versions.items()
        if label in read_before and read_before[label].version_id != now.version_id
    }
    findings = list(record.findings)
    findings.extend(
        f"{label} changed in the EHR since it was read (version {before or '?'} → "
        f"{after or '?'}): the record keeps what was read; check it and record a correction "
        "if needed"
        for label, (before, after) in changed.items()
    )
    sources = plan.sources or tuple("" for _ in plan.commands)
    kept: list[tuple[AnyCommand, str]] = []
    state = existing
    for command, source in zip(plan.commands, sources, strict=True):
        what = describe_command(command, kb)
        if any(label in changed for label in resource_labels(source)):
            findings.append(f"not read again: {source}: {what}: it changed in the EHR")
            continue
        try:
            state = apply(state, command, today=on, kb=kb)
        except CommandRejected as refused:
            if isinstance(command, EnrolPatient):
                raise
            findings.append(f"not read: {source or 'the EHR'}: {what}: {refused.message}")
            continue
        kept.append((command, source))
    return SyncPlan(
        patient_id=plan.patient_id,
        commands=tuple(c for c, _ in kept),
        sources=tuple(s for _, s in kept),
        already_present=sum(
            1 for label in versions if label in read_before and label not in changed
        ),
        findings=tuple(dict.fromkeys(findings)),
        notes=plan.notes,
        read=tuple(versions.values()),
    )
