"""Dispensing under the programme: the window of a prescription, the terms of an
authorisation, and whether a recorded authorisation allows a dispense.

- The do-not-dispense-after date of a prescription (:func:`dispense_deadline`):
  for a patient who can get pregnant, ``cbp_dispense_window_from`` says where the
  window starts: ``specimen-date-is-day-1`` (iPLEDGE: day ``cbp_dispense_window_days``
  counting the specimen date of the negative test that qualified the prescription
  as day 1) or ``days-after-prescription`` (EU: the prescription date plus
  ``cbp_dispense_window_days``). For a patient who cannot, day
  ``non_cbp_dispense_window_days`` counting the prescription (office visit) as day 1.
  After it the prescription lapses: a new test and a new prescription.
- The maximum quantity: the capsules still to dispense, capped so that the whole
  prescription never exceeds ``max_supply_days`` of its daily dose
  (``max_days = min(supply days, max_supply_days)``; capsules = floor(max_days ×
  daily mg / strength)).
- :func:`dispense_terms` checks every requirement of an authorisation on a day and
  returns the terms, or raises :class:`~isotrack.errors.ProgrammeRefusal`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from isotrack.clinical.programme.comprehension import comprehension_requirement
from isotrack.clinical.programme.pregnancy_tests import (
    accepted,
    negatives,
    positive_test_requirement,
    pregnancy_status_requirement,
    start_tests_requirement,
    test_requirement,
    window_start,
)
from isotrack.clinical.programme.requirements import (
    ONE_DAY,
    Requirement,
    contraception_requirement,
    counselling_requirement,
    course_as_of,
    course_requirement,
    dispensed_as_of,
    opens_course,
    require_all,
)
from isotrack.clinical.programme.rule_sets import RuleSet, category_of, rule_set
from isotrack.clinical.snapshot import PregnancyTest
from isotrack.clinical.state import (
    AuthorizationState,
    CourseState,
    DispenseState,
    PatientRecord,
    PrescriptionState,
    RecordAuthorization,
)
from isotrack.clinical.units import exact
from isotrack.errors import CommandRejected, NotFoundError
from isotrack.knowledge.base import KnowledgeBase


@dataclass(frozen=True, slots=True)
class DispenseTerms:
    """What an authorisation issued on ``on`` may allow."""

    course_id: str
    prescription: PrescriptionState
    on: date
    not_after: date
    max_quantity: int
    max_days: int


def qualifying_test(
    record: PatientRecord, course: CourseState, prescription: PrescriptionState, rules: RuleSet
) -> PregnancyTest | None:
    """The latest negative test that could qualify the prescription: in its window and
    in an accepted setting (a start test for the course's first prescription)."""
    start = opens_course(course, prescription.on, prescription.id)
    first = window_start(prescription.on, rules)
    fitting = [
        t
        for t in negatives(record, prescription.on)
        if t.on >= first and accepted(t, rules, start=start)
    ]
    return fitting[-1] if fitting else None


def dispense_deadline(
    record: PatientRecord,
    course: CourseState,
    prescription: PrescriptionState,
    rules: RuleSet,
    *,
    can_get_pregnant: bool,
) -> tuple[date | None, str]:
    """The do-not-dispense-after date of a prescription and how it was counted (None
    when no negative test qualifies it)."""
    if not can_get_pregnant:
        days = rules.whole("non_cbp_dispense_window_days")
        last = prescription.on + rules.days("non_cbp_dispense_window_days") - ONE_DAY
        return last, f"day {days} counting the prescription of {prescription.on} as day 1"
    anchor = rules.text("cbp_dispense_window_from")
    days = rules.whole("cbp_dispense_window_days")
    if anchor == "days-after-prescription":
        last = prescription.on + rules.days("cbp_dispense_window_days")
        return last, f"{days} days after the prescription of {prescription.on}"
    if anchor != "specimen-date-is-day-1":
        raise NotFoundError(
            f"programme rule {rules.rule_id('cbp_dispense_window_from')}: {anchor!r}"
        )
    test = qualifying_test(record, course, prescription, rules)
    if test is None:
        return None, f"no negative test qualifies prescription {prescription.id}"
    last = test.on + rules.days("cbp_dispense_window_days") - ONE_DAY
    return last, f"day {days} counting the specimen date {test.on} as day 1"


def quantity_limits(
    course: CourseState, prescription: PrescriptionState, on: date, rules: RuleSet
) -> tuple[int, int]:
    """(max_quantity, max_days) an authorisation issued on ``on`` may allow."""
    max_days = min(prescription.supply_days, rules.whole("max_supply_days"))
    regimen = prescription.regimen
    whole = (
        regimen.capsule_count * max_days  # every strength of the regimen, for max_days
        if regimen is not None
        else math.floor(exact(prescription.daily_mg) * max_days / exact(prescription.strength_mg))
    )
    dispensed = dispensed_as_of(course, prescription.id, on)
    return max(0, min(prescription.quantity, whole) - dispensed), max_days


def first_use(course: CourseState, authorization_id: str) -> DispenseState | None:
    """The dispense made under the authorisation, if any (each is used once)."""
    return next((d for d in course.dispenses if d.authorization_id == authorization_id), None)


def capsules_left(course: CourseState, authorization: AuthorizationState, on: date) -> int:
    """How many capsules the authorisation still allows on ``on``: its maximum less what
    was dispensed on its prescription since it was recorded."""
    dispensed = dispensed_as_of(course, authorization.prescription_id, on)
    return authorization.max_quantity - (dispensed - authorization.dispensed_before)


def valid_authorization(
    course: CourseState, prescription_id: str, on: date
) -> tuple[AuthorizationState | None, int]:
    """The latest recorded authorisation of the prescription in force on ``on``, not
    yet used by a dispense, with capsules left, and how many it allows."""
    for authorization in reversed(course.authorizations):
        if authorization.prescription_id != prescription_id:
            continue
        if first_use(course, authorization.id) is not None:
            continue
        if authorization.on <= on <= authorization.not_after:
            left = capsules_left(course, authorization, on)
            if left > 0:
                return authorization, left
    return None, 0


def authorization_requirements(
    record: PatientRecord, prescription_id: str | None, *, on: date, kb: KnowledgeBase
) -> tuple[tuple[Requirement, ...], DispenseTerms | None]:
    """Every requirement of a dispensing authorisation on ``on`` for the prescription
    (default: the latest of the current course), and the terms when there is one."""
    rules = rule_set(record, kb)
    cbp = category_of(record, on, kb).can_get_pregnant
    course_req = course_requirement(record, on)
    course = course_as_of(record, on)
    requirements = [course_req]
    if course is None or not course_req.met:
        return tuple(requirements), None
    prescription = _prescription(course, prescription_id, on)
    if prescription is None:
        known = ", ".join(p.id for p in course.prescriptions if p.on <= on) or "none yet"
        wanted = f"prescription {prescription_id!r}" if prescription_id else "a prescription"
        needs = (
            f"{wanted} of course {course.course_id} written on or before {on} (Prescribe); "
            f"prescriptions: {known}"
        )
        requirements.append(Requirement("prescription", False, "a prescription", needs))
        return tuple(requirements), None
    requirements += _prescription_requirements(record, course, prescription, on, rules, cbp)
    max_quantity, max_days = quantity_limits(course, prescription, on, rules)
    deadline, _ = dispense_deadline(record, course, prescription, rules, can_get_pregnant=cbp)
    if deadline is not None and all(r.met for r in requirements) and max_quantity > 0:
        terms = DispenseTerms(course.course_id, prescription, on, deadline, max_quantity, max_days)
        return tuple(requirements), terms
    return tuple(requirements), None


def _prescription(
    course: CourseState, prescription_id: str | None, on: date
) -> PrescriptionState | None:
    written = [p for p in course.prescriptions if p.on <= on]
    if prescription_id is None:
        return written[-1] if written else None
    return next((p for p in written if p.id == prescription_id), None)


def _prescription_requirements(
    record: PatientRecord,
    course: CourseState,
    prescription: PrescriptionState,
    on: date,
    rules: RuleSet,
    cbp: bool,
) -> list[Requirement]:
    number = 1 + [p.id for p in course.prescriptions].index(prescription.id)
    max_quantity, max_days = quantity_limits(course, prescription, on, rules)
    ids = (rules.rule_id("max_supply_days"),)
    text = f"capsules left on prescription {prescription.id} within {max_days} days of its dose"
    requirements = [
        Requirement(
            "prescription",
            max_quantity > 0,
            text,
            ""
            if max_quantity > 0
            else (
                f"a new prescription (Prescribe): {prescription.id} has "
                f"{dispensed_as_of(course, prescription.id, on)} of its capsules dispensed, "
                f"all that {max_days} days of its dose allow"
            ),
            rule_ids=ids,
            found=f"{max_quantity} capsules",
        )
    ]
    deadline, counted = dispense_deadline(record, course, prescription, rules, can_get_pregnant=cbp)
    window_ids = tuple(
        rules.rule_id(n)
        for n in (
            ("cbp_dispense_window_from", "cbp_dispense_window_days")
            if cbp
            else ("non_cbp_dispense_window_days",)
        )
    )
    text = f"dispensing within the window of prescription {prescription.id}"
    if deadline is not None and on <= deadline:
        requirements.append(
            Requirement(
                "dispense-window",
                True,
                text,
                rule_ids=window_ids,
                found=f"until {deadline} ({counted})",
            )
        )
    else:
        closed = f"it closed on {deadline} ({counted})" if deadline else counted
        again = "a new negative pregnancy test and " if cbp else ""
        requirements.append(
            Requirement(
                "dispense-window",
                False,
                text,
                f"{again}a new prescription (the window is missed, no waiting period): {closed}",
                rule_ids=window_ids,
            )
        )
    if rules.applies("counselling_at_enrolment", can_get_pregnant=cbp):
        requirements.append(counselling_requirement(record, on, rules))
    requirements.append(positive_test_requirement(record, on, rules))
    requirements.append(pregnancy_status_requirement(record, on, rules))
    if not cbp:
        return requirements
    if opens_course(course, prescription.on, prescription.id):
        requirements.append(start_tests_requirement(record, prescription.on, rules))
    elif rules.flag("monthly_test"):
        requirements.append(test_requirement(record, prescription.on, rules))
    requirements.append(contraception_requirement(record, on, rules))
    if rules.flag("comprehension_each_month"):
        requirements.append(
            comprehension_requirement(record, rules, course, number, prescription.on, on)
        )
    return requirements


def check_recorded_terms(
    record: PatientRecord, command: RecordAuthorization, kb: KnowledgeBase
) -> None:
    """A recorded authorisation may allow no later date and no more capsules than the
    programme's terms on its day (ProgrammeRefusal when there are none)."""
    terms = dispense_terms(record, command.prescription_id, on=command.on, kb=kb)
    prescription = terms.prescription.id
    if command.not_after > terms.not_after:
        raise CommandRejected(
            "not_after",
            f"{command.not_after} is after the {terms.not_after} the programme allows for "
            f"prescription {prescription}: give {terms.not_after} or earlier",
        )
    if command.max_quantity > terms.max_quantity:
        raise CommandRejected(
            "max_quantity",
            f"{command.max_quantity} capsules is more than the {terms.max_quantity} the "
            f"programme allows for prescription {prescription} ({terms.max_days} days of "
            f"its dose): give at most {terms.max_quantity}",
        )


def dispense_terms(
    record: PatientRecord, prescription_id: str | None, *, on: date, kb: KnowledgeBase
) -> DispenseTerms:
    """The terms of an authorisation issued on ``on``; ProgrammeRefusal naming every
    unmet requirement otherwise."""
    requirements, terms = authorization_requirements(record, prescription_id, on=on, kb=kb)
    category = category_of(record, on, kb)
    require_all("dispensing authorisation", rule_set(record, kb), requirements, category)
    assert terms is not None  # every requirement met: there are terms
    return terms


def require_dispensable(
    record: PatientRecord,
    prescription_id: str,
    *,
    on: date,
    kb: KnowledgeBase,
    quantity: int | None = None,
) -> None:
    """Raise ProgrammeRefusal unless ``quantity`` capsules (any, when None) of the
    prescription may be dispensed on ``on``: a recorded authorisation in force with
    enough capsules left, and no positive test since it was issued."""
    rules = rule_set(record, kb)
    course = course_as_of(record, on)
    requirements = [
        positive_test_requirement(record, on, rules),
        pregnancy_status_requirement(record, on, rules),
    ]
    prescription = course.prescription(prescription_id) if course is not None else None
    text = f"a dispensing authorisation in force for prescription {prescription_id}"
    if course is None or prescription is None:
        needs = f"prescription {prescription_id} in the current course"
        requirements.append(Requirement("authorisation", False, text, needs))
        require_all("dispensing", rules, tuple(requirements))
        return
    authorization, left = valid_authorization(course, prescription_id, on)
    if authorization is None:
        requirements.append(
            Requirement(
                "authorisation", False, text, _no_authorization(course, prescription_id, on)
            )
        )
    elif quantity is not None and quantity > left:
        needs = (
            f"at most {left} capsules under authorisation {authorization.id} "
            f"({authorization.max_quantity} in all); {quantity} were asked"
        )
        requirements.append(
            Requirement("quantity", False, "a quantity within the authorisation", needs)
        )
    else:
        found = f"{authorization.id} until {authorization.not_after}, {left} capsules left"
        requirements.append(Requirement("authorisation", True, text, found=found))
    require_all("dispensing", rules, tuple(requirements))


def _no_authorization(course: CourseState, prescription_id: str, on: date) -> str:
    recorded = [a for a in course.authorizations if a.prescription_id == prescription_id]
    ask = (
        f"a dispensing authorisation for prescription {prescription_id} recorded on or "
        f"before {on} (RecordAuthorization, as issued by `isotrack ppp authorize`)"
    )
    if not recorded:
        return f"{ask}; none is recorded"
    last = recorded[-1]
    if last.not_after < on:
        return f"{ask}; the last one, {last.id}, allowed dispensing up to {last.not_after}"
    if last.on > on:
        return f"{ask}; {last.id} was issued on {last.on}"
    used = first_use(course, last.id)
    if used is not None:
        return f"{ask}; {last.id} was used {used_text(used)}: each authorisation is used once"
    return f"{ask}; {last.id} allowed {last.max_quantity} capsules and all were dispensed"


def used_text(dispense: DispenseState) -> str:
    """'on 2026-03-02 (30 capsules, by alice at Main St pharmacy)'."""
    by = f", by {dispense.dispensed_by}" if dispense.dispensed_by else ""
    return f"on {dispense.on} ({dispense.quantity} capsules{by})"
