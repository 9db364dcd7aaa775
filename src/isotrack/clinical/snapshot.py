"""The clinical snapshot: everything the rules read about one patient.

Every surface (FHIR, the store, the CLI) translates its data into a
:class:`PatientSnapshot`; the engine reads nothing else. Values are already in
canonical units (kg, mg, mg/dL, U/L): :mod:`isotrack.clinical.units` converts
at the door. Construction refuses values that can never be right (a negative
weight, an end before a start); :func:`isotrack.clinical.screening.validation.validate`
checks the rest against the evaluation date and the knowledge base.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from isotrack.clinical.codes import Concept
from isotrack.errors import InvalidInputError


class Sex(StrEnum):
    """Administrative gender as recorded (FHIR Patient.gender)."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class SexElement(StrEnum):
    """The sex and gender elements of a record besides administrative gender
    (rules.md "Patient who can get pregnant")."""

    AT_BIRTH = "sex assigned at birth"
    SEX = "sex"
    """A documented sex (US Core 9 Individual Sex, LOINC 46098-0)."""
    CLINICAL_USE = "sex parameter for clinical use"
    GENDER_IDENTITY = "gender identity"


@dataclass(frozen=True, slots=True)
class RecordedSex:
    """One sex or gender element of the record, as written, and the reproductive
    organs it points to: ``indicates`` is FEMALE or MALE, or None when it says
    nothing about them (unknown, asked but not known, "specified", a gender
    identity that names no sex assigned at birth)."""

    element: SexElement
    written: str
    indicates: Sex | None = None
    until: date | None = None
    """The end of the element's period, when it has one: not used after that day."""
    source: str = ""

    def current_on(self, day: date) -> bool:
        return self.until is None or self.until >= day

    def describe(self) -> str:
        """'sex assigned at birth F'."""
        return f"{self.element} {self.written}".strip()


class PregnancyCapability(StrEnum):
    """iPLEDGE categories, as recorded in isotrack by a clinician."""

    CAN = "can-get-pregnant"
    CANNOT = "cannot-get-pregnant"


class TestResult(StrEnum):
    __test__ = False  # not a pytest test class

    POSITIVE = "positive"
    NEGATIVE = "negative"
    INDETERMINATE = "indeterminate"


class TestSetting(StrEnum):
    __test__ = False

    MEDICAL = "medical"
    HOME = "home"
    UNKNOWN = "unknown"


class PregnancyState(StrEnum):
    """What a recorded pregnancy status says. UNKNOWN (unknown, possible, not yet
    confirmed) is not NOT_PREGNANT: it neither records a pregnancy nor ends one."""

    PREGNANT = "pregnant"
    NOT_PREGNANT = "not-pregnant"
    UNKNOWN = "unknown"


def _order(field_name: str, start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise InvalidInputError(field_name, f"ends ({end}) before it starts ({start})")


@dataclass(frozen=True, slots=True)
class Weight:
    kg: float
    on: date
    source: str = ""

    def __post_init__(self) -> None:
        if not self.kg > 0:
            raise InvalidInputError("weight", f"must be above 0 kg, got {self.kg}")


@dataclass(frozen=True, slots=True)
class ConditionRecord:
    concept: Concept
    onset: date | None = None
    abatement: date | None = None
    clinical_status: str | None = None
    """FHIR clinical status: active, recurrence, relapse, inactive, remission, resolved."""
    verification: str | None = None
    source: str = ""

    def __post_init__(self) -> None:
        _order("condition", self.onset, self.abatement)

    @property
    def refuted(self) -> bool:
        return self.verification in ("refuted", "entered-in-error")

    def active_on(self, day: date) -> bool:
        """Recorded and not ended on ``day`` (no status means active unless abated)."""
        if self.refuted or (self.onset is not None and self.onset > day):
            return False
        if self.abatement is not None and self.abatement <= day:
            return False
        return self.clinical_status in (None, "active", "recurrence", "relapse")

    def ever_on(self, day: date) -> bool:
        """Recorded at any time up to ``day`` ("ever recorded")."""
        return not self.refuted and (self.onset is None or self.onset <= day)


@dataclass(frozen=True, slots=True)
class MedicationRecord:
    """A medication order or statement (not the isotretinoin order under review)."""

    concept: Concept
    status: str | None = None
    """FHIR status: active, on-hold, completed, stopped, cancelled, entered-in-error, draft."""
    start: date | None = None
    end: date | None = None
    route: str | None = None
    source: str = ""

    def __post_init__(self) -> None:
        _order("medication", self.start, self.end)

    def active_on(self, day: date) -> bool:
        if self.status not in (None, "active", "on-hold", "intended", "draft"):
            return False
        if self.start is not None and self.start > day:
            return False
        return self.end is None or self.end >= day


@dataclass(frozen=True, slots=True)
class AllergyRecord:
    concept: Concept
    status: str | None = None
    """FHIR clinical status: active, inactive, resolved."""
    recorded: date | None = None
    source: str = ""

    @property
    def active(self) -> bool:
        return self.status in (None, "active")


@dataclass(frozen=True, slots=True)
class ProcedureRecord:
    concept: Concept
    performed: date | None = None
    status: str | None = None
    source: str = ""

    def done_by(self, day: date) -> bool:
        if self.status in ("not-done", "entered-in-error", "preparation", "in-progress"):
            return False
        return self.performed is None or self.performed <= day


@dataclass(frozen=True, slots=True)
class LabResult:
    """A laboratory result in the canonical unit of its analyte."""

    analyte: str
    """Knowledge-base analyte id: triglycerides, cholesterol, hdl, ldl, alt, ast, glucose."""
    value: float
    unit: str
    on: date
    reference_high: float | None = None
    code: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if self.value < 0:
            raise InvalidInputError(
                f"lab result {self.analyte}", f"cannot be negative ({self.value})"
            )


@dataclass(frozen=True, slots=True)
class PregnancyTest:
    on: date
    """Specimen collection date: the 7-day window counts from it."""
    result: TestResult
    setting: TestSetting = TestSetting.UNKNOWN
    source: str = ""
    detail: str = ""
    """How the result was read when that matters to a reader (why it is indeterminate:
    '15 m[IU]/mL, between the negative cut-off and the required sensitivity')."""


@dataclass(frozen=True, slots=True)
class PregnancyStatus:
    """A pregnancy status recorded on a day (a FHIR pregnancy-status observation, or
    recorded in isotrack): its age matters, a status from years ago is not current."""

    on: date
    state: PregnancyState
    source: str = ""
    detail: str = ""
    """The status as written when it says more than the state ('Possible pregnancy')."""


@dataclass(frozen=True, slots=True)
class ContraceptionUse:
    """A contraceptive method in use: ``method`` is a knowledge-base method id."""

    method: str
    start: date | None = None
    end: date | None = None
    source: str = ""
    by_text: bool = False

    def __post_init__(self) -> None:
        _order("contraception", self.start, self.end)

    def covers(self, first: date, last: date) -> bool:
        """In use on every day from ``first`` to ``last`` (an unknown start is not proof)."""
        if self.start is None or self.start > first:
            return False
        return self.end is None or self.end >= last


@dataclass(frozen=True, slots=True)
class MoodScreen:
    """A PHQ-9 screen. ``phq9_total`` is None when only item 9 (self-harm) was recorded
    that day: the answer still counts for MOOD-PHQ9-POSITIVE, never as a full screen."""

    on: date
    phq9_total: int | None
    item9: int | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if self.phq9_total is None and self.item9 is None:
            raise InvalidInputError("phq9_total", "a PHQ-9 screen needs a total or item 9")
        if self.phq9_total is not None and not 0 <= self.phq9_total <= 27:
            raise InvalidInputError("phq9_total", f"must be 0–27, got {self.phq9_total}")
        if self.item9 is not None and not 0 <= self.item9 <= 3:
            raise InvalidInputError("phq9_item9", f"must be 0–3, got {self.item9}")


@dataclass(frozen=True, slots=True)
class LesionCount:
    on: date
    nodules: int
    inflammatory: int | None = None
    comedones: int | None = None
    source: str = field(default="", compare=False)
    """Where it was read (``Observation/7``); not part of the count's value."""

    def __post_init__(self) -> None:
        for name in ("nodules", "inflammatory", "comedones"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InvalidInputError(f"lesion count {name}", f"cannot be negative ({value})")


@dataclass(frozen=True, slots=True)
class IsotretinoinCourse:
    """A current or past isotretinoin course."""

    start: date
    end: date | None = None
    product: str | None = None
    """Knowledge-base product id, when known."""
    cumulative_mg: float | None = None
    target_mg_per_kg: float | None = None
    last_dose_increase: date | None = None
    prescriptions: int = 0
    """Prescriptions already issued in this course (0: the order under review is the first)."""
    source: str = ""

    def __post_init__(self) -> None:
        _order("isotretinoin course", self.start, self.end)
        if self.cumulative_mg is not None and self.cumulative_mg < 0:
            raise InvalidInputError("cumulative_mg", f"cannot be negative ({self.cumulative_mg})")

    def active_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or self.end >= day)


@dataclass(frozen=True, slots=True)
class SupplyRecord:
    """Isotretinoin handed to the patient (a dispense): the supply on hand is counted
    from these (:mod:`isotrack.clinical.screening.on_hand`)."""

    on: date
    """The day it was handed over."""
    days: float | None
    """Days of treatment it supplies; None when not recorded (a finding, never 0)."""
    quantity: float | None = None
    """Capsules, when known."""
    prescription: str | None = None
    """The prescription it was dispensed for, when known."""
    source: str = ""

    def __post_init__(self) -> None:
        if self.days is not None and not self.days > 0:
            raise InvalidInputError("days supplied", f"must be above 0 days, got {self.days}")
        if self.quantity is not None and not self.quantity > 0:
            raise InvalidInputError("dispensed quantity", f"must be above 0, got {self.quantity}")


@dataclass(frozen=True, slots=True)
class ReportToReview:
    """A patient report that asks the clinic to act and that no clinician has
    acknowledged yet (REPORT-NEEDS-REVIEW; derived by :mod:`isotrack.clinical.worklist`)."""

    item_id: str
    """The worklist item it stands for ('report-symptoms-3')."""
    on: date
    summary: str
    critical: bool
    """A "stop" or emergency symptom, PHQ-9 item 9 > 0, a positive home test."""


@dataclass(frozen=True, slots=True)
class PatientSnapshot:
    """What the rules may read about one patient. Lists are in any order."""

    patient_id: str
    birth_date: date | None = None
    sex: Sex = Sex.UNKNOWN
    """Administrative gender (FHIR Patient.gender)."""
    sex_elements: tuple[RecordedSex, ...] = ()
    """The record's other sex and gender elements (sex assigned at birth, documented
    sex, sex for clinical use, gender identity): pregnancy capability weighs them all."""
    pregnancy_capability: PregnancyCapability | None = None
    """Recorded in isotrack; overrides the assumption made from FHIR data."""
    lactating: bool | None = None
    pregnancy_statuses: tuple[PregnancyStatus, ...] = ()
    """Recorded pregnancy statuses, each with its date (FHIR pregnancy-status
    observations, or recorded in isotrack)."""
    committed_abstinence: bool = False
    weights: tuple[Weight, ...] = ()
    conditions: tuple[ConditionRecord, ...] = ()
    medications: tuple[MedicationRecord, ...] = ()
    allergies: tuple[AllergyRecord, ...] = ()
    procedures: tuple[ProcedureRecord, ...] = ()
    labs: tuple[LabResult, ...] = ()
    pregnancy_tests: tuple[PregnancyTest, ...] = ()
    contraception: tuple[ContraceptionUse, ...] = ()
    mood_screens: tuple[MoodScreen, ...] = ()
    lesion_counts: tuple[LesionCount, ...] = ()
    courses: tuple[IsotretinoinCourse, ...] = ()
    supplies: tuple[SupplyRecord, ...] = ()
    """Isotretinoin dispensed, any course (the supply on hand is counted from them)."""
    reports_to_review: tuple[ReportToReview, ...] = ()
    """Patient reports recorded in isotrack that await a clinician's acknowledgement."""
    missing: tuple[str, ...] = ()
    """Data the source could not provide (e.g. a CDS prefetch key): DATA-MISSING."""
    notes: tuple[str, ...] = field(default=())
    """What the translator had to assume or skip while decoding (shown with the findings)."""
