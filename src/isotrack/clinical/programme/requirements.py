"""The requirements of a pregnancy prevention programme, one function each.

Each function looks at the record as it stood on a day (nothing dated later
counts) and returns a :class:`Requirement`: met or not, what it is in plain
words, and, when unmet, what would satisfy it with the dates ("a negative
pregnancy test dated 2026-03-02 or later; the last one is from 2026-02-20").
The values come from the rule set (:class:`~isotrack.clinical.programme.rule_sets.RuleSet`).

Choices written down here:

- an indeterminate test result is never a negative test, and a negative one dated
  on or before it no longer counts (the test must be repeated);
- a current pregnancy recorded in isotrack refuses every prescription and dispense;
- a test of unknown setting counts like a home test (accepted where home tests
  are, never as a start test or a medically supervised test);
- a positive test suspends the patient until a later negative test in a medical
  setting AND a clinician's override of the rule named by
  ``positive_test_override_rule``, dated on or after that negative test; every
  refusal it causes quotes ``positive_test_referral``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from isotrack.clinical.programme.rule_sets import RuleSet
from isotrack.clinical.screening import (
    CbpStatus,
    ContraceptionStatus,
    contraception_status,
)
from isotrack.clinical.snapshot import PatientSnapshot
from isotrack.clinical.state import CourseState, PatientRecord, PrescriptionState
from isotrack.errors import ProgrammeRefusal

ONE_DAY = timedelta(days=1)

FIELDS = {
    "supply": "supply_days",
    "quantity": "quantity",
    "authorisation": "prescription_id",
    "dispense-window": "on",
}
"""The command field a refusal names when this requirement is the first unmet one
(otherwise ``programme``)."""


@dataclass(frozen=True, slots=True)
class Requirement:
    """One requirement of the programme on one day."""

    key: str
    """'pregnancy-test', 'start-tests', 'contraception', 'comprehension', 'counselling',
    'positive-test', 'pregnancy-status', 'supply', 'course', 'prescription', 'dispense-window',
    'authorisation', 'quantity', 'post-course-test', 'contraception-after'."""
    met: bool
    text: str
    """What is required, in plain words."""
    needs: str = ""
    """When unmet: what would satisfy it, with dates and the data found."""
    rule_ids: tuple[str, ...] = ()
    """The programme rules (``<programme>.<name>``) behind it."""
    found: str = ""
    """When met: the evidence ('negative on 2026-03-01 (medical setting)')."""

    def describe(self) -> str:
        """'needs …' when unmet, else what was found."""
        return f"needs {self.needs}" if not self.met else (self.found or self.text)


CAN_GET_PREGNANT_ONLY = frozenset(
    {"start-tests", "pregnancy-test", "contraception", "comprehension", "dispense-window"}
)
"""Requirements that bind only because the patient can get pregnant."""


def refusal(
    action: str,
    rules: RuleSet,
    requirements: tuple[Requirement, ...],
    category: CbpStatus | None = None,
) -> ProgrammeRefusal:
    """The error for the unmet requirements: each named, with what would satisfy it;
    when one binds because the patient is *assumed* able to get pregnant, it says so."""
    unmet = tuple(r for r in requirements if not r.met)
    listed = "; and ".join(f"{r.text}: needs {r.needs}" for r in unmet)
    field = FIELDS.get(unmet[0].key, "programme") if unmet else "programme"
    assumed = ""
    binding = any(r.key in CAN_GET_PREGNANT_ONLY for r in unmet)
    if binding and category is not None and category.assumed and category.can_get_pregnant:
        assumed = f" ({category.assumption})"
    return ProgrammeRefusal(
        field,
        f"{action} refused under {rules.label}: {listed}{assumed}",
        unmet=tuple(r.key for r in unmet),
    )


def require_all(
    action: str,
    rules: RuleSet,
    requirements: tuple[Requirement, ...],
    category: CbpStatus | None = None,
) -> None:
    if any(not r.met for r in requirements):
        raise refusal(action, rules, requirements, category)


# --- the record as it stood on a day ---------------------------------------------------------
def course_as_of(record: PatientRecord, on: date) -> CourseState | None:
    """The latest course started on or before ``on`` (it may have ended)."""
    started = [c for c in record.courses if c.start <= on]
    return started[-1] if started else None


def course_ended(course: CourseState, on: date) -> bool:
    return course.end is not None and course.end <= on


def prescriptions_as_of(course: CourseState, on: date) -> tuple[PrescriptionState, ...]:
    return tuple(p for p in course.prescriptions if p.on <= on)


def dispensed_as_of(course: CourseState, prescription_id: str, on: date) -> int:
    return sum(
        d.quantity for d in course.dispenses if d.prescription_id == prescription_id and d.on <= on
    )


def opens_course(course: CourseState | None, before: date, prescription_id: str = "") -> bool:
    """Whether a prescription (``prescription_id``; the next one when empty) is still
    bound by the start tests: nothing of the course dispensed before ``before``, other
    than the prescription itself. A lapsed first prescription leaves the course unopened:
    the new one needs a new confirmation test."""
    if course is None:
        return True
    return not any(
        d.on <= before and d.prescription_id != prescription_id for d in course.dispenses
    )


def contraception_on(record: PatientRecord, on: date, rules: RuleSet) -> ContraceptionStatus:
    """The programme's contraception verdict on ``on`` (methods recorded in isotrack)."""
    snapshot = PatientSnapshot(
        record.patient_id,
        birth_date=record.birth_date,
        sex=record.sex,
        pregnancy_capability=record.pregnancy_capability,
        contraception=tuple(u for u in record.contraception if u.start is None or u.start <= on),
    )
    return contraception_status(snapshot, on, rules.kb, rules.id)


# --- every patient ---------------------------------------------------------------------------
def course_requirement(record: PatientRecord, on: date) -> Requirement:
    course = course_as_of(record, on)
    text = "a course in progress, not paused"
    if course is None or course_ended(course, on):
        ended = f"; course {course.course_id} ended on {course.end}" if course else ""
        return Requirement(
            "course", False, text, f"a course started (StartCourse) on or before {on}{ended}"
        )
    if course.paused_on(on):
        since = max(first for first, _ in course.pauses if first <= on)
        return Requirement(
            "course",
            False,
            text,
            f"course {course.course_id} resumed (ResumeCourse); it is paused since {since}",
        )
    return Requirement(
        "course", True, text, found=f"course {course.course_id} since {course.start}"
    )


def counselling_requirement(record: PatientRecord, on: date, rules: RuleSet) -> Requirement:
    text = "counselling documented at enrolment"
    ids = (rules.rule_id("counselling_at_enrolment"),)
    given = [c for c in record.counselling if c.on <= on]
    if given:
        return Requirement(
            "counselling", True, text, rule_ids=ids, found=f"{given[0].topic} on {given[0].on}"
        )
    return Requirement(
        "counselling",
        False,
        text,
        f"counselling recorded (RecordCounselling) on or before {on}; none is recorded",
        rule_ids=ids,
    )


def supply_requirement(supply_days: int, rules: RuleSet) -> Requirement:
    most = rules.whole("max_supply_days")
    ids = (rules.rule_id("max_supply_days"), rules.rule_id("refills_allowed"))
    text = f"a supply of at most {most} days, no refills"
    if supply_days <= most:
        return Requirement("supply", True, text, rule_ids=ids, found=f"{supply_days} days")
    return Requirement(
        "supply",
        False,
        text,
        f"a prescription of at most {most} days; {supply_days} days were asked",
        rule_ids=ids,
    )


def contraception_requirement(record: PatientRecord, day: date, rules: RuleSet) -> Requirement:
    ids = tuple(rules.rule_id(n) for n in ("contraception", "contraception_before_days"))
    text = f"contraception as {rules.programme.name} requires, documented for the month up to {day}"
    status = contraception_on(record, day, rules)
    if status.met:
        return Requirement("contraception", True, text, rule_ids=ids, found=status.reason)
    return Requirement(
        "contraception",
        False,
        text,
        f"contraception documented since {status.window_start}: {status.reason}",
        rule_ids=ids,
    )
