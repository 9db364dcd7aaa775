"""FHIR R4 (4.0.1) resources as isotrack reads them: typed, partial, immutable.

Each Struct names only the elements the rules need; msgspec skips every other
element (extensions, narrative, ``_element`` primitive extensions) while it
decodes, so unknown content costs nothing and never fails. Codes, units and
dates are kept exactly as written (dates stay strings: FHIR allows partial
dates such as ``"1990-05"``; :mod:`isotrack.fhir.values` turns them into
:class:`datetime.date`). Field names are the FHIR names in snake case.

>>> import msgspec
>>> raw = b'{"resourceType": "Patient", "id": "p1", "birthDate": "1990-05-04", "x": 1}'
>>> msgspec.json.decode(raw, type=Patient)
Patient(id='p1', gender=None, birth_date='1990-05-04', extension=())
"""

from __future__ import annotations

import msgspec

from isotrack.fhir.datatypes import (
    CodeableConcept,
    CodeableReference,
    DispenseRequest,
    Dosage,
    Element,
    Extension,
    Meta,
    Period,
    Quantity,
    Range,
    Ratio,
    Reference,
)


# --- resources ---------------------------------------------------------------------------
class Resource(Element, frozen=True, kw_only=True):
    id: str | None = None


class Patient(Resource, frozen=True, kw_only=True):
    gender: str | None = None
    birth_date: str | None = None
    extension: tuple[Extension, ...] = ()
    """Read for the sex and gender extensions (:mod:`isotrack.fhir.sex`)."""


class Encounter(Resource, frozen=True, kw_only=True):
    status: str | None = None
    subject: Reference | None = None
    period: Period | None = None


class Condition(Resource, frozen=True, kw_only=True):
    clinical_status: CodeableConcept | None = None
    verification_status: CodeableConcept | None = None
    code: CodeableConcept | None = None
    subject: Reference | None = None
    onset_date_time: str | None = None
    onset_period: Period | None = None
    abatement_date_time: str | None = None
    abatement_period: Period | None = None


class AllergyIntolerance(Resource, frozen=True, kw_only=True):
    clinical_status: CodeableConcept | None = None
    verification_status: CodeableConcept | None = None
    code: CodeableConcept | None = None
    patient: Reference | None = None
    onset_date_time: str | None = None
    recorded_date: str | None = None

    @property
    def subject(self) -> Reference | None:
        return self.patient


class ProcedureFocalDevice(Element, frozen=True, kw_only=True):
    manipulated: Reference | None = None


class Procedure(Resource, frozen=True, kw_only=True):
    status: str | None = None
    code: CodeableConcept | None = None
    subject: Reference | None = None
    performed_date_time: str | None = None
    performed_period: Period | None = None
    focal_device: tuple[ProcedureFocalDevice, ...] = ()
    """The devices inserted or removed (an IUD or implant): their Device says which."""


class MedicationIngredient(Element, frozen=True, kw_only=True):
    """An ingredient: R4 ``item[x]`` (a concept, or a Substance or Medication), or the
    R5 ``item`` CodeableReference."""

    item_codeable_concept: CodeableConcept | None = None
    item_reference: Reference | None = None
    item: CodeableReference | None = None
    strength: Ratio | None = None


class Medication(Resource, frozen=True, kw_only=True):
    code: CodeableConcept | None = None
    ingredient: tuple[MedicationIngredient, ...] = ()
    contained: tuple[msgspec.Raw, ...] = ()


class Substance(Resource, frozen=True, kw_only=True):
    """An ingredient's substance (only its code is read)."""

    code: CodeableConcept | None = None


class MedicationRequest(Resource, frozen=True, kw_only=True):
    status: str | None = None
    intent: str | None = None
    medication_codeable_concept: CodeableConcept | None = None
    medication_reference: Reference | None = None
    subject: Reference | None = None
    authored_on: str | None = None
    dosage_instruction: tuple[Dosage, ...] = ()
    dispense_request: DispenseRequest | None = None
    contained: tuple[msgspec.Raw, ...] = ()
    """Contained resources, left undecoded until a ``#id`` reference needs one."""
    medication: CodeableReference | None = None
    """R5 ``medication`` (R4 has ``medication[x]`` instead): read the same way."""


class MedicationStatement(Resource, frozen=True, kw_only=True):
    status: str | None = None
    medication_codeable_concept: CodeableConcept | None = None
    medication_reference: Reference | None = None
    subject: Reference | None = None
    effective_date_time: str | None = None
    effective_period: Period | None = None
    dosage: tuple[Dosage, ...] = ()
    contained: tuple[msgspec.Raw, ...] = ()
    medication: CodeableReference | None = None
    """R5 ``medication`` (R4 has ``medication[x]`` instead): read the same way."""


class MedicationAdministration(Resource, frozen=True, kw_only=True):
    """A medication given (e.g. a depot injection or an implant given in clinic):
    R4 ``effective[x]``, R5 ``occurence[x]`` and ``medication``."""

    status: str | None = None
    medication_codeable_concept: CodeableConcept | None = None
    medication_reference: Reference | None = None
    medication: CodeableReference | None = None
    subject: Reference | None = None
    effective_date_time: str | None = None
    effective_period: Period | None = None
    occurence_date_time: str | None = None
    occurence_period: Period | None = None
    dosage: Dosage | None = None
    contained: tuple[msgspec.Raw, ...] = ()


class MedicationDispense(Resource, frozen=True, kw_only=True):
    """A medication handed to the patient: isotretinoin dispenses give the supply on
    hand (``whenHandedOver``, ``daysSupply``, ``quantity``)."""

    status: str | None = None
    medication_codeable_concept: CodeableConcept | None = None
    medication_reference: Reference | None = None
    medication: CodeableReference | None = None
    subject: Reference | None = None
    authorizing_prescription: tuple[Reference, ...] = ()
    quantity: Quantity | None = None
    days_supply: Quantity | None = None
    when_handed_over: str | None = None
    contained: tuple[msgspec.Raw, ...] = ()


class DeviceName(Element, frozen=True, kw_only=True):
    name: str | None = None


class Device(Resource, frozen=True, kw_only=True):
    """An implanted device (IUD, contraceptive implant): its type, status and patient
    (R4; R5 has no patient, so such a Device belongs to the bundle's patient)."""

    status: str | None = None
    type: CodeableConcept | None = None
    device_name: tuple[DeviceName, ...] = ()
    patient: Reference | None = None

    @property
    def subject(self) -> Reference | None:
        return self.patient


class DeviceUseStatement(Resource, frozen=True, kw_only=True):
    """R4 use of a device by the patient, with when (``timing[x]``, ``recordedOn``)."""

    status: str | None = None
    subject: Reference | None = None
    device: Reference | None = None
    timing_date_time: str | None = None
    timing_period: Period | None = None
    recorded_on: str | None = None


class ReferenceRange(Element, frozen=True, kw_only=True):
    low: Quantity | None = None
    high: Quantity | None = None
    type: CodeableConcept | None = None
    applies_to: tuple[CodeableConcept, ...] = ()
    age: Range | None = None
    text: str | None = None


class SpecimenCollection(Element, frozen=True, kw_only=True):
    collected_date_time: str | None = None
    collected_period: Period | None = None


class Specimen(Resource, frozen=True, kw_only=True):
    """When a sample was taken: a pregnancy test's 7-day window counts from it."""

    subject: Reference | None = None
    type: CodeableConcept | None = None
    collection: SpecimenCollection | None = None


class ObservationComponent(Element, frozen=True, kw_only=True):
    code: CodeableConcept | None = None
    value_quantity: Quantity | None = None
    value_codeable_concept: CodeableConcept | None = None
    value_string: str | None = None
    value_integer: int | None = None
    data_absent_reason: CodeableConcept | None = None
    interpretation: tuple[CodeableConcept, ...] = ()
    reference_range: tuple[ReferenceRange, ...] = ()


class Observation(Resource, frozen=True, kw_only=True):
    meta: msgspec.Raw = msgspec.Raw()
    """Left undecoded (nearly every record carries one) until a reader needs its
    profiles: :meth:`profiles`."""
    status: str | None = None
    category: tuple[CodeableConcept, ...] = ()
    code: CodeableConcept | None = None
    subject: Reference | None = None
    effective_date_time: str | None = None
    effective_period: Period | None = None
    effective_instant: str | None = None
    value_quantity: Quantity | None = None
    value_codeable_concept: CodeableConcept | None = None
    value_string: str | None = None
    value_integer: int | None = None
    value_boolean: bool | None = None
    data_absent_reason: CodeableConcept | None = None
    interpretation: tuple[CodeableConcept, ...] = ()
    reference_range: tuple[ReferenceRange, ...] = ()
    method: CodeableConcept | None = None
    specimen: Reference | None = None
    performer: tuple[Reference, ...] = ()
    component: tuple[ObservationComponent, ...] = ()
    contained: tuple[msgspec.Raw, ...] = ()
    """Contained resources (e.g. the Specimen), left undecoded until a ``#id`` reference
    needs one."""

    def profiles(self) -> tuple[str, ...]:
        """``meta.profile``: the profiles the observation claims (empty if unreadable)."""
        if not len(self.meta):
            return ()
        try:
            return _META.decode(self.meta).profile
        except msgspec.DecodeError:
            return ()


_META = msgspec.json.Decoder(Meta)


# --- envelopes -----------------------------------------------------------------------------
class ResourceHeader(Element, frozen=True, kw_only=True):
    """Just enough of any resource to know what it is."""

    resource_type: str | None = None
    id: str | None = None


class RawEntry(Element, frozen=True, kw_only=True):
    full_url: str | None = None
    resource: msgspec.Raw = msgspec.Raw()
    """Empty when the entry has no resource (e.g. a transaction DELETE)."""


class RawBundle(Element, frozen=True, kw_only=True):
    """A Bundle whose resources are kept as raw JSON until their type is known."""

    resource_type: str | None = None
    type: str | None = None
    entry: tuple[RawEntry, ...] = ()


AnyResource = (
    Patient
    | Encounter
    | Condition
    | AllergyIntolerance
    | Procedure
    | Medication
    | Substance
    | MedicationRequest
    | MedicationStatement
    | MedicationAdministration
    | MedicationDispense
    | Device
    | DeviceUseStatement
    | Observation
    | Specimen
)

RESOURCE_TYPES: dict[str, type[Resource]] = {
    cls.__name__: cls
    for cls in (
        Patient,
        Encounter,
        Condition,
        AllergyIntolerance,
        Procedure,
        Medication,
        Substance,
        MedicationRequest,
        MedicationStatement,
        MedicationAdministration,
        MedicationDispense,
        Device,
        DeviceUseStatement,
        Observation,
        Specimen,
    )
}
"""The resource types isotrack decodes; every other type is kept as raw JSON."""
