"""hCG pregnancy tests and recorded pregnancy statuses, as the snapshot holds them.

An hCG result (:mod:`.hcg_result` says positive, negative or indeterminate) becomes a
:class:`~isotrack.clinical.snapshot.PregnancyTest` dated by its specimen, in its setting:

- date: the specimen's collection (``Observation.specimen`` → ``Specimen.collection.
  collectedDateTime`` or ``collectedPeriod.start``, contained or in the bundle), else
  the observation's effective date: the programme's 7-day window counts from the day
  the specimen was collected;
- setting: isotrack's own test-setting category (its export) first; then a home test
  by the HL7 At-Home In-Vitro Test profile or a performer who is the patient or a
  related person; then a medical-setting test by a practitioner, role, organisation or
  care team as performer, a blood sample (serum or plasma code, or a blood Specimen),
  or the ``laboratory`` category; else unknown. No standard method code says "done at
  home", and the method's text is not guessed at.
- status: ``final``, ``amended`` and ``corrected`` are results. A ``preliminary``
  (or ``registered``, ``unknown``) positive is positive: a positive must never be lost;
  a preliminary negative (or one of any status that is not a final result, in any
  spelling) is indeterminate until it is final (it is not yet a negative test), with
  the reason in the test's detail. ``cancelled`` and ``entered-in-error``
  observations never reach this module (the reader skips them).

A pregnancy status (LOINC 82810-3, 11449-6) becomes a dated
:class:`~isotrack.clinical.snapshot.PregnancyStatus`: pregnant, not pregnant, or unknown
(unknown, possible, not yet confirmed, unreadable, or data absent), each by its
knowledge-base value set; a status is never dropped for being old, the rules judge its age.
"""

from __future__ import annotations

from datetime import date

from isotrack.clinical.codes import match
from isotrack.clinical.snapshot import (
    PregnancyState,
    PregnancyStatus,
    PregnancyTest,
    TestResult,
    TestSetting,
)
from isotrack.fhir.datatypes import Reference
from isotrack.fhir.decode import FhirBundle
from isotrack.fhir.observations.hcg_result import HcgVocabulary, read_hcg
from isotrack.fhir.observations.model import (
    RESULT_STATUSES,
    ObservationValues,
    Part,
    status_code,
)
from isotrack.fhir.resources import Observation, Resource, Specimen
from isotrack.fhir.values import concept, contained, fhir_date
from isotrack.knowledge.base import KnowledgeBase

TEST_SETTING = "urn:isotrack:test-setting"
"""isotrack's own category for where a test was done (written by its FHIR export)."""
HOME_TEST_PROFILE = (
    "http://hl7.org/fhir/us/home-lab-report/StructureDefinition/"
    "Observation-at-home-in-vitro-test-result"
)
_LAY_PERFORMERS = frozenset({"Patient", "RelatedPerson"})
_CLINICAL_PERFORMERS = frozenset({"Practitioner", "PractitionerRole", "Organization", "CareTeam"})
_SETTINGS = {s.value: s for s in TestSetting}
_STATES = (
    ("pregnancy-status-pregnant", PregnancyState.PREGNANT),
    ("pregnancy-status-not-pregnant", PregnancyState.NOT_PREGNANT),
    ("pregnancy-status-unknown", PregnancyState.UNKNOWN),
)


class PregnancyReading:
    """What reading pregnancy observations needs from the knowledge base, built once."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.hcg = HcgVocabulary(kb)
        self.blood_tests = frozenset(c.code for c in kb.valueset("pregnancy-test-hcg-blood").codes)
        self.blood_specimens = kb.valueset("specimen-blood")


def hcg(
    part: Part,
    observation: Observation,
    on: date,
    label: str,
    values: ObservationValues,
    kb: KnowledgeBase,
    bundle: FhirBundle | None = None,
) -> None:
    """Add the pregnancy test of an hCG observation (or component) to ``values``."""
    reading = kb.derived("fhir.pregnancy-reading", PregnancyReading)
    verdict = read_hcg(part.holder, label, reading.hcg)
    values.notes.extend(verdict.notes)
    specimen = _specimen(observation, bundle, label, values.notes)
    day = _collected(specimen, label, values.notes) or on
    if verdict.result is None:
        values.notes.append(f"{label}: hCG test on {day} has no result; not counted as a test")
        return
    result, detail = verdict.result, verdict.detail
    status = status_code(observation.status)
    not_final = status is not None and status not in RESULT_STATUSES
    if not_final and result is TestResult.NEGATIVE:
        result = TestResult.INDETERMINATE
        detail = f"a {status} negative result, not yet final"
    elif not_final:
        detail = "; ".join(filter(None, [detail, f"{status} result"]))
    if detail:
        values.notes.append(f"{label}: hCG on {day} read as {result}: {detail}")
    setting = _setting(observation, part.code, specimen, bundle, reading)
    values.pregnancy_tests.append(PregnancyTest(day, result, setting, label, detail))


def _specimen(
    observation: Observation, bundle: FhirBundle | None, label: str, notes: list[str]
) -> Specimen | None:
    reference = observation.specimen
    if reference is None or not reference.reference:
        return None
    if reference.reference.startswith("#"):
        found: Resource | None = contained(observation.contained, reference.reference, Specimen)
    else:
        found = bundle.resolve(reference) if bundle is not None else None
    if isinstance(found, Specimen):
        return found
    notes.append(
        f"{label}: specimen {reference.reference} is not in the record; the test is dated by "
        "the observation's effective date"
    )
    return None


def _collected(specimen: Specimen | None, label: str, notes: list[str]) -> date | None:
    if specimen is None:
        return None
    collection = specimen.collection
    where = f"{label} Specimen/{specimen.id}"
    if collection is not None and collection.collected_date_time is not None:
        return fhir_date(collection.collected_date_time, f"{where} collectedDateTime")
    if collection is not None and collection.collected_period is not None:
        period = collection.collected_period
        return fhir_date(period.start or period.end, f"{where} collectedPeriod")
    notes.append(f"{where}: no collection date; the test is dated by its effective date")
    return None


def _setting(
    observation: Observation,
    code: str,
    specimen: Specimen | None,
    bundle: FhirBundle | None,
    reading: PregnancyReading,
) -> TestSetting:
    for category in observation.category:
        for coding in category.coding:
            if coding.system == TEST_SETTING and coding.code in _SETTINGS:
                return _SETTINGS[coding.code]
    if HOME_TEST_PROFILE in observation.profiles():
        return TestSetting.HOME
    performers = {_type_of(p, bundle) for p in observation.performer}
    if performers & _LAY_PERFORMERS:
        return TestSetting.HOME
    if performers & _CLINICAL_PERFORMERS or code in reading.blood_tests:
        return TestSetting.MEDICAL
    if specimen is not None and match(concept(specimen.type), reading.blood_specimens).matched:
        return TestSetting.MEDICAL
    if any(c.code == "laboratory" for cc in observation.category for c in cc.coding):
        return TestSetting.MEDICAL
    return TestSetting.UNKNOWN


def _type_of(reference: Reference, bundle: FhirBundle | None) -> str | None:
    """The resource type a performer reference names: its ``type``, the ``Type/id`` it is
    written as, or the bundle entry it points to."""
    if reference.type:
        return reference.type
    text = reference.reference or ""
    head = text.split("/")[-2] if text.count("/") >= 1 and not text.startswith("urn:") else ""
    if head:
        return head
    return bundle.type_of(reference) if bundle is not None else None


def pregnancy_status(
    part: Part, on: date, label: str, kb: KnowledgeBase, values: ObservationValues
) -> None:
    """Add the dated pregnancy status of a pregnancy-status observation to ``values``."""
    holder = part.holder
    value = holder.value_codeable_concept
    boolean = getattr(holder, "value_boolean", None)
    state, detail = PregnancyState.UNKNOWN, ""
    if value is not None:
        as_concept = concept(value)
        found = next(
            (s for vs, s in _STATES if match(as_concept, kb.valueset(vs)).matched),
            None,
        )
        if found is None:
            detail = f"not readable ({as_concept.label})"
            values.notes.append(f"{label}: pregnancy status {as_concept.label!r} is not readable")
        else:
            state = found
            detail = as_concept.label if found is PregnancyState.UNKNOWN else ""
    elif boolean is not None:
        state = PregnancyState.PREGNANT if boolean else PregnancyState.NOT_PREGNANT
    elif holder.data_absent_reason is not None:
        detail = f"data absent ({concept(holder.data_absent_reason).label})"
    else:
        values.notes.append(f"{label}: pregnancy status on {on} has no value; read as unknown")
        detail = "no value"
    values.pregnancy_statuses.append(PregnancyStatus(on, state, label, detail))
