"""The state of a patient's record: who the patient is, what was measured and
reported, and every isotretinoin course (:mod:`isotrack.clinical.state.course`).

The record changes only through commands (:func:`isotrack.clinical.record.apply`).
Values are in canonical units (kg, mg/dL, U/L). Tuples keep the order in which
the commands were recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from isotrack.clinical.snapshot import (
    ContraceptionUse,
    LabResult,
    LesionCount,
    MoodScreen,
    PregnancyCapability,
    PregnancyStatus,
    PregnancyTest,
    Sex,
    Weight,
)
from isotrack.clinical.state.course import CourseState


@dataclass(frozen=True, slots=True)
class SymptomReport:
    """Symptoms the patient reported (knowledge-base symptom ids, triage.toml)."""

    on: date
    symptoms: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class Override:
    """A clinician's decision to go ahead despite a finding, with the reason."""

    on: date
    rule_id: str
    reason: str
    course_id: str | None = None
    """The course in progress when the override was recorded."""


@dataclass(frozen=True, slots=True)
class ComprehensionCheck:
    """The patient's answers to a programme's comprehension questions, as judged when
    they were recorded."""

    on: date
    answers: tuple[tuple[str, int], ...]
    """(question id, chosen option index) pairs."""
    wrong: tuple[str, ...]
    """The ids of the questions answered wrongly."""
    programme: str
    version: str
    course_id: str | None
    """The course in progress when the answers were recorded (None before a course)."""
    prescriptions_before: int
    """Prescriptions of that course already recorded: the check counts for the next one."""


@dataclass(frozen=True, slots=True)
class Counselling:
    """Counselling given to the patient (at enrolment, after wrong answers...)."""

    on: date
    topic: str
    note: str = ""
    checks_before: int = 0
    """Comprehension checks already recorded: counselling answers the checks before it."""


@dataclass(frozen=True, slots=True)
class WorkReview:
    """A clinician's step on a worklist item: assigned, acknowledged or resolved."""

    on: date
    item: str
    step: Literal["assigned", "acknowledged", "resolved"]
    note: str = ""
    assignee: str = ""


@dataclass(frozen=True, slots=True)
class PatientRecord:
    patient_id: str
    name: str
    birth_date: date
    sex: Sex
    pregnancy_capability: PregnancyCapability | None
    capability_reason: str
    programme: str
    """Pregnancy prevention programme id (knowledge base)."""
    weights: tuple[Weight, ...] = ()
    labs: tuple[LabResult, ...] = ()
    pregnancy_tests: tuple[PregnancyTest, ...] = ()
    pregnancy_statuses: tuple[PregnancyStatus, ...] = ()
    contraception: tuple[ContraceptionUse, ...] = ()
    symptom_reports: tuple[SymptomReport, ...] = ()
    mood_screens: tuple[MoodScreen, ...] = ()
    lesion_counts: tuple[LesionCount, ...] = ()
    courses: tuple[CourseState, ...] = ()
    overrides: tuple[Override, ...] = ()
    comprehension_checks: tuple[ComprehensionCheck, ...] = ()
    counselling: tuple[Counselling, ...] = ()
    work_reviews: tuple[WorkReview, ...] = ()

    @property
    def current_course(self) -> CourseState | None:
        """The course not yet ended (active or paused); there is at most one."""
        return next((c for c in self.courses if not c.ended), None)

    @property
    def last_course(self) -> CourseState | None:
        return self.courses[-1] if self.courses else None

    def course(self, course_id: str) -> CourseState | None:
        return next((c for c in self.courses if c.course_id == course_id), None)

    def weight_on(self, day: date) -> Weight | None:
        """The weight in force on ``day``: the latest dated on or before it (on one day,
        the one recorded last)."""
        in_force = None
        for weight in self.weights:
            if weight.on <= day and (in_force is None or weight.on >= in_force.on):
                in_force = weight
        return in_force

    def contraception_in_use(self, method: str) -> ContraceptionUse | None:
        """The use of ``method`` that has not been stopped, if any."""
        return next((u for u in self.contraception if u.method == method and u.end is None), None)

    @property
    def prescription_ids(self) -> frozenset[str]:
        return frozenset(p.id for c in self.courses for p in c.prescriptions)
