"""The pregnancy prevention programme as a state machine, per patient-month.

The course commands drive it (:mod:`isotrack.clinical.state.commands`); this module
reads the record on a day and says where the patient stands
(:func:`programme_status`), and refuses a step the programme does not allow
(:func:`require_prescribable`, :func:`require_dispensable`, raising
:class:`~isotrack.errors.ProgrammeRefusal` whose message names each unmet
requirement and what would satisfy it). The aggregate calls both before it
accepts a ``Prescribe`` or a ``Dispense``.

States of the month in progress (:class:`MonthState`), first match wins:

- ``SUSPENDED_POSITIVE_TEST``: an unresolved positive test (any time, any category);
- no course started: ``ENROLLED``; a course ended: ``POST_COURSE_FOLLOW_UP`` until
  the post-course negative test (patients who can get pregnant), then ``COMPLETED``;
- the month has its prescription: ``DISPENSED`` (something dispensed),
  ``DISPENSE_AUTHORISED`` (a recorded authorisation in force), ``WINDOW_MISSED``
  (its dispensing window closed), else ``PRESCRIBED``;
- no prescription yet: ``ELIGIBLE_TO_PRESCRIBE`` when every prescribing requirement is
  met; ``WINDOW_MISSED`` when the month's negative test has a window that closed
  without a prescription (a new test is needed, with no waiting period); else
  ``QUALIFYING``.

Prescribing requirements (each only when the rule set binds the patient's category):
a course in progress; no unresolved positive test; counselling at enrolment; the
start tests (first prescription of a course) or this month's negative test in the
window; the contraception; this month's comprehension check; the supply limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from isotrack.clinical.programme.authorization import Authorization, recorded_authorization
from isotrack.clinical.programme.comprehension import comprehension_requirement
from isotrack.clinical.programme.dispense import (
    authorization_requirements,
    dispense_deadline,
    require_dispensable,
    valid_authorization,
)
from isotrack.clinical.programme.months import CourseMonth, course_months, month_last_day
from isotrack.clinical.programme.pregnancy_tests import (
    accepted,
    confirmation_ready,
    describe_test,
    negatives,
    positive_test_requirement,
    pregnancy_status_requirement,
    start_tests_requirement,
    test_requirement,
    unresolved_positive,
)
from isotrack.clinical.programme.requirements import (
    ONE_DAY,
    Requirement,
    contraception_on,
    contraception_requirement,
    counselling_requirement,
    course_as_of,
    course_ended,
    course_requirement,
    opens_course,
    prescriptions_as_of,
    require_all,
    supply_requirement,
)
from isotrack.clinical.programme.rule_sets import CAN, CANNOT, RuleSet, category_of, rule_set
from isotrack.clinical.state import CourseState, PatientRecord
from isotrack.knowledge.base import KnowledgeBase

__all__ = [
    "MonthRecord",
    "MonthState",
    "ProgrammeStatus",
    "Requirement",
    "prescribing_requirements",
    "programme_status",
    "require_dispensable",
    "require_prescribable",
]


class MonthState(StrEnum):
    ENROLLED = "enrolled"
    QUALIFYING = "qualifying"
    ELIGIBLE_TO_PRESCRIBE = "eligible-to-prescribe"
    PRESCRIBED = "prescribed"
    DISPENSE_AUTHORISED = "dispense-authorised"
    DISPENSED = "dispensed"
    WINDOW_MISSED = "window-missed"
    SUSPENDED_POSITIVE_TEST = "suspended-positive-test"
    COMPLETED = "completed"
    POST_COURSE_FOLLOW_UP = "post-course-follow-up"


@dataclass(frozen=True, slots=True)
class MonthRecord:
    """One month of the course: when it started, the rule set applied, how it ended
    (or stands, for the month in progress)."""

    month: int
    start: date
    end: date
    """Its last day so far."""
    programme: str
    version: str
    state: MonthState
    prescription_id: str | None = None


@dataclass(frozen=True, slots=True)
class ProgrammeStatus:
    patient_id: str
    on: date
    programme: str
    version: str
    programme_name: str
    category: str
    """'can-get-pregnant' or 'cannot-get-pregnant'."""
    category_reason: str
    """'can get pregnant (recorded: recorded in isotrack)'; says when it is assumed."""
    state: MonthState
    month: int | None
    """The course month in progress (None outside a course)."""
    requirements: tuple[Requirement, ...]
    """What the next step needs: the prescription, its authorisation, or the post-course test."""
    history: tuple[MonthRecord, ...]
    """One per month of the latest course started."""
    authorization: Authorization | None = None
    """The recorded authorisation in force for this month's prescription."""
    course_id: str | None = None

    @property
    def unmet(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if not r.met)


def prescribing_requirements(
    record: PatientRecord, *, on: date, kb: KnowledgeBase, supply_days: int | None = None
) -> tuple[Requirement, ...]:
    """Every requirement of the next prescription of the current course, on ``on``."""
    rules = rule_set(record, kb)
    cbp = category_of(record, on, kb).can_get_pregnant
    course = course_as_of(record, on)
    if course is not None and course_ended(course, on):
        course = None
    number = len(prescriptions_as_of(course, on)) + 1 if course else 1
    found = [
        course_requirement(record, on),
        positive_test_requirement(record, on, rules),
        pregnancy_status_requirement(record, on, rules),
    ]
    if rules.applies("counselling_at_enrolment", can_get_pregnant=cbp):
        found.append(counselling_requirement(record, on, rules))
    if cbp:
        if opens_course(course, on) and rules.applies("start_tests", can_get_pregnant=cbp):
            found.append(start_tests_requirement(record, on, rules))
        elif rules.flag("monthly_test"):
            found.append(test_requirement(record, on, rules))
        if rules.applies("contraception", can_get_pregnant=cbp):
            found.append(contraception_requirement(record, on, rules))
        if rules.flag("comprehension_each_month"):
            found.append(comprehension_requirement(record, rules, course, number, on))
    if supply_days is not None:
        found.append(supply_requirement(supply_days, rules))
    return tuple(found)


def require_prescribable(
    record: PatientRecord, *, on: date, kb: KnowledgeBase, supply_days: int | None = None
) -> None:
    """Raise ProgrammeRefusal unless the next prescription may be written on ``on``."""
    requirements = prescribing_requirements(record, on=on, kb=kb, supply_days=supply_days)
    require_all("prescribing", rule_set(record, kb), requirements, category_of(record, on, kb))


# --- the state ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Context:
    record: PatientRecord
    kb: KnowledgeBase
    rules: RuleSet
    cbp: bool


def programme_status(record: PatientRecord, *, on: date, kb: KnowledgeBase) -> ProgrammeStatus:
    """Where the patient stands in the programme on ``on`` (see the module doc)."""
    rules = rule_set(record, kb)
    category = category_of(record, on, kb)
    context = _Context(record, kb, rules, category.can_get_pregnant)
    course = course_as_of(record, on)
    history = _history(context, course, on) if course is not None else ()
    month: int | None = None
    authorization = None
    if course is not None and course_ended(course, on):
        state, requirements = _after_course(context, course, on)
    else:
        requirements = prescribing_requirements(record, on=on, kb=kb)
        state = MonthState.ENROLLED
        if course is not None:
            current = course_months(course, on)[-1]
            month = current.number
            state = _month_state(context, course, current, on)
            if current.prescription is not None and state in _AUTHORISING:
                requirements = _authorisation_view(context, course, current, on)
            authorization = _authorization(context, course, current, on)
    if unresolved_positive(record, on, rules) is not None:
        state = MonthState.SUSPENDED_POSITIVE_TEST
    return ProgrammeStatus(
        patient_id=record.patient_id,
        on=on,
        programme=rules.id,
        version=rules.programme.version,
        programme_name=rules.programme.name,
        category=CAN if category.can_get_pregnant else CANNOT,
        category_reason=category.label,
        state=state,
        month=month,
        requirements=requirements,
        history=history,
        authorization=authorization,
        course_id=course.course_id if course is not None else None,
    )


_AUTHORISING = (MonthState.PRESCRIBED, MonthState.DISPENSE_AUTHORISED, MonthState.WINDOW_MISSED)


def _month_state(
    context: _Context, course: CourseState, month: CourseMonth, day: date
) -> MonthState:
    record, rules = context.record, context.rules
    if unresolved_positive(record, day, rules) is not None:
        return MonthState.SUSPENDED_POSITIVE_TEST
    prescription = month.prescription
    if prescription is not None:
        if any(d.prescription_id == prescription.id and d.on <= day for d in course.dispenses):
            return MonthState.DISPENSED
        if valid_authorization(course, prescription.id, day)[0] is not None:
            return MonthState.DISPENSE_AUTHORISED
        deadline, _ = dispense_deadline(
            record, course, prescription, rules, can_get_pregnant=context.cbp
        )
        if deadline is None or day > deadline:
            return MonthState.WINDOW_MISSED
        return MonthState.PRESCRIBED
    requirements = prescribing_requirements(record, on=day, kb=context.kb)
    if all(r.met for r in requirements):
        return MonthState.ELIGIBLE_TO_PRESCRIBE
    if context.cbp and _test_window_lapsed(context, course, month, day):
        return MonthState.WINDOW_MISSED
    return MonthState.QUALIFYING


def _test_window_lapsed(
    context: _Context, course: CourseState, month: CourseMonth, day: date
) -> bool:
    """The month's negative test (the confirmation test in month 1) has a window that
    closed before ``day``, with no prescription written in it."""
    record, rules = context.record, context.rules
    start = opens_course(course, day)
    tests = [t for t in negatives(record, day) if accepted(t, rules, start=start)]
    if month.previous is not None:
        tests = [t for t in tests if t.on > month.previous.on]
    if not tests:
        return False
    last = tests[-1]
    if last.on + rules.days("test_window_days") - ONE_DAY >= day:
        return False
    return not start or confirmation_ready(record, last, rules)


def _authorisation_view(
    context: _Context, course: CourseState, month: CourseMonth, on: date
) -> tuple[Requirement, ...]:
    assert month.prescription is not None
    requirements, _ = authorization_requirements(
        context.record, month.prescription.id, on=on, kb=context.kb
    )
    return requirements


def _authorization(
    context: _Context, course: CourseState, month: CourseMonth, on: date
) -> Authorization | None:
    if month.prescription is None:
        return None
    recorded, _ = valid_authorization(course, month.prescription.id, on)
    if recorded is None:
        return None
    return recorded_authorization(context.record, recorded.id, kb=context.kb)


def _after_course(
    context: _Context, course: CourseState, on: date
) -> tuple[MonthState, tuple[Requirement, ...]]:
    if not context.cbp:
        return MonthState.COMPLETED, ()
    record, rules = context.record, context.rules
    assert course.end is not None
    due = course.end + rules.days("post_course_test_days")
    ids = (rules.rule_id("post_course_test_days"),)
    text = (
        f"a negative pregnancy test {rules.whole('post_course_test_days')} days after the last dose"
    )
    tests = negatives(record, on)
    done = [t for t in tests if t.on >= due and accepted(t, rules, start=False)]
    if done:
        test = Requirement(
            "post-course-test", True, text, rule_ids=ids, found=describe_test(done[-1])
        )
    else:
        last = f"the last one is from {tests[-1].on}" if tests else "none is recorded"
        needs = (
            f"a negative pregnancy test dated {due} or later (course ended {course.end}); {last}"
        )
        test = Requirement("post-course-test", False, text, needs, rule_ids=ids)
    until = course.end + rules.days("contraception_after_days")
    after_ids = (rules.rule_id("contraception_after_days"),)
    after_text = f"contraception until {until}"
    status = contraception_on(record, on, rules) if on <= until else None
    if status is None or status.met:
        after = Requirement("contraception-after", True, after_text, rule_ids=after_ids, found="")
    else:
        needs = f"contraception as the programme requires until {until}: {status.reason}"
        after = Requirement("contraception-after", False, after_text, needs, rule_ids=after_ids)
    state = MonthState.COMPLETED if test.met else MonthState.POST_COURSE_FOLLOW_UP
    return state, (test, after)


def _history(context: _Context, course: CourseState, on: date) -> tuple[MonthRecord, ...]:
    months = course_months(course, on)
    history = []
    for index, month in enumerate(months):
        last = month_last_day(months, index, course, on)
        prescription = month.prescription
        state = _month_state(context, course, month, last)
        programme = (
            prescription.programme if prescription and prescription.programme else context.rules.id
        )
        version = (
            prescription.programme_version
            if prescription and prescription.programme_version
            else context.rules.programme.version
        )
        history.append(
            MonthRecord(
                month.number, month.start, last, programme, version, state,
                prescription.id if prescription else None,
            )
        )  # fmt: skip
    return tuple(history)
