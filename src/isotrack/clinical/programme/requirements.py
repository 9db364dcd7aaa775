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
    current_pregnancy,
)
from isotrack.clinical.snapshot import PatientSnapshot, PregnancyTest, TestResult, TestSetting
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


def negatives(record: PatientRecord, on: date, *, overridden: bool = False) -> list[PregnancyTest]:
    """Negative tests dated on or before ``on``, oldest first, leaving out those an
    indeterminate result on the same day or later overrides (``overridden=True``: all,
    e.g. for the screening test that came before the confirmation test)."""
    indeterminate = [
        t.on for t in record.pregnancy_tests if t.on <= on and t.result is TestResult.INDETERMINATE
    ]
    after = max(indeterminate, default=date.min)
    found = [
        t
        for t in record.pregnancy_tests
        if t.on <= on
        and t.result is TestResult.NEGATIVE
        and (overridden or not indeterminate or t.on > after)
    ]
    return sorted(found, key=lambda t: t.on)


def pregnancy_status_requirement(record: PatientRecord, on: date, rules: RuleSet) -> Requirement:
    """No current pregnancy recorded (:func:`~isotrack.clinical.screening.current_pregnancy`)."""
    current = current_pregnancy(record.pregnancy_statuses, on, rules.kb)
    if current is None:
        return Requirement("pregnancy-status", True, "no pregnancy recorded", found="none current")
    needs = (
        f"a pregnancy status recorded as not pregnant (RecordPregnancyStatus) after the "
        f"pregnancy recorded on {current.on}: isotretinoin is contraindicated in pregnancy"
    )
    return Requirement("pregnancy-status", False, "no pregnancy recorded", needs)


def describe_test(test: PregnancyTest) -> str:
    return f"{test.result} on {test.on} ({test.setting} setting)"


def medical_only(rules: RuleSet, *, start: bool) -> bool:
    """Whether only a test in a medical setting counts (start tests; programmes
    without home tests)."""
    if start:
        return rules.text("start_test_setting") == TestSetting.MEDICAL.value
    return not rules.flag("home_tests_during_treatment")


def accepted(test: PregnancyTest, rules: RuleSet, *, start: bool) -> bool:
    return not medical_only(rules, start=start) or test.setting is TestSetting.MEDICAL


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


def unresolved_positive(record: PatientRecord, on: date, rules: RuleSet) -> PregnancyTest | None:
    """The latest positive test up to ``on`` unless it has been resolved (see the module doc)."""
    positives = [
        t for t in record.pregnancy_tests if t.on <= on and t.result is TestResult.POSITIVE
    ]
    if not positives:
        return None
    latest = max(positives, key=lambda t: t.on)
    later = [
        t for t in negatives(record, on) if t.on > latest.on and accepted(t, rules, start=True)
    ]
    if not later:
        return latest
    rule_id = rules.text("positive_test_override_rule")
    if any(o.rule_id == rule_id and later[0].on <= o.on <= on for o in record.overrides):
        return None
    return latest


def positive_test_requirement(record: PatientRecord, on: date, rules: RuleSet) -> Requirement:
    names = ("positive_test_override_rule", "positive_test_referral")
    ids = tuple(rules.rule_id(n) for n in names)
    text = "no unresolved positive pregnancy test"
    positive = unresolved_positive(record, on, rules)
    if positive is None:
        return Requirement("positive-test", True, text, rule_ids=ids, found="none")
    rule_id = rules.text("positive_test_override_rule")
    referral = rules.text("positive_test_referral")
    later = [
        t for t in negatives(record, on) if t.on > positive.on and accepted(t, rules, start=True)
    ]
    if later:
        needs = (
            f"a clinician's override of {rule_id} (RecordOverride) dated {later[0].on} or "
            f"later, after the negative test of {later[0].on} that followed the positive "
            f"test of {positive.on}"
        )
    else:
        needs = (
            f"a negative pregnancy test in a medical setting dated after the positive test of "
            f"{positive.on} ({positive.setting} setting), then a clinician's override of "
            f"{rule_id} (RecordOverride)"
        )
    return Requirement("positive-test", False, text, f"{needs}; meanwhile {referral}", rule_ids=ids)


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


# --- patients who can get pregnant -----------------------------------------------------------
def window_start(day: date, rules: RuleSet) -> date:
    """The first specimen date in the window that ends on ``day`` (day 1 = specimen date)."""
    return day - rules.days("test_window_days") + ONE_DAY


def test_requirement(record: PatientRecord, day: date, rules: RuleSet) -> Requirement:
    """A negative test in the window up to ``day`` (a monthly prescription)."""
    window = rules.whole("test_window_days")
    ids = tuple(rules.rule_id(n) for n in ("monthly_test", "test_window_days"))
    medical = medical_only(rules, start=False)
    if medical:
        ids += (rules.rule_id("home_tests_during_treatment"),)
    where = " in a medical setting" if medical else ""
    text = (
        f"a negative pregnancy test{where} in the {window} days up to {day} (day 1 = specimen date)"
    )
    first = window_start(day, rules)
    tests = negatives(record, day)
    fitting = [t for t in tests if t.on >= first and accepted(t, rules, start=False)]
    if fitting:
        return Requirement(
            "pregnancy-test", True, text, rule_ids=ids, found=describe_test(fitting[-1])
        )
    return Requirement(
        "pregnancy-test",
        False,
        text,
        f"a negative pregnancy test{where} dated {first} or later; {_last(tests)}",
        rule_ids=ids,
    )


def _last(tests: list[PregnancyTest]) -> str:
    if not tests:
        return "none is recorded"
    last = tests[-1]
    return f"the last one is from {last.on} ({last.setting} setting)"


def confirmation_ready(record: PatientRecord, test: PregnancyTest, rules: RuleSet) -> bool:
    """Whether ``test`` can be the (last) start test: negative, in the start-test setting,
    after the programme's contraception was documented for the required days."""
    return (
        test.result is TestResult.NEGATIVE
        and accepted(test, rules, start=True)
        and contraception_on(record, test.on, rules).met
    )


def start_tests_requirement(record: PatientRecord, day: date, rules: RuleSet) -> Requirement:
    """The start tests before the first prescription of a course on ``day``: the last in the
    window up to ``day``, after the required contraception; with two, a screening test
    dated before it."""
    count = rules.whole("start_tests")
    window = rules.whole("test_window_days")
    days = rules.whole("confirmation_after_contraception_days")
    names = ("start_tests", "start_test_setting", "confirmation_after_contraception_days")
    ids = tuple(rules.rule_id(n) for n in (*names, "test_window_days", "lockout_days"))
    where = " in a medical setting" if medical_only(rules, start=True) else ""
    tests_word = "a negative start test" if count == 1 else f"{count} negative start tests"
    text = (
        f"{tests_word}{where}, the last in the {window} days up to {day} and after {days} "
        "days of contraception"
    )
    first = max(window_start(day, rules), _after_lockout(record, day, rules))
    every = negatives(record, day)
    tests = [t for t in every if accepted(t, rules, start=True)]
    in_window = [t for t in tests if t.on >= first]
    ready = [t for t in in_window if confirmation_ready(record, t, rules)]
    if not ready:
        if in_window:
            last = in_window[-1]
            reason = contraception_on(record, last.on, rules).reason
            found = f"the test of {last.on} came before that contraception ({reason})"
        else:
            found = _last(every)
        needs = (
            f"a negative confirmation test{where} dated {first} or later, taken after "
            f"{days} days of the programme's contraception; {found}"
        )
        return Requirement("start-tests", False, text, needs, rule_ids=ids)
    confirmation = ready[-1]
    screenings = negatives(record, day, overridden=True)
    earlier = [t for t in screenings if t.on < confirmation.on and accepted(t, rules, start=True)]
    if len(earlier) < count - 1:
        needs = (
            f"{count - 1} negative screening test(s){where} dated before the confirmation "
            f"test of {confirmation.on}; {len(earlier)} recorded"
        )
        return Requirement("start-tests", False, text, needs, rule_ids=ids)
    screening = earlier[len(earlier) - (count - 1) :] if count > 1 else []
    found = ", then ".join(describe_test(t) for t in [*screening, confirmation])
    return Requirement("start-tests", True, text, rule_ids=ids, found=found)


def _after_lockout(record: PatientRecord, day: date, rules: RuleSet) -> date:
    """The first day a new confirmation test counts after a missed first window
    (``lockout_days``; 0 since 2024: no wait)."""
    lockout = rules.days("lockout_days")
    if not lockout:
        return date.min
    missed = [
        t
        for t in negatives(record, day)
        if t.on + rules.days("test_window_days") - ONE_DAY < day
        and confirmation_ready(record, t, rules)
    ]
    if not missed:
        return date.min
    return missed[-1].on + rules.days("test_window_days") + lockout


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
