"""ACCEPTANCE (properties): for any sequence of events, under either rule set,

- "dispense authorised" is never reached, and no authorisation is recorded, without a
  negative pregnancy test in the window of the prescription, the programme's
  contraception documented on the day, and (patients who can get pregnant) this
  month's comprehension check passed;
- no dispense happens without a recorded authorisation in force;
- an authorisation never allows more than the maximum supply: ``max_days`` is at most
  30 and the capsules of a prescription never exceed 30 days of its daily dose;
- a recorded authorisation more generous than the programme's terms is refused.

Events are drawn plausibly (tests of every result and setting, methods started and
stopped, right and wrong answers, counselling, overrides, prescriptions,
authorisations, dispenses, pauses, the end); the refused ones are skipped. The
checks below re-derive each fact from the record by other means than the state
machine (the engine's snapshot and contraception classifier, the raw tests).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec.structs import replace

from isotrack.clinical.programme.authorization import as_command, authorize_dispense
from isotrack.clinical.programme.status import MonthState, programme_status
from isotrack.clinical.record.aggregate import PatientRecord, apply, to_snapshot
from isotrack.clinical.screening.contraception import contraception_status
from isotrack.clinical.snapshot import PregnancyCapability, TestResult, TestSetting
from isotrack.clinical.state.commands import (
    AnyCommand,
    Dispense,
    EndCourse,
    EnrolPatient,
    PauseCourse,
    Prescribe,
    RecordAuthorization,
    RecordComprehensionAnswers,
    RecordCounselling,
    RecordOverride,
    RecordPregnancyTest,
    RecordWeight,
    ResumeCourse,
    StartContraception,
    StartCourse,
    StopContraception,
)
from isotrack.clinical.state.course import AuthorizationState, CourseState, PrescriptionState
from isotrack.clinical.units import exact
from isotrack.errors import CommandRejected
from isotrack.knowledge import default_knowledge

KB = default_knowledge()
START = date(2026, 1, 5)
WINDOW = timedelta(days=int(KB.number("ppp.test_window_days")) - 1)
MAX_SUPPLY = 30
"""The 30 days the issue's acceptance names (both rule sets say 30; checked below)."""
METHODS = [
    "implant-etonogestrel",
    "iud-copper",
    "combined-oral",
    "progestin-only-pill",
    "male-condom",
    "diaphragm",
    "abstinence",
]
PLANS = [
    ("implant-etonogestrel", "male-condom"),
    ("combined-oral", "male-condom"),
    ("combined-oral", "diaphragm"),
    ("iud-copper",),
    ("progestin-only-pill", "male-condom"),
    ("male-condom",),
    ("abstinence",),
    (),
]
"""Contraception at enrolment: most meet one rule set or both, some neither."""
KINDS = (
    ["visit"] * 10
    + ["pharmacy"] * 6
    + ["dispense", "test", "test", "answers", "start-method", "stop-method"]
    + ["counsel", "override", "override", "pause", "resume", "end"]
)
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_both_rule_sets_limit_a_prescription_to_30_days() -> None:
    for programme in ("us-ipledge-2024", "eu-ppp-2018"):
        assert KB.programme_rule(programme, "max_supply_days").value == MAX_SUPPLY


# --- drawing events -----------------------------------------------------------------------------
Step = Callable[[PatientRecord], AnyCommand | None]


def enrolment(data: st.DataObject) -> tuple[list[AnyCommand], str]:
    """Enrolment 60 days before START, usually counselled, usually two methods from 50
    days before and a screening test, in a random programme and category."""
    programme = data.draw(st.sampled_from(["us-ipledge-2024", "eu-ppp-2018"]))
    capability = data.draw(
        st.sampled_from(["can-get-pregnant"] * 4 + ["cannot-get-pregnant", None])
    )
    before = START - timedelta(days=60)
    commands: list[AnyCommand] = [
        EnrolPatient(
            on=before,
            patient_id="prop",
            name="P",
            birth_date=date(2000, 1, 1),
            sex="female",
            pregnancy_capability=capability,
            programme=programme,
        ),
        RecordWeight(on=before, value=60.0),
    ]
    if data.draw(st.integers(0, 9)) > 0:
        commands.append(RecordCounselling(on=before, topic="enrolment"))
    methods = data.draw(st.sampled_from(PLANS))
    early = before + timedelta(days=data.draw(st.sampled_from([10, 10, 40])))
    commands += [StartContraception(on=early, method=m) for m in methods]
    commands.append(RecordPregnancyTest(on=before + timedelta(days=15), result="negative"))
    return commands, programme


def pregnancy_test(data: st.DataObject, on: date) -> RecordPregnancyTest:
    return RecordPregnancyTest(
        on=on,
        result=data.draw(st.sampled_from(["negative"] * 30 + ["positive", "indeterminate"])),
        setting=data.draw(st.sampled_from(["medical"] * 5 + ["home", "unknown"])),
    )


def comprehension(data: st.DataObject, on: date, programme: str) -> RecordComprehensionAnswers:
    wrong = data.draw(st.sampled_from([0, 0, 0, 0, 1, 2, 3]))
    bank = KB.questions(programme)
    chosen = tuple(
        (q.id, (q.correct + 1) % len(q.options) if i < wrong else q.correct)
        for i, q in enumerate(bank)
    )
    return RecordComprehensionAnswers(on=on, answers=chosen)


def prescription(data: st.DataObject, record: PatientRecord, on: date) -> Prescribe:
    return Prescribe(
        on=on,
        prescription_id=f"p{len(record.prescription_ids) + 1}",
        dose_mg=30.0,
        times_per_day=2,
        strength_mg=data.draw(st.sampled_from([20.0, 30.0])),
        quantity=data.draw(st.integers(20, 120)),
        supply_days=data.draw(st.integers(20, 31)),
    )


def dispense(data: st.DataObject, record: PatientRecord, on: date) -> Dispense | None:
    course = record.current_course
    if course is None or not course.prescriptions:
        return None
    chosen = data.draw(st.sampled_from(course.prescriptions[-2:]))
    return Dispense(on=on, prescription_id=chosen.id, quantity=data.draw(st.integers(1, 70)))


def steps(data: st.DataObject, kind: str, on: date, programme: str) -> list[Step]:
    """The steps of one event kind on ``on``; each is built from the record as it is
    when its turn comes (a visit's prescription follows its test and answers)."""
    often = data.draw(st.lists(st.integers(0, 9), min_size=6, max_size=6))
    match kind:
        case "visit":  # a monthly visit, each part sometimes left out
            return [
                *([lambda r: pregnancy_test(data, on)] if often[0] > 0 else []),
                *([lambda r: comprehension(data, on, programme)] if often[1] > 0 else []),
                lambda r: RecordWeight(on=on, value=60.0),
                lambda r: (
                    StartCourse(on=on, course_id=f"c{len(r.courses) + 1}", product="absorica")
                    if r.current_course is None
                    else None
                ),
                *([lambda r: prescription(data, r, on)] if often[2] > 0 else []),
                *([lambda r: authorization(data, r, on)] if often[3] > 3 else []),
                *([lambda r: dispense(data, r, on)] if often[4] > 3 else []),
            ]
        case "pharmacy":  # an authorisation (sometimes forged), then usually a dispense
            return [
                lambda r: authorization(data, r, on),
                *([lambda r: dispense(data, r, on)] if often[5] > 1 else []),
            ]
        case "dispense":
            return [lambda r: dispense(data, r, on)]
        case "test":
            return [lambda r: pregnancy_test(data, on)]
        case "answers":
            return [lambda r: comprehension(data, on, programme)]
        case "start-method":
            return [lambda r: StartContraception(on=on, method=data.draw(st.sampled_from(METHODS)))]
        case "stop-method":
            return [lambda r: StopContraception(on=on, method=data.draw(st.sampled_from(METHODS)))]
        case "counsel":
            return [lambda r: RecordCounselling(on=on, topic="counselling")]
        case "override":
            return [lambda r: RecordOverride(on=on, rule_id="PREG-TEST-POSITIVE", reason="seen")]
        case "pause":
            return [lambda r: PauseCourse(on=on, reason="side effects")]
        case "resume":
            return [lambda r: ResumeCourse(on=on)]
        case _:
            return [lambda r: EndCourse(on=on, reason="done")]


def authorization(data: st.DataObject, record: PatientRecord, on: date) -> AnyCommand | None:
    """The pharmacy's request: the programme's terms, recorded; or a forged, more
    generous record of them, which the aggregate must refuse."""
    number = sum(len(c.authorizations) for c in record.courses) + 1
    try:
        issued = authorize_dispense(record, on=on, kb=KB, authorization_id=f"A{number}")
    except CommandRejected:
        return None
    assert issued.max_days <= MAX_SUPPLY
    course = record.course(issued.course_id)
    assert course is not None
    prescribed = course.prescription(issued.prescription_id)
    assert prescribed is not None
    assert issued.max_quantity + prescribed.dispensed_capsules <= cap(prescribed)
    command = as_command(issued)
    forged = data.draw(st.sampled_from([None, None, None, "late", "more"]))
    if forged == "late":
        command = replace(command, not_after=command.not_after + timedelta(days=1))
    elif forged == "more":
        command = replace(command, max_quantity=command.max_quantity + 1)
    return command


def cap(prescription: PrescriptionState) -> int:
    """The capsules of 30 days of the prescription's daily dose."""
    days = min(prescription.supply_days, MAX_SUPPLY)
    return math.floor(exact(prescription.daily_mg) * days / exact(prescription.strength_mg))


# --- what must hold, derived independently ------------------------------------------------------


def can_get_pregnant(record: PatientRecord) -> bool:
    return record.pregnancy_capability is not PregnancyCapability.CANNOT


def check_authorised(
    record: PatientRecord,
    course: CourseState,
    authorization: AuthorizationState,
    programme: str,
) -> None:
    """The facts an authorisation stands on, from the raw record."""
    prescription = course.prescription(authorization.prescription_id)
    assert prescription is not None
    assert authorization.max_quantity + authorization.dispensed_before <= cap(prescription)
    if not can_get_pregnant(record):
        return
    issued_on = authorization.on
    negatives = [
        t
        for t in record.pregnancy_tests
        if t.result is TestResult.NEGATIVE and prescription.on - WINDOW <= t.on <= prescription.on
    ]
    if programme == "eu-ppp-2018":
        negatives = [t for t in negatives if t.setting is TestSetting.MEDICAL]
        assert authorization.not_after <= prescription.on + timedelta(days=7)
    assert negatives, "no negative test in the window of the prescription"
    if programme == "us-ipledge-2024":
        assert authorization.not_after <= max(t.on for t in negatives) + WINDOW
    snapshot = to_snapshot(record, on=issued_on, kb=KB)
    assert contraception_status(snapshot, issued_on, KB, programme).met
    assert passed_comprehension(record, course, prescription)
    positives = [t.on for t in record.pregnancy_tests if t.result is TestResult.POSITIVE]
    latest_positive = max((d for d in positives if d <= issued_on), default=None)
    if latest_positive is not None:
        assert any(
            t.result is TestResult.NEGATIVE and latest_positive < t.on <= issued_on
            for t in record.pregnancy_tests
        ), "authorised after a positive test without a later negative one"


def passed_comprehension(
    record: PatientRecord, course: CourseState, prescription: PrescriptionState
) -> bool:
    """A check of the prescription's month: dated in the 30 days up to it, recorded after
    the previous prescription; fewer than 2 wrong answers or counselling after them."""
    index = [p.id for p in course.prescriptions].index(prescription.id)
    month = [
        (i, c)
        for i, c in enumerate(record.comprehension_checks)
        if prescription.on - timedelta(days=29) <= c.on <= prescription.on
        and (
            (c.course_id == course.course_id and c.prescriptions_before == index)
            or (index == 0 and c.course_id is None)
        )
    ]
    if not month:
        return False
    wrong = 0
    for i, check in month:
        wrong += len(check.wrong)
        if wrong >= 2:
            return any(n.checks_before > i and n.on >= check.on for n in record.counselling)
    return True


def check_step(
    before: PatientRecord, record: PatientRecord, command: AnyCommand, on: date, programme: str
) -> None:
    course = record.current_course or record.last_course
    if isinstance(command, RecordAuthorization):
        assert course is not None
        check_authorised(record, course, course.authorizations[-1], programme)
    if isinstance(command, Dispense):
        assert course is not None
        in_force = [
            a
            for a in course.authorizations
            if a.prescription_id == command.prescription_id and a.on <= on <= a.not_after
        ]
        assert in_force, "dispensed without an authorisation in force"
        prescription = course.prescription(command.prescription_id)
        assert prescription is not None
        assert prescription.dispensed_capsules <= cap(prescription)
    status = programme_status(record, on=on, kb=KB)
    if status.state is MonthState.DISPENSE_AUTHORISED:
        assert status.authorization is not None
        assert status.authorization.max_days <= MAX_SUPPLY
        assert course is not None
        recorded = next(a for a in course.authorizations if a.id == status.authorization.id)
        check_authorised(record, course, recorded, programme)


# --- the properties -------------------------------------------------------------------------------


def play(
    data: st.DataObject,
    check: Callable[[PatientRecord, PatientRecord, AnyCommand, date, str], None],
) -> None:
    """Draw and apply events; ``check`` after every accepted command."""
    first, programme = enrolment(data)
    record: PatientRecord | None = None
    for command in first:
        record = apply(record, command, today=command.on, kb=KB)
    assert record is not None
    on = START
    for _ in range(data.draw(st.integers(8, 30))):
        on += timedelta(days=data.draw(st.sampled_from([0, 1, 3, 8, 27, 30, 30])))
        for step in steps(data, data.draw(st.sampled_from(KINDS)), on, programme):
            command = step(record)
            if command is None:
                continue
            try:
                after = apply(record, command, today=on, kb=KB)
            except CommandRejected:
                continue
            check(record, after, command, on, programme)
            record = after


@SETTINGS
@given(st.data())
def test_no_step_of_the_programme_is_reached_without_its_requirements(
    data: st.DataObject,
) -> None:
    play(data, check_step)


def check_terms(
    before: PatientRecord, record: PatientRecord, command: AnyCommand, on: date, programme: str
) -> None:
    if isinstance(command, RecordAuthorization):
        terms = authorize_dispense(before, on=on, kb=KB, authorization_id="check")
        assert command.not_after <= terms.not_after
        assert command.max_quantity <= terms.max_quantity


@SETTINGS
@given(st.data())
def test_a_recorded_authorisation_is_never_more_generous_than_the_terms(
    data: st.DataObject,
) -> None:
    play(data, check_terms)
