"""The demo clinic: a dozen made-up patients whose commands the record accepts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from isotrack.clinical.monitoring.schedule import monitoring_schedule
from isotrack.clinical.programme.status import MonthState, ProgrammeStatus, programme_status
from isotrack.clinical.record.aggregate import PatientRecord, replay, to_snapshot
from isotrack.clinical.record.view import course_view
from isotrack.clinical.screening.context import assess_course
from isotrack.demo.clinic import demo_clinic
from isotrack.demo.story import DemoPatient
from isotrack.knowledge import KnowledgeBase

TODAY = date(2026, 3, 2)
LEAP_DAY = date(2028, 2, 29)


@pytest.fixture(scope="module")
def clinic(kb: KnowledgeBase) -> dict[str, DemoPatient]:
    return {p.patient_id: p for p in demo_clinic(TODAY, kb)}


def record_of(patient: DemoPatient, kb: KnowledgeBase) -> PatientRecord:
    return replay(patient.commands, kb=kb, strict=True)


def course_findings(patient: DemoPatient, kb: KnowledgeBase, on: date = TODAY) -> tuple[str, ...]:
    record = record_of(patient, kb)
    return assess_course(to_snapshot(record, on=on, kb=kb), on=on, kb=kb).rule_ids


@pytest.mark.parametrize("today", [TODAY, LEAP_DAY, date(2025, 12, 31)])
def test_every_demo_patient_replays_without_a_rejected_command(
    kb: KnowledgeBase, today: date
) -> None:
    patients = demo_clinic(today, kb)
    assert len(patients) >= 12
    assert len({p.patient_id for p in patients}) == len(patients)
    for patient in patients:
        record = record_of(patient, kb)  # strict: each command checked on its recorded day
        assert record.patient_id == patient.patient_id
        assert record.name == patient.name


def test_no_command_is_recorded_after_today_nor_dated_after_its_recording(
    clinic: dict[str, DemoPatient],
) -> None:
    for patient in clinic.values():
        days = [day for _, day in patient.commands]
        assert days == sorted(days), patient.patient_id
        for command, recorded in patient.commands:
            assert command.on <= recorded <= TODAY, (patient.patient_id, command)


def test_stories_are_one_short_line(clinic: dict[str, DemoPatient]) -> None:
    for patient in clinic.values():
        assert patient.story
        assert "\n" not in patient.story
        assert len(patient.story) <= 100


def test_the_patient_who_can_get_pregnant_has_monthly_tests_and_two_methods(
    clinic: dict[str, DemoPatient], kb: KnowledgeBase
) -> None:
    record = record_of(clinic["demo-ana"], kb)
    assert record.pregnancy_capability is not None
    assert record.pregnancy_capability.value == "can-get-pregnant"
    classes = {kb.contraception_method(u.method).us_class for u in record.contraception}
    assert classes == {"primary", "secondary"}
    course = record.current_course
    assert course is not None
    assert len(course.prescriptions) >= 3
    negatives = [t for t in record.pregnancy_tests if t.result.value == "negative"]
    for prescription in course.prescriptions:
        window = prescription.on - timedelta(days=kb.number("ppp.test_window_days") - 1)
        assert any(window <= t.on <= prescription.on for t in negatives)
    assert course_findings(clinic["demo-ana"], kb) == ("BLOOD-DONATION", "COSMETIC-PROCEDURES")


def test_the_positive_mood_screens_fire(clinic: dict[str, DemoPatient], kb: KnowledgeBase) -> None:
    assert "MOOD-PHQ9-POSITIVE" in course_findings(clinic["demo-dev"], kb)
    jonas = record_of(clinic["demo-jonas"], kb)
    assert jonas.current_course is not None
    assert jonas.current_course.status == "paused"
    assert "MOOD-PHQ9-POSITIVE" in course_findings(clinic["demo-jonas"], kb)
    assert any((m.item9 or 0) > 0 for m in jonas.mood_screens)


def test_the_finished_patient_needs_the_post_course_test(
    clinic: dict[str, DemoPatient], kb: KnowledgeBase
) -> None:
    eva = record_of(clinic["demo-eva"], kb)
    assert eva.current_course is None
    assert eva.last_course is not None
    assert "MON-POST-COURSE-TEST" in course_findings(clinic["demo-eva"], kb)


def test_the_patient_with_nodules_down_more_than_70_percent(
    clinic: dict[str, DemoPatient], kb: KnowledgeBase
) -> None:
    assert "RESPONSE-NODULES-70" in course_findings(clinic["demo-luca"], kb)


def test_the_other_states_are_recorded(clinic: dict[str, DemoPatient], kb: KnowledgeBase) -> None:
    ben = record_of(clinic["demo-ben"], kb)
    assert max(lab.value for lab in ben.labs if lab.analyte == "triglycerides") >= kb.number(
        "tg.warning_mg_dl"
    )
    carlos = record_of(clinic["demo-carlos"], kb)
    assert carlos.current_course is not None
    assert carlos.current_course.missed_days
    farah = record_of(clinic["demo-farah"], kb)
    assert farah.current_course is not None
    assert farah.current_course.product == "absorica-ld"
    grace = record_of(clinic["demo-grace"], kb)
    assert grace.pregnancy_capability is not None
    assert grace.capability_reason
    hugo = record_of(clinic["demo-hugo"], kb)
    assert (TODAY - hugo.birth_date).days < 18 * 366
    assert hugo.overrides
    iris = record_of(clinic["demo-iris"], kb)
    assert iris.current_course is not None
    assert not iris.current_course.prescriptions
    assert not iris.labs


def test_the_window_of_kara_closes_tomorrow(
    clinic: dict[str, DemoPatient], kb: KnowledgeBase
) -> None:
    kara = record_of(clinic["demo-kara"], kb)
    tomorrow = TODAY + timedelta(days=1)
    snapshot = to_snapshot(kara, on=TODAY, kb=kb)
    schedule = monitoring_schedule(snapshot, on=TODAY, kb=kb)
    assert not schedule.is_empty
    latest = max(t.on for t in kara.pregnancy_tests)
    last_day = latest + timedelta(days=kb.number("ppp.test_window_days") - 1)
    assert last_day == tomorrow


def test_the_demo_patients_stand_in_the_programme_where_their_stories_say(
    clinic: dict[str, DemoPatient], kb: KnowledgeBase
) -> None:
    def status(patient_id: str) -> ProgrammeStatus:
        return programme_status(record_of(clinic[patient_id], kb), on=TODAY, kb=kb)

    ana = status("demo-ana")
    assert (ana.category, ana.state, ana.month) == ("can-get-pregnant", MonthState.DISPENSED, 3)
    assert [m.state for m in ana.history] == [MonthState.DISPENSED] * 3
    eva = status("demo-eva")
    assert eva.state is MonthState.POST_COURSE_FOLLOW_UP
    assert [r.key for r in eva.unmet] == ["post-course-test"]
    iris = status("demo-iris")
    assert iris.state is MonthState.QUALIFYING
    assert "start-tests" in {r.key for r in iris.unmet}  # only a home test so far
    grace = status("demo-grace")
    assert (grace.category, grace.state) == ("cannot-get-pregnant", MonthState.DISPENSED)
    assert not {"pregnancy-test", "comprehension"} & {r.key for r in grace.requirements}
    assert status("demo-jonas").unmet[0].key == "course"  # paused


def test_every_demo_dispense_has_an_authorisation(
    clinic: dict[str, DemoPatient], kb: KnowledgeBase
) -> None:
    for patient in clinic.values():
        for course in record_of(patient, kb).courses:
            authorised = {a.prescription_id for a in course.authorizations}
            assert {d.prescription_id for d in course.dispenses} <= authorised


def test_mira_takes_a_split_dose_and_every_part_reads_it_the_same(
    clinic: dict[str, DemoPatient], kb: KnowledgeBase
) -> None:
    """Issue 13: morning 30 mg, evening 25 mg of Absorica at 58 kg."""
    record = record_of(clinic["demo-mira"], kb)
    course = record.courses[-1]
    for prescription in course.prescriptions:
        assert prescription.doses_mg == (30.0, 25.0)
        assert prescription.capsules_by_strength(prescription.quantity) == ((30.0, 30), (25.0, 30))
    assert all(d.mg == 30 * 55 for d in course.dispenses)
    step = course.dose_on(TODAY)
    assert step is not None
    assert step.administrations_mg == (30.0, 25.0)
    assert "DOSE-NOT-TAKEABLE" not in course_findings(clinic["demo-mira"], kb)


def test_miras_next_prescription_repeats_her_regimen_without_a_dose_finding(
    clinic: dict[str, DemoPatient], kb: KnowledgeBase
) -> None:
    patient = clinic["demo-mira"]
    history = [(command, day, "demo") for command, day in patient.commands]
    view = course_view(record_of(patient, kb), history, on=TODAY, kb=kb)
    following = view.next_prescription
    assert following is not None
    assert following.order.text.endswith("morning 30 mg (1 × 30 mg), evening 25 mg (1 × 25 mg)")
    found = {f.rule_id for f in following.assessment.findings}
    assert not found & {"DOSE-NOT-TAKEABLE", "SUPPLY-OVER-30-DAYS"}
