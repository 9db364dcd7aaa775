"""Read one patient's record from the EHR's FHIR server: the Patient, then each kind
of resource isotrack reads (:data:`SEARCHES`), by patient, every page; then the
Medications the requests refer to.

Nothing is dropped in silence: a search the server refuses, an outcome it sends
beside the matches, and a resource the FHIR reader cannot decode each become a
finding (:attr:`EhrRecord.findings`) and the rest is still read. Only a Patient
that cannot be read stops the read (EhrReadError): without it there is nobody to
read for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from isotrack.ehr.client import EhrClient, EhrReadError, Json
from isotrack.errors import FhirDecodeError, InvalidInputError
from isotrack.fhir import FhirBundle, decode_bundle
from isotrack.fhir.decode import join_bundles
from isotrack.store.ehr import ReadResource

_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
SEARCHES: tuple[str, ...] = (
    "Observation",
    "Condition",
    "MedicationRequest",
    "MedicationStatement",
    "Procedure",
)
"""What isotrack reads, each searched by ``patient``: weights, lab results, pregnancy
tests, PHQ-9 screens and lesion counts (Observation); conditions; contraception and
interacting drugs (MedicationRequest, MedicationStatement); sterilisation and
device insertions and removals (Procedure)."""


@dataclass(frozen=True, slots=True)
class EhrRecord:
    """What the EHR holds for one patient, as read."""

    fhir_base: str
    ehr_patient_id: str
    patient: Json
    resources: tuple[Json, ...]
    """Every resource read (the Patient first), each decodable by the FHIR reader."""
    bundle: FhirBundle
    """The same resources as one collection Bundle, for the reader."""
    findings: tuple[str, ...]

    def without(self, label: str, finding: str) -> EhrRecord:
        """The record without the resource ``label``, the reason among the findings."""
        kept = [r for r in self.resources if read_resource(r).label != label]
        return replace(
            self,
            resources=tuple(kept),
            bundle=join_bundles([decode_bundle(r) for r in kept], "collection"),
            findings=(*self.findings, finding),
        )

    def versions(self) -> dict[str, ReadResource]:
        """Each resource read, by ``Type/id``, at the version read."""
        return {r.label: r for r in (read_resource(res) for res in self.resources)}


def is_fhir_id(text: str) -> bool:
    """A FHIR logical id (R4 ``id``: 1–64 letters, digits, '-' and '.'), not all dots."""
    return bool(_FHIR_ID.fullmatch(text)) and text.strip(".") != ""


def read_resource(resource: Json) -> ReadResource:
    meta = resource.get("meta") if isinstance(resource.get("meta"), dict) else {}
    return ReadResource(
        str(resource.get("resourceType")),
        str(resource.get("id")),
        str((meta or {}).get("versionId") or ""),
        str((meta or {}).get("lastUpdated") or ""),
    )


def read_patient_record(client: EhrClient, ehr_patient_id: str) -> EhrRecord:
    """The patient and their resources; EhrReadError when the Patient cannot be read."""
    if not is_fhir_id(ehr_patient_id):
        raise InvalidInputError("patient", f"not a FHIR Patient id: {ehr_patient_id!r}")
    patient = client.read("Patient", ehr_patient_id)
    findings: list[str] = []
    found: list[Json] = [patient]
    for kind in SEARCHES:
        try:
            result = client.search(kind, {"patient": f"Patient/{ehr_patient_id}"})
        except EhrReadError as error:
            findings.append(f"not read from the EHR: {error.message}")
            continue
        findings.extend(f"the EHR said: {said}" for said in result.outcomes)
        found.extend(result.resources)
    found.extend(_medications(client, found, findings))
    kept, bundles = _decodable(found, findings)
    bundle = join_bundles(bundles, "collection")
    return EhrRecord(
        client.base, ehr_patient_id, patient, tuple(kept), bundle, tuple(dict.fromkeys(findings))
    )


def _medications(client: EhrClient, found: Iterable[Json], findings: list[str]) -> list[Json]:
    """The Medications the requests and statements refer to (not contained ones)."""
    wanted: list[str] = []
    for resource in found:
        reference = resource.get("medicationReference")
        target = reference.get("reference") if isinstance(reference, dict) else None
        if not isinstance(target, str) or not target.startswith("Medication/"):
            continue  # contained (#id) or absolute: the reader resolves or names it
        if not is_fhir_id(target.removeprefix("Medication/")):
            findings.append(f"not read from the EHR: {target!r} is not a Medication reference")
        elif target not in wanted:
            wanted.append(target)
    medications = []
    for target in wanted:
        try:
            medications.append(client.read("Medication", target.removeprefix("Medication/")))
        except EhrReadError as error:
            findings.append(f"not read from the EHR: {error.message}")
    return medications


def _decodable(found: list[Json], findings: list[str]) -> tuple[list[Json], list[FhirBundle]]:
    """The resources the FHIR reader can decode (each alone), and their bundles."""
    kept: list[Json] = []
    bundles: list[FhirBundle] = []
    seen: set[str] = set()
    for resource in found:
        label = read_resource(resource).label
        if label in seen:
            continue
        seen.add(label)
        try:
            bundles.append(decode_bundle(resource))
        except FhirDecodeError as error:
            findings.append(f"not read: {label} cannot be decoded: {error.message}")
            continue
        kept.append(resource)
    return kept, bundles
