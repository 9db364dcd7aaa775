"""Properties of the course record for any sequence of commands.

Plausible command sequences (weights, courses, prescriptions, dispenses,
missed days, pauses, dose changes, ends; some of them invalid) go through
``apply``; the refused ones are skipped. A dispense without an authorisation in
force is preceded by one with the programme's terms (when it allows one). Then, for every course:

- the cumulative dose is the dispensed mg minus the missed days' doses (minus
  what is still on hand), and removing the missed days adds back exactly
  their doses;
- it never decreases from one day to the next;
- its mg/kg is the sum of each day's dose over the weight in force that day.

A state machine checks the record's invariants after every command.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from isotrack.clinical.programme.dispense import dispense_terms, valid_authorization
from isotrack.clinical.record.aggregate import (
    CourseState,
    CumulativeDose,
    PatientRecord,
    apply,
    cumulative_dose,
    replay,
)
from isotrack.clinical.state.commands import (
    AnyCommand,
    ChangeDose,
    Dispense,
    EndCourse,
    PauseCourse,
    Prescribe,
    RecordAuthorization,
    RecordCounselling,
    RecordMissedDoses,
    RecordWeight,
    ResumeCourse,
    StartCourse,
)
from isotrack.clinical.units import exact
from isotrack.errors import CommandRejected
from isotrack.knowledge import default_knowledge
from tests.clinical.builders_record import START, enrol_man

KB = default_knowledge()
ORAL_PRODUCTS = sorted(p.id for p in KB.products if p.available and p.route == "oral")
KINDS = (
    ["weight"] * 3
    + ["start"]
    + ["prescribe"] * 4
    + ["dispense"] * 8  # an authorisation, then the dispense
    + ["missed"] * 4
    + ["resume"] * 2
    + ["pause", "change", "end"]
)
HORIZON = timedelta(days=200)
"""Long enough after the last command for every supply to run out (or the course to end)."""

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def close(a: float, b: float) -> bool:
    return a == pytest.approx(b, rel=1e-9, abs=1e-6)


# --- generating commands ----------------------------------------------------------------


def planned_dose(
    data: st.DataObject, record: PatientRecord, course: CourseState, on: date, times: int
) -> float:
    """A dose per administration from 0.3 to 2.2 mg/kg/day at the latest weight (so
    that most are in range, some need an override and a few are refused)."""
    weight = record.weight_on(on)
    kg = weight.kg if weight is not None else 70.0
    per_kg = data.draw(st.floats(0.3, 2.2, allow_nan=False))
    return round(kg * per_kg / times, 1) or 1.0


def next_command(data: st.DataObject, record: PatientRecord, on: date, kind: str) -> AnyCommand:
    """A plausible command of ``kind`` for ``record`` on ``on`` (it may still be refused)."""
    course = record.current_course
    if kind == "weight":
        kg = data.draw(st.floats(40, 120, allow_nan=False).map(lambda w: round(w, 1)))
        return RecordWeight(on=on, value=kg)
    if kind == "start" or course is None:
        target = data.draw(st.sampled_from([None, 120.0, 150.0]))
        return StartCourse(
            on=on,
            course_id=f"c{len(record.courses) + 1}",
            product=data.draw(st.sampled_from(ORAL_PRODUCTS)),
            target_mg_per_kg=target,
        )
    strengths = KB.product(course.product).strengths_mg
    if kind == "prescribe" or (kind == "dispense" and not course.prescriptions):
        times = data.draw(st.integers(1, 2))
        return Prescribe(
            on=on,
            prescription_id=f"p{len(record.prescription_ids) + 1}",
            dose_mg=planned_dose(data, record, course, on, times),
            times_per_day=times,
            strength_mg=data.draw(st.sampled_from(strengths)),
            quantity=data.draw(st.integers(1, 90)),
            supply_days=data.draw(st.integers(1, 31)),
            override_reason=data.draw(st.sampled_from(["", "clinical judgement"])),
        )
    if kind == "dispense":
        prescription = data.draw(st.sampled_from(course.prescriptions))
        authorization = authorization_for(record, course, prescription.id, on)
        if authorization is not None:
            return authorization
        quantity = data.draw(st.integers(1, prescription.remaining_capsules + 2))
        return Dispense(on=on, prescription_id=prescription.id, quantity=quantity)
    if kind == "missed":  # mostly days after the first dispense, when there is one
        first = min((d.on for d in course.dispenses), default=course.start)
        span = max((on - first).days, 0)
        offsets = data.draw(st.lists(st.integers(-1, span), min_size=1, max_size=3))
        days = tuple(first + timedelta(days=o) for o in offsets)
        return RecordMissedDoses(on=on, days=days)
    if kind == "pause":
        return PauseCourse(on=on, reason="side effects")
    if kind == "resume":
        return ResumeCourse(on=on)
    if kind == "change":
        times = data.draw(st.integers(1, 2))
        return ChangeDose(
            on=on,
            dose_mg=planned_dose(data, record, course, on, times),
            times_per_day=times,
            override_reason=data.draw(st.sampled_from(["", "clinical judgement"])),
        )
    return EndCourse(on=on, reason="course complete")


def authorization_for(
    record: PatientRecord, course: CourseState, prescription_id: str, on: date
) -> RecordAuthorization | None:
    """The authorisation a dispense of the prescription needs on ``on``, when none is in
    force and the programme allows one."""
    if valid_authorization(course, prescription_id, on)[0] is not None:
        return None
    try:
        terms = dispense_terms(record, prescription_id, on=on, kb=KB)
    except CommandRejected:
        return None
    number = sum(len(c.authorizations) for c in record.courses) + 1
    return RecordAuthorization(
        on=on,
        authorization_id=f"a{number}",
        prescription_id=prescription_id,
        not_after=terms.not_after,
        max_quantity=terms.max_quantity,
    )


ENROLMENT_COUNSELLING = RecordCounselling(on=START, topic="enrolment")


def command_sequence(data: st.DataObject) -> tuple[PatientRecord, list[AnyCommand], date]:
    """Apply a drawn sequence of commands; return the record, the accepted commands and
    the day of the last one."""
    first = [enrol_man(on=START), ENROLMENT_COUNSELLING, RecordWeight(on=START, value=70.0)]
    record = replay([(c, START) for c in first], kb=KB, strict=True)
    accepted: list[AnyCommand] = list(first)
    on = START
    for _ in range(data.draw(st.integers(3, 50))):
        on += timedelta(days=data.draw(st.integers(0, 6)))
        command = next_command(data, record, on, data.draw(st.sampled_from(KINDS)))
        try:
            record = apply(record, command, today=on, kb=KB)
        except CommandRejected:
            continue
        accepted.append(command)
    return record, accepted, on


# --- the cumulative dose -----------------------------------------------------------------


def dispensed_by_commands(course: CourseState, accepted: list[AnyCommand]) -> Fraction:
    """What the accepted Dispense commands of ``course`` handed out, from the commands."""
    strengths = {p.id: p.strength_mg for p in course.prescriptions}
    return sum(
        (
            exact(strengths[c.prescription_id]) * c.quantity
            for c in accepted
            if isinstance(c, Dispense) and c.prescription_id in strengths
        ),
        Fraction(0),
    )


def check_dispensed_minus_missed(
    record: PatientRecord, course: CourseState, dose: CumulativeDose, accepted: list[AnyCommand]
) -> None:
    assert close(dose.dispensed_mg, float(dispensed_by_commands(course, accepted)))
    assert close(dose.mg + dose.missed_mg + dose.on_hand_mg, dose.dispensed_mg)
    if dose.on_hand_mg == 0:
        assert close(dose.mg, dose.dispensed_mg - dose.missed_mg)
    # Without the missed days, the same supply is drawn on the same days: the missed
    # days' doses come back, and nothing else changes.
    no_missed = replace(course, missed_days=())
    full = cumulative_dose(record, no_missed, on=dose.days[-1].on, kb=KB) if dose.days else dose
    missed_days = set(course.missed_days)
    missed_doses = sum(d.taken_mg for d in full.days if d.on in missed_days)
    assert close(dose.missed_mg, missed_doses)
    assert close(dose.mg, full.mg - missed_doses)
    for day in dose.days:
        if day.status in ("missed", "paused", "no-dose", "no-supply"):
            assert day.taken_mg == 0
        if day.missed_mg:
            assert day.on in missed_days


def check_never_decreases(record: PatientRecord, course: CourseState, dose: CumulativeDose) -> None:
    totals = [d.cumulative_mg for d in dose.days]
    assert totals == sorted(totals)
    sample = sorted({0, len(dose.days) // 3, len(dose.days) // 2, len(dose.days) - 1})
    for index in sample if dose.days else ():  # a few days, recomputed on their own
        day = dose.days[index]
        on_that_day = cumulative_dose(record, course, on=day.on, kb=KB)
        assert on_that_day.mg == day.cumulative_mg
        assert on_that_day.days == dose.days[: index + 1]


def check_mg_per_kg(record: PatientRecord, dose: CumulativeDose) -> None:
    expected = Fraction(0)
    for day in dose.days:
        if day.taken_mg:
            weight = record.weight_on(day.on)
            assert weight is not None  # a prescription needs a weight first
            assert day.weight_kg == weight.kg
            expected += exact(day.taken_mg) / exact(weight.kg)
    assert dose.mg_per_kg is not None
    assert close(dose.mg_per_kg, float(expected))


@SETTINGS
@given(st.data())
def test_cumulative_dose_is_dispensed_minus_missed_and_never_decreases(
    data: st.DataObject,
) -> None:
    record, accepted, last = command_sequence(data)
    for course in record.courses:
        dose = cumulative_dose(record, course, on=last + HORIZON, kb=KB)
        check_dispensed_minus_missed(record, course, dose, accepted)
        check_never_decreases(record, course, dose)
        check_mg_per_kg(record, dose)


@SETTINGS
@given(st.data())
def test_replay_of_the_accepted_commands_gives_the_same_record(data: st.DataObject) -> None:
    record, accepted, _ = command_sequence(data)
    assert replay([(c, c.on) for c in accepted], kb=KB) == record
    assert replay([(c, c.on) for c in accepted], kb=KB, strict=True) == record


# --- the state machine -----------------------------------------------------------------------


class CourseRecordMachine(RuleBasedStateMachine):
    """Commands of every kind, valid or not; the invariants hold after each one."""

    def __init__(self) -> None:
        super().__init__()
        self.record: PatientRecord | None = None
        self.history: list[tuple[AnyCommand, date]] = []
        self.on = START

    @initialize()
    def enrol(self) -> None:
        self.send(enrol_man(on=START))
        self.send(ENROLMENT_COUNSELLING)
        self.send(RecordWeight(on=START, value=70.0))

    def send(self, command: AnyCommand) -> None:
        before = self.record
        try:
            self.record = apply(self.record, command, today=self.on, kb=KB)
        except CommandRejected:
            assert self.record is before
            return
        self.history.append((command, self.on))

    @rule(days=st.integers(0, 10))
    def time_passes(self, days: int) -> None:
        self.on += timedelta(days=days)

    @rule(data=st.data(), kind=st.sampled_from(sorted(set(KINDS))))
    def command(self, data: st.DataObject, kind: str) -> None:
        assert self.record is not None
        self.send(next_command(data, self.record, self.on, kind))

    @invariant()
    def at_most_one_course_is_not_ended(self) -> None:
        assert self.record is not None
        assert sum(not c.ended for c in self.record.courses) <= 1

    @invariant()
    def dispensed_never_exceeds_prescribed(self) -> None:
        assert self.record is not None
        for course in self.record.courses:
            for p in course.prescriptions:
                handed_out = sum(d.quantity for d in course.dispenses if d.prescription_id == p.id)
                assert handed_out == p.dispensed_capsules <= p.quantity
                assert all(d.on >= p.on for d in course.dispenses if d.prescription_id == p.id)

    @invariant()
    def status_matches_pauses_and_end(self) -> None:
        assert self.record is not None
        for course in self.record.courses:
            assert (course.end is not None) == (course.status == "ended")
            if course.status != "ended":
                assert (course.open_pause is not None) == (course.status == "paused")
            assert len(course.pause_reasons) == len(course.pauses)

    @invariant()
    def missed_days_fall_on_dose_days_of_the_course(self) -> None:
        assert self.record is not None
        for course in self.record.courses:
            assert list(course.missed_days) == sorted(set(course.missed_days))
            for day in course.missed_days:
                assert course.start <= day <= (course.end or self.on)
                assert not course.paused_on(day)

    @invariant()
    def the_log_replays_to_the_record(self) -> None:
        assert self.record is not None
        assert len(self.history) >= 1
        assert replay(self.history, kb=KB) == self.record


CourseRecordMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=30, deadline=None
)
test_course_record_state_machine = CourseRecordMachine.TestCase
