"""Builders for the pregnancy prevention programme tests: real commands applied
through :func:`isotrack.clinical.record.aggregate.apply`, each recorded on its own date.

Day 0 is :data:`D0`. An event is a command, or a step that needs the record
first (:func:`authorize`, which asks :func:`authorize_dispense` for the terms,
as the pharmacy surface does, and records them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

import pytest

from isotrack.clinical.programme.authorization import as_command, authorize_dispense
from isotrack.clinical.record.aggregate import PatientRecord, apply
from isotrack.clinical.state.commands import (
    AnyCommand,
    CapabilityName,
    Dispense,
    EndCourse,
    EnrolPatient,
    Prescribe,
    RecordComprehensionAnswers,
    RecordCounselling,
    RecordOverride,
    RecordPregnancyTest,
    RecordWeight,
    SexName,
    StartContraception,
    StartCourse,
    TestResultName,
    TestSettingName,
)
from isotrack.errors import CommandRejected
from isotrack.knowledge import KnowledgeBase, default_knowledge

D0 = date(2026, 1, 5)
US = "us-ipledge-2024"
EU = "eu-ppp-2018"

Step = Callable[[PatientRecord, KnowledgeBase], AnyCommand]
Event = AnyCommand | Step


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def enrol(
    n: int,
    programme: str,
    capability: CapabilityName | None = "can-get-pregnant",
    sex: SexName = "female",
) -> EnrolPatient:
    return EnrolPatient(
        on=day(n),
        patient_id="p-ppp",
        name="Lea Martin",
        birth_date=date(2000, 4, 12),
        sex=sex,
        pregnancy_capability=capability,
        capability_reason="recorded by the prescriber",
        programme=programme,
    )


def counsel(n: int, topic: str = "enrolment: risks and the programme") -> RecordCounselling:
    return RecordCounselling(on=day(n), topic=topic)


def contraception(n: int, *methods: str) -> list[AnyCommand]:
    return [StartContraception(on=day(n), method=m) for m in methods]


def pregnancy_test(
    n: int, result: TestResultName = "negative", setting: TestSettingName = "medical"
) -> RecordPregnancyTest:
    return RecordPregnancyTest(on=day(n), result=result, setting=setting)


def answers(
    n: int, programme: str, wrong: int = 0, kb: KnowledgeBase | None = None
) -> RecordComprehensionAnswers:
    """The whole bank of ``programme`` answered on day ``n``, the first ``wrong`` wrongly."""
    bank = (kb or default_knowledge()).questions(programme)
    chosen = tuple(
        (q.id, (q.correct + 1) % len(q.options) if index < wrong else q.correct)
        for index, q in enumerate(bank)
    )
    return RecordComprehensionAnswers(on=day(n), answers=chosen)


def weight(n: int, kg: float = 60.0) -> RecordWeight:
    return RecordWeight(on=day(n), value=kg)


def start_course(n: int) -> StartCourse:
    return StartCourse(on=day(n), course_id="c1", product="absorica")


def prescribe(n: int, prescription_id: str, supply_days: int = 30) -> Prescribe:
    """30 mg twice a day (1 mg/kg/day at 60 kg): 60 capsules of 30 mg for 30 days."""
    return Prescribe(
        on=day(n),
        prescription_id=prescription_id,
        dose_mg=30.0,
        times_per_day=2,
        strength_mg=30.0,
        quantity=60,
        supply_days=supply_days,
    )


def authorize(n: int) -> Step:
    """The pharmacy asks for an authorisation on day ``n`` and records it."""

    def step(record: PatientRecord, kb: KnowledgeBase) -> AnyCommand:
        authorization = authorize_dispense(record, on=day(n), kb=kb, authorization_id=f"A{n}")
        return as_command(authorization)

    return step


def dispense(n: int, prescription_id: str, quantity: int = 60) -> Dispense:
    return Dispense(on=day(n), prescription_id=prescription_id, quantity=quantity)


def end_course(n: int) -> EndCourse:
    return EndCourse(on=day(n), reason="course completed")


def override_positive(n: int) -> RecordOverride:
    return RecordOverride(
        on=day(n),
        rule_id="PREG-TEST-POSITIVE",
        reason="false positive: quantitative serum hCG negative, reviewed with the patient",
    )


def command_of(event: Event, record: PatientRecord | None, kb: KnowledgeBase) -> AnyCommand:
    if callable(event):
        assert record is not None
        return event(record, kb)
    return event


def run(
    events: Iterable[Event], kb: KnowledgeBase, record: PatientRecord | None = None
) -> PatientRecord:
    """Apply each event, recorded on its own date."""
    for event in events:
        command = command_of(event, record, kb)
        record = apply(record, command, today=command.on, kb=kb)
    assert record is not None
    return record


def refused(record: PatientRecord, event: Event, kb: KnowledgeBase) -> CommandRejected:
    """The refusal of ``event`` (a step that asks for an authorisation is refused
    while it asks, before any command exists)."""
    with pytest.raises(CommandRejected) as caught:
        run([event], kb, record)
    return caught.value


def logged(events: Iterable[Event], kb: KnowledgeBase) -> tuple[PatientRecord, list[AnyCommand]]:
    """:func:`run`, also returning the commands applied (the patient's log)."""
    record: PatientRecord | None = None
    log: list[AnyCommand] = []
    for event in events:
        command = command_of(event, record, kb)
        record = apply(record, command, today=command.on, kb=kb)
        log.append(command)
    assert record is not None
    return record, log


def eligible_events(programme: str, kb: KnowledgeBase, *, answered: bool = True) -> list[Event]:
    """The events of :func:`eligible`."""
    events: list[Event] = [
        enrol(-60, programme),
        counsel(-60),
        pregnancy_test(-40),
        *contraception(-40, "implant-etonogestrel", "male-condom"),
        weight(0),
        start_course(0),
        pregnancy_test(0),
    ]
    if answered:
        events.append(answers(0, programme, kb=kb))
    return events


def eligible(programme: str, kb: KnowledgeBase, *, answered: bool = True) -> PatientRecord:
    """A patient who can get pregnant, on day 0 of her course, with everything the
    first prescription needs (the answers left out with ``answered=False``)."""
    return run(eligible_events(programme, kb, answered=answered), kb)


def first_month(programme: str, kb: KnowledgeBase) -> PatientRecord:
    """:func:`eligible`, then p1 prescribed, authorised and dispensed on day 0."""
    return run([prescribe(0, "p1"), authorize(0), dispense(0, "p1")], kb, eligible(programme, kb))


def man(kb: KnowledgeBase, programme: str = US) -> PatientRecord:
    """A counselled man on day 0 of his course."""
    return run(
        [
            enrol(-30, programme, None, sex="male"),
            counsel(-30),
            weight(0),
            start_course(0),
        ],
        kb,
    )
