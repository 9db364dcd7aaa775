"""What the observation readers share: the kinds of observation isotrack reads (by
knowledge-base value set), the values they add up to, and the part of an observation
(itself or one of its components) a reader is given."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from isotrack.clinical.codes import LOINC, SYSTEMS, match
from isotrack.clinical.snapshot import LabResult, MoodScreen, PregnancyStatus, PregnancyTest
from isotrack.clinical.snapshot import Weight as WeightRecord
from isotrack.fhir.datatypes import CodeableConcept
from isotrack.fhir.resources import Observation, ObservationComponent
from isotrack.fhir.values import concept
from isotrack.knowledge.base import KnowledgeBase

LAB_VALUESETS = {
    "lab-triglycerides": "triglycerides",
    "lab-cholesterol": "cholesterol",
    "lab-hdl": "hdl",
    "lab-ldl": "ldl",
    "lab-alt": "alt",
    "lab-ast": "ast",
    "lab-glucose": "glucose",
}
WEIGHT = "body-weight"
HCG = "pregnancy-test-hcg"
PHQ9_TOTAL = "phq9-total"
PHQ9_ITEM9 = "phq9-item9"
PHQ9_PANEL = "phq9-panel"
"""A panel holds no score itself: its components are read (and a CDS prefetch asks for it)."""
PREGNANCY_STATUS = "pregnancy-status-observation"
KINDS = (WEIGHT, *LAB_VALUESETS, HCG, PHQ9_TOTAL, PHQ9_ITEM9, PHQ9_PANEL, PREGNANCY_STATUS)
"""Value sets that make an observation relevant, in the order they are tried."""

RESULT_STATUSES = frozenset({"final", "amended", "corrected", "appended"})
"""Statuses of a result: R4 ObservationStatus final, amended and its child corrected,
and appended (DiagnosticReportStatus, which some EHRs also put on observations)."""
PRELIMINARY = "preliminary"
"""A result already shown to clinicians (data may be incomplete): read, with a note."""
NO_RESULT_STATUSES = frozenset({"registered", "unknown"})
"""No result yet, or nobody knows: not a result (a note says so)."""
SKIPPED_STATUSES = frozenset({"entered-in-error", "cancelled"})
"""Withdrawn or never done: skipped (a note says so)."""


def status_code(status: str | None) -> str | None:
    """An Observation status as FHIR spells it (lower case, hyphens). FHIR codes are
    case-sensitive, but EHRs send "Final" or "ENTERED_IN_ERROR"; the spelling never
    changes the meaning, so it is read whatever the case and separators."""
    if status is None or status in RESULT_STATUSES:
        return status
    return "-".join(status.strip().casefold().replace("_", " ").split())


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """What a reference range's ``appliesTo`` and ``age`` are checked against."""

    sex: str | None = None
    """FHIR administrative gender (female, male, other, unknown)."""
    birth_date: date | None = None


@dataclass
class ObservationValues:
    """What the observations of one patient contribute to the snapshot."""

    weights: list[WeightRecord] = field(default_factory=list)
    labs: list[LabResult] = field(default_factory=list)
    pregnancy_tests: list[PregnancyTest] = field(default_factory=list)
    mood_screens: list[MoodScreen] = field(default_factory=list)
    pregnancy_statuses: list[PregnancyStatus] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Part:
    """An observation, or one component of it, with the value set it matched."""

    kind: str
    code: str
    holder: Observation | ObservationComponent


class ObservationKinds:
    """Recognises observation codes against the knowledge base's value sets (built once
    per knowledge base)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.by_code: dict[tuple[str, str], str] = {}
        for valueset_id in KINDS:
            for code in kb.valueset(valueset_id).codes:
                key = (SYSTEMS[code.system], code.code)
                self.by_code.setdefault(key, valueset_id)

    def kind_of(self, code: CodeableConcept | None) -> tuple[str, str, bool] | None:
        """(value set id, matched code, by text) for a relevant code, else None."""
        if code is None:
            return None
        has_loinc = False
        for coding in code.coding:
            if coding.system and coding.code:
                found = self.by_code.get((coding.system, coding.code))
                if found is not None:
                    return found, coding.code, False
                has_loinc = has_loinc or coding.system == LOINC
        if has_loinc:
            return None
        as_concept = concept(code)
        for valueset_id in KINDS:
            if match(as_concept, self.kb.valueset(valueset_id)).matched:
                return valueset_id, "", True
        return None
