from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from isotrack.clinical.codes import RXNORM, SNOMED
from isotrack.clinical.snapshot import PatientSnapshot, Sex
from isotrack.errors import FhirDecodeError, InvalidInputError
from isotrack.fhir import find_isotretinoin_order, snapshot_from_bundle
from isotrack.knowledge import KnowledgeBase
from tests.fhir.builders import (
    PATIENT_ID,
    Json,
    bundle,
    concept,
    isotretinoin_order,
    medication_request,
    patient,
    procedure,
    read,
    weight,
)

IMPLANT = concept(RXNORM, "389221", "Etonogestrel 68 MG Drug Implant")
YAZ = concept(RXNORM, "748856", "Yaz 28 Day Pack")
DOXYCYCLINE = concept(RXNORM, "1652673", "Doxycycline Monohydrate 50 MG Oral Tablet")


def snap(kb: KnowledgeBase, *resources: Json, **options: Any) -> PatientSnapshot:
    return snapshot_from_bundle(read(bundle(*resources)), kb=kb, **options)


def insertion(on: str, id: str = "ins") -> Json:
    return procedure("169553002", "Insertion of subcutaneous contraceptive", on, id=id)


def removal(on: str, id: str = "rem") -> Json:
    return procedure("301807007", "Removal of subcutaneous contraceptive", on, id=id)


def prescription(id: str, authored: str, status: str = "completed") -> Json:
    return isotretinoin_order(id=id, status=status, authored=authored)


# --- the patient ----------------------------------------------------------------------
def test_the_patient_gives_id_birth_date_and_sex(kb: KnowledgeBase) -> None:
    snapshot = snap(kb)
    assert (snapshot.patient_id, snapshot.birth_date, snapshot.sex) == (
        PATIENT_ID,
        date(1998, 5, 4),
        Sex.FEMALE,
    )


def test_a_partial_birth_date_is_used_with_a_note(kb: KnowledgeBase) -> None:
    snapshot = snapshot_from_bundle(
        read(bundle(patient(birth_date="1998"), with_patient=False)), kb=kb
    )
    assert snapshot.birth_date == date(1998, 1, 1)
    assert any("partial" in n for n in snapshot.notes)


def test_several_patients_need_an_id_and_say_so(kb: KnowledgeBase) -> None:
    other = {"resourceType": "Patient", "id": "p2", "gender": "male", "birthDate": "1970-01-01"}
    record = read(bundle(other, weight(70, "kg")))
    with pytest.raises(InvalidInputError, match="holds 2 patients"):
        snapshot_from_bundle(record, kb=kb)
    chosen = snapshot_from_bundle(record, kb=kb, patient_id="p2")
    assert (chosen.sex, chosen.weights) == (Sex.MALE, ())
    assert any("another patient were ignored: 1 Observation" in n for n in chosen.notes)
    assert len(snapshot_from_bundle(record, kb=kb, patient_id=PATIENT_ID).weights) == 1


def test_a_bundle_without_a_patient_needs_an_id_and_reports_it_missing(kb: KnowledgeBase) -> None:
    record = read(bundle(weight(70, "kg"), with_patient=False))
    with pytest.raises(InvalidInputError, match="no Patient"):
        snapshot_from_bundle(record, kb=kb)
    snapshot = snapshot_from_bundle(record, kb=kb, patient_id=PATIENT_ID)
    assert snapshot.missing == ("patient",)
    assert len(snapshot.weights) == 1


# --- conditions, allergies, procedures ---------------------------------------------------
def test_a_condition_keeps_onset_abatement_and_statuses(kb: KnowledgeBase) -> None:
    condition = {
        "resourceType": "Condition",
        "id": "c1",
        "clinicalStatus": {"coding": [{"code": "resolved"}]},
        "verificationStatus": {"coding": [{"code": "confirmed"}]},
        "code": concept(SNOMED, "72892002", "Normal pregnancy"),
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "onsetPeriod": {"start": "2019-01-02"},
        "abatementDateTime": "2019-09-30T00:00:00Z",
    }
    (record,) = snap(kb, condition).conditions
    assert (record.onset, record.abatement) == (date(2019, 1, 2), date(2019, 9, 30))
    assert (record.clinical_status, record.verification, record.source) == (
        "resolved",
        "confirmed",
        "Condition/c1",
    )


def test_refuted_allergies_are_left_out(kb: KnowledgeBase) -> None:
    def allergy(id: str, verification: str) -> Json:
        return {
            "resourceType": "AllergyIntolerance",
            "id": id,
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "verificationStatus": {"coding": [{"code": verification}]},
            "code": {"text": "Peanut"},
            "patient": {"reference": f"Patient/{PATIENT_ID}"},
            "recordedDate": "2010-01-01",
        }

    allergies = snap(kb, allergy("a1", "confirmed"), allergy("a2", "refuted")).allergies
    assert [(a.source, a.status, a.recorded) for a in allergies] == [
        ("AllergyIntolerance/a1", "active", date(2010, 1, 1))
    ]


def test_a_procedure_is_dated_by_the_start_of_its_period(kb: KnowledgeBase) -> None:
    (record,) = snap(kb, insertion("2019-12-29")).procedures
    assert (record.performed, record.status) == (date(2019, 12, 29), "completed")


# --- medications and the order under review -------------------------------------------
def test_the_order_under_review_is_not_a_medication_record(kb: KnowledgeBase) -> None:
    snapshot = snap(kb, isotretinoin_order(), medication_request(DOXYCYCLINE))
    assert [m.concept.label for m in snapshot.medications] == [
        "Doxycycline Monohydrate 50 MG Oral Tablet"
    ]
    (doxy,) = snapshot.medications
    assert (doxy.status, doxy.start, doxy.source) == (
        "active",
        date(2026, 2, 1),
        "MedicationRequest/mr-1",
    )


def test_a_second_draft_isotretinoin_order_is_a_medication_record(kb: KnowledgeBase) -> None:
    snapshot = snap(
        kb,
        isotretinoin_order(id="first", authored="2026-03-01"),
        isotretinoin_order(id="second", authored="2026-03-02"),
    )
    assert [m.source for m in snapshot.medications] == ["MedicationRequest/first"]


def test_entered_in_error_medications_are_left_out(kb: KnowledgeBase) -> None:
    snapshot = snap(kb, medication_request(DOXYCYCLINE, status="entered-in-error"))
    assert snapshot.medications == ()


def test_a_medication_keeps_its_validity_end_and_route(kb: KnowledgeBase) -> None:
    doxy = medication_request(
        DOXYCYCLINE,
        dispenseRequest={"validityPeriod": {"start": "2026-02-01", "end": "2026-02-28"}},
        dosageInstruction=[{"route": concept(SNOMED, "26643006", "Oral route")}],
    )
    (record,) = snap(kb, doxy).medications
    assert (record.end, record.route) == (date(2026, 2, 28), "oral")


# --- earlier isotretinoin: courses ----------------------------------------------------------
def test_earlier_prescriptions_make_the_running_course(kb: KnowledgeBase) -> None:
    snapshot = snap(
        kb,
        prescription("rx1", "2026-01-02"),
        prescription("rx2", "2026-02-01"),
        isotretinoin_order(authored="2026-03-02"),
    )
    (course,) = snapshot.courses
    assert (course.start, course.end, course.prescriptions) == (date(2026, 1, 2), None, 2)
    assert course.cumulative_mg == 2 * 60 * 40
    assert snapshot.medications == ()


def test_a_prescription_whose_supply_runs_past_year_9999_is_refused_by_name(
    kb: KnowledgeBase,
) -> None:
    with pytest.raises(FhirDecodeError, match=r"MedicationRequest/rx1.*9999-12-31"):
        snap(kb, prescription("rx1", "9999-12-31"), isotretinoin_order(authored="2026-03-02"))


def test_a_gap_longer_than_the_policy_starts_a_new_course(kb: KnowledgeBase) -> None:
    snapshot = snap(
        kb,
        prescription("rx1", "2025-01-02"),
        prescription("rx2", "2025-02-01"),
        isotretinoin_order(authored="2026-03-02"),
    )
    (course,) = snapshot.courses
    assert (course.end, course.prescriptions) == (date(2025, 3, 3), 2)


def test_an_order_within_the_gap_continues_the_course(kb: KnowledgeBase) -> None:
    gap = int(kb.number("course.prescription_gap_days"))
    within = date(2026, 1, 2).toordinal() + 30 + gap
    order = isotretinoin_order(authored=date.fromordinal(within).isoformat())
    (course,) = snap(kb, prescription("rx1", "2026-01-02"), order).courses
    assert course.end is None
    late = isotretinoin_order(authored=date.fromordinal(within + 1).isoformat())
    (ended,) = snap(kb, prescription("rx1", "2026-01-02"), late).courses
    assert ended.end == date(2026, 2, 1)


def test_two_courses_apart_are_two_courses(kb: KnowledgeBase) -> None:
    snapshot = snap(
        kb,
        prescription("a1", "2020-01-02"),
        prescription("b1", "2023-05-01"),
        prescription("b2", "2023-06-01"),
        isotretinoin_order(authored="2023-07-01"),
    )
    assert [(c.start, c.end, c.prescriptions) for c in snapshot.courses] == [
        (date(2020, 1, 2), date(2020, 2, 1), 1),
        (date(2023, 5, 1), None, 2),
    ]


def test_a_dose_increase_is_remembered(kb: KnowledgeBase) -> None:
    low = isotretinoin_order(id="rx1", status="completed", authored="2026-01-02")
    low["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 20
    (course,) = snap(kb, low, prescription("rx2", "2026-02-01"), isotretinoin_order()).courses
    assert course.last_dose_increase == date(2026, 2, 1)


def test_a_prescription_without_supply_is_assumed_to_last_the_maximum(kb: KnowledgeBase) -> None:
    bare = medication_request(
        {"text": "Absorica 40 MG"}, id="rx1", status="completed", authored="2026-01-02"
    )
    snapshot = snap(kb, bare, isotretinoin_order(authored="2026-05-01"))
    (course,) = snapshot.courses
    assert (course.end, course.product, course.cumulative_mg) == (
        date(2026, 2, 1),
        "absorica",
        None,
    )
    assert any("assumed 30 days" in n for n in snapshot.notes)


# --- contraception ---------------------------------------------------------------------
def test_an_implant_prescribed_and_inserted_the_same_day_counts_once(kb: KnowledgeBase) -> None:
    implant = medication_request(IMPLANT, status="stopped", authored="2019-12-29")
    (use,) = snap(kb, implant, insertion("2019-12-29")).contraception
    labelled = date(2022, 12, 29)  # the etonogestrel implant's label: 3 years
    assert (use.method, use.start, use.end) == (
        "implant-etonogestrel",
        date(2019, 12, 29),
        labelled,
    )


def test_a_removal_ends_the_implant(kb: KnowledgeBase) -> None:
    (use,) = snap(kb, insertion("2012-12-18"), removal("2014-06-30")).contraception
    assert use.end == date(2014, 6, 30)


def test_an_implant_without_a_removal_ends_at_its_labelled_duration(kb: KnowledgeBase) -> None:
    (use,) = snap(kb, insertion("2012-12-18"), removal("2015-12-31")).contraception
    assert use.end == date(2015, 12, 18)


def test_a_new_insertion_after_a_removal_is_a_new_use(kb: KnowledgeBase) -> None:
    uses = snap(
        kb, insertion("2012-12-18", "i1"), removal("2014-06-30"), insertion("2019-12-29", "i2")
    ).contraception
    assert sorted((u.start, u.end) for u in uses) == [
        (date(2012, 12, 18), date(2014, 6, 30)),
        (date(2019, 12, 29), date(2022, 12, 29)),
    ]


def test_a_replacement_continues_the_implant(kb: KnowledgeBase) -> None:
    replacement = procedure(
        "755621000000101", "Replacement of subcutaneous contraceptive", "2019-03-08", id="rep"
    )
    (use,) = snap(kb, insertion("2019-02-17"), replacement).contraception
    assert (use.start, use.end) == (date(2019, 2, 17), date(2022, 3, 8))


def test_a_stopped_pill_without_an_end_counts_for_its_start_day_with_a_note(
    kb: KnowledgeBase,
) -> None:
    snapshot = snap(kb, medication_request(YAZ, status="stopped", authored="2014-06-10"))
    (use,) = snapshot.contraception
    assert (use.method, use.start, use.end) == (
        "combined-oral",
        date(2014, 6, 10),
        date(2014, 6, 10),
    )
    assert any("without an end date" in n for n in snapshot.notes)


def test_an_active_pill_is_in_use_from_its_order(kb: KnowledgeBase) -> None:
    (use,) = snap(kb, medication_request(YAZ, authored="2020-05-02")).contraception
    assert (use.start, use.end, use.source) == (date(2020, 5, 2), None, "MedicationRequest/mr-1")


def test_a_cancelled_contraceptive_order_is_not_a_use(kb: KnowledgeBase) -> None:
    assert snap(kb, medication_request(YAZ, status="cancelled")).contraception == ()


def test_the_order_under_review_can_be_given_from_outside_the_bundle(kb: KnowledgeBase) -> None:
    record = read(bundle(prescription("rx1", "2026-02-01")))
    outside = read(bundle(isotretinoin_order(id="new"), with_patient=False))
    order = find_isotretinoin_order(outside, kb=kb)
    snapshot = snapshot_from_bundle(record, kb=kb, order=order)
    (course,) = snapshot.courses
    assert (course.prescriptions, course.end) == (1, None)


def test_medication_statements_are_records_uses_and_course_history(kb: KnowledgeBase) -> None:
    def statement(id: str, medication: Json, start: str, end: str | None = None) -> Json:
        period = {"start": start, **({"end": end} if end else {})}
        return {
            "resourceType": "MedicationStatement",
            "id": id,
            "status": "active" if end is None else "completed",
            "medicationCodeableConcept": medication,
            "subject": {"reference": f"Patient/{PATIENT_ID}"},
            "effectivePeriod": period,
        }

    snapshot = snap(
        kb,
        statement("pill", YAZ, "2025-06-01"),
        statement("iso", concept(RXNORM, "197845", "isotretinoin"), "2024-01-01", "2024-06-01"),
        isotretinoin_order(),
    )
    assert [(m.source, m.start) for m in snapshot.medications] == [
        ("MedicationStatement/pill", date(2025, 6, 1))
    ]
    assert [(u.method, u.start, u.end) for u in snapshot.contraception] == [
        ("combined-oral", date(2025, 6, 1), None)
    ]
    assert [(c.start, c.end) for c in snapshot.courses] == [(date(2024, 1, 1), date(2024, 6, 1))]
