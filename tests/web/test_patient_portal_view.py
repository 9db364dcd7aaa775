"""The patient's pages in plain words: home, missed doses, PHQ-9, symptoms."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isotrack.clinical.monitoring.triage import TriageAction, triage
from isotrack.clinical.record import record_schedule
from isotrack.clinical.record.aggregate import PatientRecord, replay
from isotrack.clinical.state.course import CourseState, DispenseState
from isotrack.demo.clinic import demo_clinic
from isotrack.errors import InvalidInputError
from isotrack.knowledge import KnowledgeBase, default_knowledge
from isotrack.web.routes.patient_view import (
    MISSED_DOSE_DAYS,
    PHQ9_ANSWERS,
    PHQ9_QUESTIONS,
    PHQ9_SOURCE,
    SELF_HARM_SYMPTOM,
    DoseLine,
    MissedDay,
    PatientHome,
    home_course,
    missed_day_choices,
    missed_days_to_record,
    patient_home,
    phq9_answers,
    phq9_result,
    phq9_total,
    symptom_groups,
)

TODAY = date(2026, 3, 2)
KB = default_knowledge()


def demo_record(patient_id: str, kb: KnowledgeBase) -> PatientRecord:
    patient = next(p for p in demo_clinic(TODAY, kb) if p.patient_id == patient_id)
    return replay(patient.commands, kb=kb)


def home_of(patient_id: str, kb: KnowledgeBase) -> PatientHome:
    record = demo_record(patient_id, kb)
    schedule = record_schedule(record, on=TODAY, kb=kb)
    course = home_course(record.courses, TODAY)
    return patient_home(record.name, course, schedule, on=TODAY, kb=kb)


def test_home_shows_the_next_pregnancy_test_and_visit_with_their_windows(kb: KnowledgeBase) -> None:
    home = home_of("demo-ana", kb)
    assert home.name == "Ana Moreau"
    assert home.product == kb.product("absorica").name
    assert home.food == kb.product("absorica").food
    assert home.dose is not None
    assert home.dose.text == "30 mg twice a day (60 mg a day)"
    assert home.next_test is not None
    assert home.next_visit is not None
    assert home.next_test.start <= home.next_test.end
    assert home.next_test.status.value != "done"
    assert home.next_visit.kind == "visit"
    assert all(item.status.value != "done" for item in home.coming)


def test_a_patient_who_cannot_get_pregnant_gets_no_pregnancy_test(kb: KnowledgeBase) -> None:
    home = home_of("demo-grace", kb)
    assert all(not item.is_pregnancy_test for item in home.coming)


def test_before_any_dispense_there_is_no_dose_and_no_missed_day_to_tick(kb: KnowledgeBase) -> None:
    home = home_of("demo-iris", kb)  # course starts today, nothing dispensed
    assert home.dose is None
    assert home.missed_days == ()
    assert not home.can_record_missed


def test_the_checklist_offers_recent_due_days_and_marks_recorded_ones(kb: KnowledgeBase) -> None:
    carlos = demo_record("demo-carlos", kb)
    course = carlos.current_course
    assert course is not None
    choices = missed_day_choices(course, on=course.missed_days[-1] + timedelta(days=3))
    assert len(choices) == MISSED_DOSE_DAYS
    assert [c.day for c in choices] == sorted((c.day for c in choices), reverse=True)
    recorded = {c.day for c in choices if c.recorded}
    assert recorded
    assert recorded <= set(course.missed_days)


def test_paused_days_and_days_before_the_first_dispense_are_not_offered() -> None:
    start = date(2026, 3, 1)
    course = CourseState(
        "c1", "absorica", start, 150,
        dispenses=(DispenseState("rx1", date(2026, 3, 3), 60, 1800),),
        pauses=((date(2026, 3, 5), date(2026, 3, 7)),),
    )  # fmt: skip
    days = [c.day.day for c in missed_day_choices(course, on=date(2026, 3, 8))]
    assert days == [8, 7, 4, 3]


def test_ticked_days_must_be_offered_and_new() -> None:
    choices = (MissedDay(date(2026, 3, 2), False), MissedDay(date(2026, 3, 1), True))
    assert missed_days_to_record(choices, ["2026-03-02", "2026-03-01"]) == (date(2026, 3, 2),)
    with pytest.raises(InvalidInputError, match="tick at least one"):
        missed_days_to_record(choices, ["2026-03-01"])
    with pytest.raises(InvalidInputError, match="not a day you can tick"):
        missed_days_to_record(choices, ["2025-01-01"])


def test_dose_line_reads_like_the_label() -> None:
    assert DoseLine(20, 1, TODAY).text == "20 mg once a day (20 mg a day)"
    assert DoseLine(10, 3, TODAY).text == "10 mg 3 times a day (30 mg a day)"


@given(st.lists(st.integers(0, 3), min_size=9, max_size=9))
def test_phq9_total_is_the_sum_and_item9_decides_the_stop_message(answers: list[int]) -> None:
    total, item9 = phq9_total(tuple(answers))
    assert total == sum(answers)
    assert item9 == answers[8]
    result = phq9_result(total, item9, KB)
    assert result.self_harm == (answers[8] >= KB.number("mood.phq9_item9_positive_score"))
    assert result.positive == (sum(answers) >= KB.number("mood.phq9_positive_score"))
    if result.self_harm:
        assert result.headline.startswith("Stop taking isotretinoin")


def test_a_screen_without_item9_is_judged_on_its_total(kb: KnowledgeBase) -> None:
    assert not phq9_result(27, None, kb).self_harm
    assert phq9_result(27, None, kb).positive


def test_phq9_form_reading_names_each_missing_answer() -> None:
    form = {f"q{n}": "1" for n in range(1, 10)}
    answers, errors = phq9_answers(form)
    assert answers == (1,) * 9
    assert errors == {}
    del form["q9"]
    form["q2"] = "7"
    _, errors = phq9_answers(form)
    assert set(errors) == {"q2", "q9"}


def test_phq9_refuses_a_wrong_number_of_answers() -> None:
    with pytest.raises(InvalidInputError):
        phq9_total((0,) * 8)
    with pytest.raises(InvalidInputError):
        phq9_total((0,) * 8 + (4,))


def test_phq9_wording_is_nine_questions_four_answers_and_cited(kb: KnowledgeBase) -> None:
    assert len(PHQ9_QUESTIONS) == 9
    assert len(PHQ9_ANSWERS) == 4
    assert kb.source(PHQ9_SOURCE).title
    assert kb.symptom(SELF_HARM_SYMPTOM).advice


def test_symptom_groups_hold_every_symptom_once_most_urgent_first(kb: KnowledgeBase) -> None:
    groups = symptom_groups(kb, can_get_pregnant=True)
    ids = [s.id for g in groups for s in g.symptoms]
    assert sorted(ids) == sorted(s.id for s in kb.symptoms)
    actions = [triage([g.symptoms[0].id], kb).action for g in groups]
    assert actions == sorted(a for a in actions if a is not None)
    assert actions[0] is TriageAction.STOP_EMERGENCY


def test_a_split_regimen_tells_the_patient_each_dose(kb: KnowledgeBase) -> None:
    """Issue 13: Mira takes 30 mg in the morning and 25 mg in the evening, never
    "27.5 mg twice a day"."""
    home = home_of("demo-mira", kb)
    assert home.dose is not None
    assert home.dose.text == "30 mg in the morning and 25 mg in the evening (55 mg a day)"


def test_a_patient_who_cannot_get_pregnant_is_not_offered_a_late_period(
    kb: KnowledgeBase,
) -> None:
    offered = {s.id for g in symptom_groups(kb, can_get_pregnant=False) for s in g.symptoms}
    only_cbp = {s.id for s in kb.symptoms if s.applies_to == "can-get-pregnant"}
    assert "missed-period" in only_cbp
    assert offered == {s.id for s in kb.symptoms} - only_cbp
