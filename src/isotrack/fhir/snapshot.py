"""A decoded bundle to the clinical snapshot of one patient.

>>> from isotrack.knowledge import default_knowledge
>>> from isotrack.fhir.decode import decode_bundle
>>> bundle = decode_bundle(b'''{"resourceType": "Bundle", "type": "collection", "entry": [
...   {"resource": {"resourceType": "Patient", "id": "p1", "gender": "female",
...                 "birthDate": "2001-02-03"}}]}''')
>>> snapshot = snapshot_from_bundle(bundle, kb=default_knowledge())
>>> snapshot.patient_id, snapshot.sex.value, snapshot.birth_date.isoformat()
('p1', 'female', '2001-02-03')
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TypeVar

from isotrack.clinical.snapshot import (
    AllergyRecord,
    ConditionRecord,
    PatientSnapshot,
    ProcedureRecord,
    Sex,
)
from isotrack.errors import InvalidInputError
from isotrack.fhir.courses import courses_from, prescriptions_from
from isotrack.fhir.datatypes import Reference
from isotrack.fhir.decode import FhirBundle
from isotrack.fhir.devices import contraception_from_devices
from isotrack.fhir.dispenses import supplies_from
from isotrack.fhir.medications import (
    NOT_RECORDS,
    MedicationEntry,
    apply_removals,
    contraception_from_medications,
    contraception_from_procedures,
    merge_uses,
)
from isotrack.fhir.observations import PatientFacts, read_observations
from isotrack.fhir.order import find_isotretinoin_order, is_isotretinoin, medication_of, read_order
from isotrack.fhir.resources import (
    AllergyIntolerance,
    Condition,
    Device,
    DeviceUseStatement,
    MedicationAdministration,
    MedicationDispense,
    MedicationRequest,
    MedicationStatement,
    Observation,
    Patient,
    Procedure,
    Resource,
)
from isotrack.fhir.sex import sex_elements
from isotrack.fhir.values import (
    concept,
    fhir_date,
    is_partial_date,
    period_end,
    period_start,
    refusing_impossible,
    status_code,
)
from isotrack.knowledge.base import KnowledgeBase

R = TypeVar("R", bound=Resource)
_SEXES = {s.value: s for s in Sex}


def snapshot_from_bundle(
    bundle: FhirBundle,
    *,
    kb: KnowledgeBase,
    patient_id: str | None = None,
    order: MedicationRequest | None = None,
    on: date | None = None,
    review_order: bool = True,
) -> PatientSnapshot:
    """The snapshot of the bundle's patient (``patient_id`` is required when the
    bundle holds several). ``order`` is the isotretinoin order under review
    (default: :func:`~isotrack.fhir.order.find_isotretinoin_order`); it is left
    out of the medications and the earlier courses. ``on`` dates an order
    without ``authoredOn`` (an order being written now) when grouping courses.
    ``review_order=False`` reviews no order (e.g. CDS patient-view): every
    isotretinoin request is then part of the courses.

    What the reader skipped or assumed is in ``snapshot.notes``; a resource
    that cannot be read raises :class:`~isotrack.errors.FhirDecodeError`.
    """
    patient = _patient(bundle, patient_id)
    pid = patient.id if patient is not None and patient.id else patient_id
    if pid is None:
        raise InvalidInputError("patient", "the bundle holds no Patient resource and no id")
    notes = list(bundle.notes)
    birth_date = _birth_date(patient, notes)
    selected = _Selection(bundle, pid)
    if order is None and review_order:
        order = find_isotretinoin_order(bundle, kb=kb, patient_id=pid)
    chosen_observations = selected.of(Observation)
    facts = PatientFacts(patient.gender if patient else None, birth_date)
    observations = read_observations(chosen_observations, kb, facts, bundle)
    notes.extend(observations.notes)
    conditions = tuple(_condition(c) for c in selected.of(Condition))
    allergies = tuple(_allergies(selected.of(AllergyIntolerance)))
    procedure_resources = selected.of(Procedure)
    procedures = tuple(_procedure(p) for p in procedure_resources)
    medications, isotretinoin = _medications(bundle, selected, order, kb, notes)
    procedure_uses, removals = contraception_from_procedures(procedures, kb)
    medication_uses = contraception_from_medications(medications, kb, notes)
    device_uses = contraception_from_devices(
        bundle,
        selected.of(Device),
        selected.of(DeviceUseStatement),
        procedure_resources,
        kb,
        notes,
    )
    recorded = [*medication_uses, *procedure_uses, *device_uses]
    uses = merge_uses(apply_removals(recorded, removals))
    prescriptions = prescriptions_from(isotretinoin, bundle, kb, notes)
    order_date = on
    if order is not None:
        order_date = fhir_date(order.authored_on, "MedicationRequest.authoredOn") or on
        notes.extend(read_order(order, kb, bundle=bundle).notes)
    supplies = supplies_from(selected.of(MedicationDispense), bundle, kb, notes)
    if order_date is not None:
        supplies = tuple(s for s in supplies if s.on <= order_date)
    notes.extend(selected.notes())
    return PatientSnapshot(
        patient_id=pid,
        birth_date=birth_date,
        sex=_SEXES.get(patient.gender or "", Sex.UNKNOWN) if patient else Sex.UNKNOWN,
        sex_elements=sex_elements(patient, chosen_observations, kb),
        pregnancy_statuses=tuple(observations.pregnancy_statuses),
        weights=tuple(observations.weights),
        conditions=conditions,
        medications=tuple(
            entry.record(kb) for entry in medications if entry.status not in NOT_RECORDS
        ),
        allergies=allergies,
        procedures=procedures,
        labs=tuple(observations.labs),
        pregnancy_tests=tuple(observations.pregnancy_tests),
        contraception=tuple(uses),
        mood_screens=tuple(observations.mood_screens),
        courses=courses_from(prescriptions, order_date, kb),
        supplies=supplies,
        missing=() if patient is not None else ("patient",),
        notes=tuple(dict.fromkeys(notes)),
    )


def _patient(bundle: FhirBundle, patient_id: str | None) -> Patient | None:
    patients = bundle.of_type(Patient)
    if patient_id is not None:
        chosen = [p for p in patients if p.id == patient_id]
        if not chosen and patients:
            ids = ", ".join(str(p.id) for p in patients)
            raise InvalidInputError("patient", f"no Patient {patient_id!r} in the bundle ({ids})")
        return chosen[0] if chosen else None
    if len(patients) > 1:
        ids = ", ".join(str(p.id) for p in patients)
        raise InvalidInputError(
            "patient", f"the bundle holds {len(patients)} patients ({ids}); say which one to read"
        )
    return patients[0] if patients else None


class _Selection:
    """The resources of the bundle that belong to one patient (a resource with
    no subject belongs to the bundle's patient); counts what it leaves out."""

    def __init__(self, bundle: FhirBundle, patient_id: str) -> None:
        self.bundle, self.patient_id = bundle, patient_id
        self.left_out: dict[str, int] = {}
        self._ours: dict[str | None, bool] = {}
        """Whether a subject reference (by its text) is the patient: the resources of a
        record mostly name their subject the same way, so each text is resolved once."""

    def of(self, cls: type[R]) -> list[R]:
        kept = []
        ours = self._ours
        for resource in self.bundle.of_type(cls):
            subject: Reference | None = getattr(resource, "subject", None)
            text = None if subject is None else subject.reference
            belongs = ours.get(text)
            if belongs is None:
                belongs = ours[text] = self.bundle.refers_to(subject, "Patient", self.patient_id)
            if belongs:
                kept.append(resource)
            else:
                self.left_out[cls.__name__] = self.left_out.get(cls.__name__, 0) + 1
        return kept

    def notes(self) -> list[str]:
        if not self.left_out:
            return []
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(self.left_out.items()))
        return [f"Resources of another patient were ignored: {counts}"]


def _medications(
    bundle: FhirBundle,
    selected: _Selection,
    order: MedicationRequest | None,
    kb: KnowledgeBase,
    notes: list[str],
) -> tuple[list[MedicationEntry], list[MedicationEntry]]:
    """(ordinary medications, earlier isotretinoin records). The order under
    review is in neither; another draft isotretinoin order is an ordinary
    medication (it is a second order, not a prescription already issued). An
    isotretinoin administration is neither (capsules are taken at home, and a
    dose given is no prescription): a note says it was left out."""
    ordinary: list[MedicationEntry] = []
    isotretinoin: list[MedicationEntry] = []
    resources: list[MedicationRequest | MedicationStatement | MedicationAdministration] = [
        *selected.of(MedicationRequest),
        *selected.of(MedicationStatement),
        *selected.of(MedicationAdministration),
    ]
    for resource in resources:
        if resource is order or (order is not None and _same_request(resource, order)):
            continue
        entry = MedicationEntry.of(resource, medication_of(resource, bundle)[0])
        if is_isotretinoin(entry.concept, kb) and entry.administered:
            notes.append(f"{entry.label}: an isotretinoin administration is not read as a course")
        elif is_isotretinoin(entry.concept, kb) and entry.status != "draft":
            isotretinoin.append(entry)
        else:
            ordinary.append(entry)
    return ordinary, isotretinoin


def _same_request(
    resource: MedicationRequest | MedicationStatement | MedicationAdministration,
    order: MedicationRequest,
) -> bool:
    return (
        isinstance(resource, MedicationRequest) and order.id is not None and resource.id == order.id
    )


def _birth_date(patient: Patient | None, notes: list[str]) -> date | None:
    if patient is None:
        return None
    born = fhir_date(patient.birth_date, f"Patient/{patient.id} birthDate")
    if born is not None and is_partial_date(patient.birth_date):
        notes.append(
            f"Patient/{patient.id}: birthDate {patient.birth_date!r} is partial; "
            f"ages are counted from {born.isoformat()}"
        )
    return born


def _condition(condition: Condition) -> ConditionRecord:
    label = f"Condition/{condition.id}"
    onset = fhir_date(condition.onset_date_time, f"{label} onsetDateTime")
    abatement = fhir_date(condition.abatement_date_time, f"{label} abatementDateTime")
    with refusing_impossible(label, "onset/abatement"):
        return ConditionRecord(
            concept=concept(condition.code),
            onset=onset or period_start(condition.onset_period, f"{label} onsetPeriod"),
            abatement=abatement or period_end(condition.abatement_period, f"{label} abatement"),
            clinical_status=status_code(condition.clinical_status),
            verification=status_code(condition.verification_status),
            source=label,
        )


def _allergies(allergies: Iterable[AllergyIntolerance]) -> Iterable[AllergyRecord]:
    for allergy in allergies:
        if status_code(allergy.verification_status) in ("refuted", "entered-in-error"):
            continue
        label = f"AllergyIntolerance/{allergy.id}"
        recorded = allergy.recorded_date or allergy.onset_date_time
        yield AllergyRecord(
            concept=concept(allergy.code),
            status=status_code(allergy.clinical_status),
            recorded=fhir_date(recorded, f"{label} recordedDate"),
            source=label,
        )


def _procedure(procedure: Procedure) -> ProcedureRecord:
    label = f"Procedure/{procedure.id}"
    performed = fhir_date(procedure.performed_date_time, f"{label} performedDateTime")
    return ProcedureRecord(
        concept=concept(procedure.code),
        performed=performed or period_start(procedure.performed_period, f"{label} performed"),
        status=procedure.status,
        source=label,
    )
