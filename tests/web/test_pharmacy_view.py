"""The pharmacist's check: the verdict and its reasons come from the programme."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from isotrack.clinical.programme.status import MonthState
from isotrack.clinical.record.aggregate import PatientRecord, apply, replay
from isotrack.clinical.state.commands import (
    AnyCommand,
    Dispense,
    EnrolPatient,
    Prescribe,
    RecordAuthorization,
    RecordComprehensionAnswers,
    RecordCounselling,
    RecordPregnancyTest,
    RecordWeight,
    StartContraception,
    StartCourse,
)
from isotrack.demo.clinic import demo_clinic
from isotrack.errors import CommandRejected, ProgrammeRefusal
from isotrack.knowledge import KnowledgeBase
from isotrack.web.routes.pharmacy_view import STATE_TEXT, dispense_check, plain

TODAY = date(2026, 3, 2)


def day(offset: int, today: date = TODAY) -> date:
    return today + timedelta(days=offset)


def answers(kb: KnowledgeBase) -> tuple[tuple[str, int], ...]:
    return tuple((q.id, q.correct) for q in kb.questions(kb.text("ppp.default_programme")))


def prescribe(offset: int, rx: str, today: date = TODAY) -> Prescribe:
    return Prescribe(
        on=day(offset, today), prescription_id=rx, dose_mg=30, times_per_day=2, strength_mg=30,
        quantity=60, supply_days=30,
    )  # fmt: skip


def lapsed_window_story(
    kb: KnowledgeBase, today: date = TODAY, patient_id: str = "w3-pia"
) -> list[AnyCommand]:
    """Month 2's prescription was written yesterday on a test of 7 days ago, whose
    window (day 1 = specimen date) closed yesterday: nothing may be dispensed ``today``."""
    return [
        EnrolPatient(
            on=day(-120, today),
            patient_id=patient_id,
            name="Pia Lund",
            birth_date=date(2000, 5, 1),
            sex="female",
            pregnancy_capability="can-get-pregnant",
        ),
        RecordCounselling(on=day(-120, today), topic="enrolment"),
        RecordWeight(on=day(-120, today), value=60),
        StartContraception(on=day(-115, today), method="implant-etonogestrel"),
        StartContraception(on=day(-115, today), method="male-condom"),
        RecordPregnancyTest(on=day(-70, today), result="negative"),
        RecordPregnancyTest(on=day(-31, today), result="negative"),
        RecordWeight(on=day(-30, today), value=60),
        StartCourse(on=day(-30, today), course_id=f"{patient_id}-c1", product="absorica"),
        RecordComprehensionAnswers(on=day(-30, today), answers=answers(kb)),
        prescribe(-30, "rx1", today),
        RecordAuthorization(
            on=day(-30, today),
            authorization_id="PA-ONE",
            prescription_id="rx1",
            not_after=day(-30, today),
            max_quantity=60,
        ),
        Dispense(on=day(-30, today), prescription_id="rx1", quantity=60),
        RecordPregnancyTest(on=day(-7, today), result="negative"),
        RecordWeight(on=day(-1, today), value=60),
        RecordComprehensionAnswers(on=day(-1, today), answers=answers(kb)),
        prescribe(-1, "rx2", today),
    ]


def build(commands: list[AnyCommand], kb: KnowledgeBase) -> PatientRecord:
    return replay([(c, c.on) for c in commands], kb=kb, strict=True)


def then(record: PatientRecord, kb: KnowledgeBase, *commands: AnyCommand) -> PatientRecord:
    for command in commands:
        record = apply(record, command, today=TODAY, kb=kb)
    return record


@pytest.fixture
def lapsed(kb: KnowledgeBase) -> PatientRecord:
    return build(lapsed_window_story(kb), kb)


def test_a_closed_test_window_refuses_the_dispense_and_says_a_new_test_is_needed(
    lapsed: PatientRecord, kb: KnowledgeBase
) -> None:
    check = dispense_check(lapsed, on=TODAY, kb=kb)
    assert check.verdict == "refused"
    assert check.headline.startswith("No: do not dispense today")
    [window] = check.unmet
    assert window.key == "dispense-window"
    assert "a new negative pregnancy test" in window.detail
    assert day(-1).isoformat() in window.detail  # the day the window closed
    assert check.prescription is not None
    assert check.prescription.id == "rx2"


def test_after_a_new_test_and_prescription_the_pharmacist_may_authorise(
    lapsed: PatientRecord, kb: KnowledgeBase
) -> None:
    record = then(
        lapsed, kb,
        RecordPregnancyTest(on=TODAY, result="negative"),
        RecordComprehensionAnswers(on=TODAY, answers=answers(kb)),
        prescribe(0, "rx3"),
    )  # fmt: skip
    check = dispense_check(record, on=TODAY, kb=kb)
    assert check.verdict == "authorise"
    assert check.terms is not None
    assert check.terms.prescription.id == "rx3"
    assert check.terms.max_quantity == 60
    assert check.terms.not_after == day(6)  # day 7 counting today's specimen as day 1
    assert not check.unmet
    assert "Create the authorisation" in check.headline


def test_with_an_authorisation_in_force_the_check_says_how_many_capsules_until_when(
    lapsed: PatientRecord, kb: KnowledgeBase
) -> None:
    record = then(
        lapsed, kb,
        RecordPregnancyTest(on=TODAY, result="negative"),
        RecordComprehensionAnswers(on=TODAY, answers=answers(kb)),
        prescribe(0, "rx3"),
        RecordAuthorization(
            on=TODAY, authorization_id="PA-TWO", prescription_id="rx3", not_after=day(6),
            max_quantity=60,
        ),
    )  # fmt: skip
    check = dispense_check(record, on=TODAY, kb=kb)
    assert check.verdict == "dispense"
    assert check.authorization is not None
    assert check.authorization.id == "PA-TWO"
    assert check.capsules_left == 60
    assert "up to 60 capsules" in check.headline
    assert day(6).isoformat() in check.headline
    # each authorisation is used once: after a part of it, the rest needs a new one
    record = then(record, kb, Dispense(on=TODAY, prescription_id="rx3", quantity=20))
    assert dispense_check(record, on=TODAY, kb=kb).verdict == "authorise"


def test_a_positive_test_after_the_authorisation_turns_the_answer_to_no(
    lapsed: PatientRecord, kb: KnowledgeBase
) -> None:
    record = then(
        lapsed, kb,
        RecordPregnancyTest(on=TODAY, result="negative"),
        RecordComprehensionAnswers(on=TODAY, answers=answers(kb)),
        prescribe(0, "rx3"),
        RecordAuthorization(
            on=TODAY, authorization_id="PA-TWO", prescription_id="rx3", not_after=day(6),
            max_quantity=60,
        ),
        RecordPregnancyTest(on=TODAY, result="positive", setting="home"),
    )  # fmt: skip
    check = dispense_check(record, on=TODAY, kb=kb)
    assert check.verdict == "refused"
    assert "positive-test" in {line.key for line in check.unmet}
    with pytest.raises(ProgrammeRefusal):  # the record agrees: no dispense
        then(record, kb, Dispense(on=TODAY, prescription_id="rx3", quantity=1))


def test_a_fully_dispensed_month_lists_what_the_next_prescription_needs(
    kb: KnowledgeBase,
) -> None:
    ana = next(p for p in demo_clinic(TODAY, kb) if p.patient_id == "demo-ana")
    check = dispense_check(replay(ana.commands, kb=kb), on=TODAY, kb=kb)
    assert check.verdict == "refused"
    assert check.status.state is MonthState.DISPENSED
    assert [line.key for line in check.unmet] == ["prescription"]
    unmet_next = {line.key: line.detail for line in check.next_prescription if not line.met}
    assert "pregnancy-test" in unmet_next
    assert "dated" in unmet_next["pregnancy-test"]


def test_a_patient_without_a_course_is_refused_with_the_reason(kb: KnowledgeBase) -> None:
    record = build(lapsed_window_story(kb)[:3], kb)
    check = dispense_check(record, on=TODAY, kb=kb)
    assert check.verdict == "refused"
    assert [line.key for line in check.unmet] == ["course"]
    assert check.prescription is None


def test_every_month_state_has_words() -> None:
    assert set(STATE_TEXT) == set(MonthState)


def test_plain_drops_command_names_but_keeps_dates() -> None:
    text = "counselling (RecordCounselling) dated 2026-03-02 or later, after the check"
    assert plain(text) == "counselling dated 2026-03-02 or later, after the check"
    assert plain("no commands here (day 7)") == "no commands here (day 7)"


def test_a_split_regimen_is_shown_per_capsule_strength(kb: KnowledgeBase) -> None:
    """Issue 13: the check speaks of 30 mg and 25 mg capsules, never of 27.5 mg."""
    mira = next(p for p in demo_clinic(TODAY) if p.patient_id == "demo-mira")
    record = replay(mira.commands, kb=kb)
    check = dispense_check(record, on=TODAY, kb=kb)
    assert check.regimen_text == "morning 30 mg (1 × 30 mg), evening 25 mg (1 × 25 mg)"
    assert check.capsules_text(60) == "60 capsules (30 × 30 mg and 30 × 25 mg)"


def test_a_prescription_no_capsules_make_is_never_dispensed(kb: KnowledgeBase) -> None:
    """A prescription stored before regimens (27.5 mg of 10 mg capsules) is refused at
    the pharmacy as the record refuses its dispense (DOSE-NOT-TAKEABLE)."""
    ana = demo_clinic(TODAY)[0]
    old = Prescribe(
        on=TODAY, prescription_id="old-rx", dose_mg=27.5, times_per_day=2, strength_mg=10,
        quantity=165, supply_days=30,
    )  # fmt: skip
    record = replay([*ana.commands, (old, TODAY)], kb=kb)  # an old log is not checked again
    check = dispense_check(record, on=TODAY, kb=kb)
    assert check.verdict == "refused"
    assert [line.key for line in check.unmet] == ["regimen"]
    with pytest.raises(CommandRejected, match="DOSE-NOT-TAKEABLE"):
        apply(
            record, Dispense(on=TODAY, prescription_id="old-rx", quantity=165), today=TODAY, kb=kb
        )
