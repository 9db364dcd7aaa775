"""The facts each third-party example of tests/data/fhir-corpus/ carries, as isotrack
must read them (issue 12, second acceptance point).

Each fact is written as it SHOULD hold. A fact that needs a reader another piece of
issue 12 is building is marked ``xfail(strict=True)`` naming that branch: the day the
reader lands, the test passes, strict xfail turns that into a failure, and the mark
must go.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import Engine

from isotrack.clinical.findings import Severity
from isotrack.clinical.screening.pregnancy import sex_evidence
from isotrack.clinical.snapshot import PregnancyState, Sex
from isotrack.clinical.state.commands import EnrolPatient, RecordLabResult, RecordWeight
from isotrack.fhir import decode_bundle, read_order
from isotrack.fhir.resources import MedicationRequest
from isotrack.fhir.transfer import ImportResult, export_patient, import_bundle
from isotrack.knowledge import KnowledgeBase
from isotrack.store import create_engine_for
from tests.fhir.corpus import CORPUS, Record, record_of
from tests.fhir.corpus_screen import Screened, screened
from tests.store.conftest import sqlite_template  # noqa: F401  # the fixture used below

PREGNANCY_RULES = ("PREG-TEST-REQUIRED", "CONTRACEPTION-REQUIRED", "PPP-START-TESTS")
"""What a patient who can get pregnant is asked for before a first prescription."""
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def record(name: str) -> Record:
    return record_of(CORPUS / name)


def screen(name: str, on: str, kb: KnowledgeBase) -> Screened:
    return screened(record(name), date.fromisoformat(on), kb)


def needs(branch: str, what: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=f"needs {branch}: {what}")


def severity_of(found: Screened, rule_id: str) -> Severity:
    return next(f.severity for f in found.assessment.findings if f.rule_id == rule_id)


def codes_of(found: Screened, what: str) -> list[set[str]]:
    """The codes of each medication, condition or procedure of the snapshot."""
    records: tuple[Any, ...] = getattr(found.snapshot, what)
    return [{c.code for c in r.concept.codings} for r in records]


# --- patient: sex and programme category ---------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "us-core/patient-example.json",
        "us-core/patient-example.us-core-8.0.0.json",
        "us-core/patient-example.us-core-7.0.0.json",
    ],
)
def test_us_core_patient_amy_is_read_as_female_in_every_us_core_release(
    name: str, kb: KnowledgeBase
) -> None:
    found = screen(name, "2026-06-01", kb)
    evidence = sex_evidence(found.snapshot, found.on)
    assert evidence.female
    assert not evidence.male


def test_us_core_9_boy_with_individual_sex_male_is_not_asked_for_pregnancy_tests(
    kb: KnowledgeBase,
) -> None:
    found = screen("us-core/patient-child-example.json", "2026-06-01", kb)
    assert not set(PREGNANCY_RULES) & set(found.assessment.rule_ids)


def test_us_core_9_boy_born_2016_is_under_12(kb: KnowledgeBase) -> None:
    found = screen("us-core/patient-child-example.json", "2026-06-01", kb)
    assert found.snapshot.birth_date == date(2016, 1, 15)
    assert found.assessment.has("AGE-UNDER-12")


def test_us_core_7_patient_whose_sex_elements_agree_is_female_and_can_get_pregnant(
    kb: KnowledgeBase,
) -> None:
    # gender female, birth sex F, us-core-sex 248152002 Female, gender identity unknown
    found = screen("us-core/patient-example.us-core-7.0.0.json", "2026-06-01", kb)
    assert found.snapshot.sex is Sex.FEMALE
    assert set(PREGNANCY_RULES) <= set(found.assessment.rule_ids)
    assert not found.assessment.has("PPP-CATEGORY-UNCONFIRMED")


def test_oracle_health_shaped_male_patient_is_not_asked_for_pregnancy_tests(
    kb: KnowledgeBase,
) -> None:
    found = screen("oracle-health-shaped/patient-male.json", "2026-06-01", kb)
    assert (found.snapshot.sex, found.snapshot.birth_date) == (Sex.MALE, date(1976, 4, 29))
    assert not set(PREGNANCY_RULES) & set(found.assessment.rule_ids)


# --- pregnancy, pregnancy status ------------------------------------------------------
def test_us_core_pregnancy_status_pregnant_a_week_old_is_a_critical_preg_active(
    kb: KnowledgeBase,
) -> None:
    found = screen("us-core/observation-pregnancy-status.json", "2022-09-01", kb)
    assert [s.state for s in found.snapshot.pregnancy_statuses] == [PregnancyState.PREGNANT]
    assert severity_of(found, "PREG-ACTIVE") is Severity.CRITICAL


def test_us_core_pregnancy_status_from_2022_is_a_warning_in_2026_that_shows_its_date(
    kb: KnowledgeBase,
) -> None:
    found = screen("us-core/observation-pregnancy-status.json", "2026-06-01", kb)
    finding = next(f for f in found.assessment.findings if f.rule_id == "PREG-ACTIVE")
    assert finding.severity is Severity.WARNING
    assert "2022-08-24" in f"{finding.summary} {finding.detail}"


def test_us_core_pregnancy_intent_is_not_a_pregnancy(kb: KnowledgeBase) -> None:
    found = screen("us-core/observation-pregnancy-intent.json", "2022-09-30", kb)
    assert found.snapshot.pregnancy_statuses == ()
    assert not found.assessment.has("PREG-ACTIVE")


def test_ips_pregnancy_status_answered_in_loinc_is_pregnant_on_2020_01_10(
    kb: KnowledgeBase,
) -> None:
    found = screen("ips/Observation-pregnancy-status-example.json", "2020-01-20", kb)
    statuses = found.snapshot.pregnancy_statuses
    assert [(s.on, s.state) for s in statuses] == [(date(2020, 1, 10), PregnancyState.PREGNANT)]
    assert severity_of(found, "PREG-ACTIVE") is Severity.CRITICAL


def test_oracle_health_shaped_resolved_pregnancy_problem_is_not_current(
    kb: KnowledgeBase,
) -> None:
    found = screen("oracle-health-shaped/condition-pregnancy.json", "2020-07-01", kb)
    assert {"77386006"} in codes_of(found, "conditions")  # Patient currently pregnant
    assert found.snapshot.conditions[0].clinical_status == "resolved"
    assert not found.assessment.has("PREG-ACTIVE")


def test_oracle_health_shaped_condition_search_keeps_its_patients_conditions_only(
    kb: KnowledgeBase,
) -> None:
    found = screen("oracle-health-shaped/condition-bundle.json", "2020-07-01", kb)
    assert codes_of(found, "conditions") == [{"77386006"}, {"271737000", "D64.9"}]
    assert "Resources of another patient were ignored: 1 Condition" in found.snapshot.notes


# --- weight and laboratory results ----------------------------------------------------
def test_us_core_body_weight_is_20_kg_on_1999_07_02(kb: KnowledgeBase) -> None:
    found = screen("us-core/weight.json", "1999-07-10", kb)
    assert [(w.kg, w.on) for w in found.snapshot.weights] == [(20.09414, date(1999, 7, 2))]


def test_fhir_r4_body_weight_of_185_pounds_is_read_as_83_9_kg(kb: KnowledgeBase) -> None:
    found = screen("hl7-r4-core/Observation-example.json", "2016-04-01", kb)
    [weight] = found.snapshot.weights
    assert (round(weight.kg, 2), weight.on) == (83.91, date(2016, 3, 28))
    assert not found.assessment.has("WEIGHT-MISSING")


def test_oracle_health_shaped_weight_coded_body_weight_measured_is_61_kg(kb: KnowledgeBase) -> None:
    found = screen("oracle-health-shaped/observation-labs.json", "2016-01-27", kb)
    assert [(w.kg, w.on) for w in found.snapshot.weights] == [(61.0, date(2016, 1, 26))]


def test_a_result_entered_in_error_with_a_trailing_space_is_never_a_result(
    kb: KnowledgeBase,
) -> None:
    found = screen("oracle-health-shaped/observation-entered-in-error.json", "2016-01-27", kb)
    assert found.snapshot.labs == ()  # triglycerides 900 mg/dL, "entered-in-error "
    assert not found.assessment.has("LIPIDS-HIGH")


def test_us_core_serum_glucose_76_mg_dl_has_its_own_reference_range(
    kb: KnowledgeBase,
) -> None:
    found = screen("us-core/observation-serum-glucose.json", "2005-07-10", kb)
    [glucose] = found.snapshot.labs
    assert (glucose.analyte, glucose.value, glucose.unit) == ("glucose", 76.0, "mg/dL")
    assert (glucose.on, glucose.reference_high, glucose.code) == (date(2005, 7, 5), 109.0, "2345-7")


def test_oracle_health_shaped_alt_without_a_unit_is_not_guessed_and_the_notes_say_so(
    kb: KnowledgeBase,
) -> None:
    found = screen("oracle-health-shaped/observation-labs.json", "2016-01-27", kb)
    assert [lab.analyte for lab in found.snapshot.labs] == ["glucose"]  # fasting, mg/dL
    assert "Observation/M-6001: alt 40 has no unit; ignored" in found.snapshot.notes


def test_oracle_health_shaped_point_of_care_glucose_read_and_the_unitless_one_noted(
    kb: KnowledgeBase,
) -> None:
    found = screen("oracle-health-shaped/observation-bundle.json", "2023-10-31", kb)
    assert [(lab.value, lab.code) for lab in found.snapshot.labs] == [(181.0, "2339-0")]
    assert any("L-5002: glucose 189 has no unit" in note for note in found.snapshot.notes)


def test_fhir_r4_blood_glucose_of_6_3_mmol_l_is_read_in_mg_dl(kb: KnowledgeBase) -> None:
    found = screen("hl7-r4-core/Observation-f001.json", "2013-04-03", kb)
    [glucose] = found.snapshot.labs
    assert (glucose.analyte, glucose.unit, glucose.on) == ("glucose", "mg/dL", date(2013, 4, 2))
    assert glucose.value == pytest.approx(113.5, abs=0.5)


@pytest.mark.parametrize(
    "name",
    [
        "rems-test-ehr/rems_smith_observation_alt.json",
        "rems-test-ehr/rems_smith_observation_ast.json",
        "rems-test-ehr/rems_smith_observation_weight.json",
    ],
)
def test_rems_result_dated_only_by_its_issue_time_is_not_read_and_the_notes_say_so(
    name: str, kb: KnowledgeBase
) -> None:
    # ALT 12 U/L (range 0-35), AST 23 U/L, "weight" 155 mg: no effective[x], only issued,
    # which is not when the specimen was taken; a 30-day window cannot count from it.
    found = screen(name, "2021-12-31", kb)
    assert (found.snapshot.labs, found.snapshot.weights) == ((), ())
    assert any("no effective date; ignored" in note for note in found.snapshot.notes)


def test_fhir_r4_lipid_report_results_without_their_own_date_are_noted(
    kb: KnowledgeBase,
) -> None:
    found = screen("hl7-r4-core/Bundle-lipids.json", "2011-03-10", kb)
    assert any(
        note.startswith("Observation/triglyceride: no effective date; ignored")
        for note in found.snapshot.notes
    )


def test_us_core_phq9_total_of_12_written_as_a_string_is_a_mood_screen(
    kb: KnowledgeBase,
) -> None:
    found = screen("us-core/Observation-PHQ9-item-example-44261-6.json", "2022-12-01", kb)
    assert [(m.on, m.phq9_total) for m in found.snapshot.mood_screens] == [(date(2022, 11, 29), 12)]


def test_us_core_phq9_item_9_not_at_all_is_read_as_0(kb: KnowledgeBase) -> None:
    found = screen("us-core/Observation-PHQ9-item-example-44260-8.json", "2022-12-01", kb)
    assert any("PHQ-9 item 9 = 0 on 2022-11-29" in note for note in found.snapshot.notes)


# --- procedures and devices -----------------------------------------------------------
def test_us_core_defibrillator_implant_in_cpt_is_a_procedure_and_not_contraception(
    kb: KnowledgeBase,
) -> None:
    found = screen("us-core/Procedure-R4-defib-implant.json", "2019-04-01", kb)
    [procedure] = found.snapshot.procedures
    assert ({c.code for c in procedure.concept.codings}, procedure.performed) == (
        {"33249"},
        date(2019, 3, 26),
    )
    assert found.snapshot.contraception == ()


def test_us_core_counselling_coded_in_snomed_and_icd_10_pcs_is_read(kb: KnowledgeBase) -> None:
    found = screen("us-core/procedure-rehab.json", "2002-06-01", kb)
    assert codes_of(found, "procedures") == [{"24165007", "HZ30ZZZ"}]


def test_oracle_health_shaped_procedures_in_cpt_dated_by_year_only_are_read(
    kb: KnowledgeBase,
) -> None:
    found = screen("oracle-health-shaped/procedure-bundle.json", "2020-01-01", kb)
    assert [
        (c, p.performed)
        for c, p in zip(codes_of(found, "procedures"), found.snapshot.procedures, strict=True)
    ] == [
        ({"44950"}, date(2002, 1, 1)),
        ({"33534"}, date(2018, 1, 1)),
    ]


@pytest.mark.parametrize(
    "name", ["us-core/Device-defib.json", "oracle-health-shaped/device-pacemaker.json"]
)
def test_an_implanted_cardiac_device_is_not_contraception(name: str, kb: KnowledgeBase) -> None:
    found = screen(name, "2026-06-01", kb)
    assert found.snapshot.contraception == ()
    assert found.assessment.has("CONTRACEPTION-REQUIRED")


# --- medications and interacting drugs ------------------------------------------------
@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("us-core/medicationrequest-coded-oral-axid.json", "476872"),
        ("us-core/medicationrequest-contained-oral-axid.json", "582620"),
        ("us-core/medicationrequest-referenced-oral-axid.json", "582620"),
    ],
)
def test_us_core_nizatidine_is_read_coded_contained_or_referenced(
    name: str, code: str, kb: KnowledgeBase
) -> None:
    found = screen(name, "2008-04-10", kb)
    assert codes_of(found, "medications") == [{code}]


@pytest.mark.parametrize(
    ("name", "on", "rule_id"),
    [
        # phenytoin 25 mg/mL oral suspension, RxNorm SCD 1313112, valid 2015-01-15 to 2016
        ("hl7-r4-core/MedicationRequest-medrx0312.json", "2015-06-01", "PHENYTOIN"),
        # prednisone 5 mg tablet, a contained Medication coded in SNOMED CT (373994007)
        ("hl7-r4-core/MedicationRequest-medrx0303.json", "2015-01-17", "CORTICOSTEROID-SYSTEMIC"),
        # active prednisone 1 mg tablets among 25 orders of one patient
        (
            "oracle-health-shaped/medication-request-bundle.json",
            "2020-06-01",
            "CORTICOSTEROID-SYSTEMIC",
        ),
    ],
)
def test_an_interacting_drug_ordered_as_the_ehr_writes_it_raises_its_rule(
    name: str, on: str, rule_id: str, kb: KnowledgeBase
) -> None:
    assert screen(name, on, kb).assessment.has(rule_id)


def test_ips_document_reads_its_medications_through_urn_uuid_references(
    kb: KnowledgeBase,
) -> None:
    found = screen("ips/Bundle-IPS-examples-Bundle-01.json", "2017-12-11", kb)
    assert codes_of(found, "medications")[0] >= {"108774000", "L02BG03"}  # anastrozole
    assert (found.snapshot.sex, found.snapshot.birth_date) == (Sex.FEMALE, date(1972, 5, 1))
    assert not any("another patient" in note for note in found.snapshot.notes)


# --- the isotretinoin order: dose, frequency, route and supply ------------------------
def oracle_health_order(request_id: str, kb: KnowledgeBase) -> tuple[float | None, int | None]:
    """(dose in mg, doses a day) of one MedicationRequest of the Oracle Health-shaped bundle."""
    bundle = decode_bundle(
        msgspec.json.encode(record("oracle-health-shaped/medication-request-bundle.json").document)
    )
    request = next(r for r in bundle.of_type(MedicationRequest) if r.id == request_id)
    order = read_order(request, kb, bundle=bundle).order
    return order.dose_mg, order.times_per_day


def test_oracle_health_shaped_dose_of_2_capsules_of_325_mg_is_650_mg(
    kb: KnowledgeBase,
) -> None:
    assert oracle_health_order("900101", kb)[0] == 650  # 2 {Capsule}, acetaminophen 325 MG cap


def test_oracle_health_shaped_dose_of_1_capsule_twice_a_day_is_100_mg_two_times_a_day(
    kb: KnowledgeBase,
) -> None:
    assert oracle_health_order("900102", kb) == (100, 2)  # Colace 100 mg, 1 {Capsule}, BID


def test_oracle_health_shaped_dose_of_half_a_tablet_of_50_mg_twice_a_day_is_25_mg(
    kb: KnowledgeBase,
) -> None:
    assert oracle_health_order("900103", kb) == (25, 2)  # Lopressor 50 mg, 0.5 {tbl}, BID


def test_oracle_health_shaped_every_4_hours_is_6_doses_a_day(kb: KnowledgeBase) -> None:
    assert oracle_health_order("900101", kb) == (650, 6)


def test_rems_ipledge_order_is_read_and_its_refills_and_supply_are_refused(
    kb: KnowledgeBase,
) -> None:
    found = screen("rems-test-ehr/rems_smith_medicationrequest_IPledge.json", "2020-07-11", kb)
    order = found.order
    assert (order.dose_mg, order.times_per_day, order.strength_mg) == (20, 2, 20)
    assert (order.quantity, order.repeats) == (90, 3)  # 90 CAP (orderableDrugForm)
    assert {"REFILLS-NOT-ALLOWED", "SUPPLY-OVER-30-DAYS"} <= set(found.assessment.rule_ids)
    assert set(PREGNANCY_RULES) <= set(found.assessment.rule_ids)  # Alice Smith, 30


def test_rems_ipledge_order_for_a_man_has_no_pregnancy_findings(kb: KnowledgeBase) -> None:
    found = screen("rems-test-ehr/rems_snow_medicationrequest_IPledge.json", "2020-07-11", kb)
    assert found.request.id == "pat017-mr-IPledge"
    assert found.assessment.has("REFILLS-NOT-ALLOWED")
    assert not set(PREGNANCY_RULES) & set(found.assessment.rule_ids)


def test_rems_diabetes_is_a_reminder_to_check_glucose(kb: KnowledgeBase) -> None:
    found = screen("rems-test-ehr/rems_smith_condition_diabetes.json", "2020-07-11", kb)
    assert found.assessment.has("DIABETES")


# --- import and export ----------------------------------------------------------------
@dataclass(frozen=True)
class Imported:
    result: ImportResult
    exported: dict[str, Any]


@pytest.fixture
def importer(
    sqlite_template: Path,  # noqa: F811  # the storage fixture imported above
    tmp_path: Path,
) -> Iterator[Callable[[str, KnowledgeBase], Imported]]:
    engines: list[Engine] = []

    def run(name: str, kb: KnowledgeBase) -> Imported:
        path = tmp_path / f"{len(engines)}.db"
        shutil.copyfile(sqlite_template, path)
        engines.append(engine := create_engine_for(f"sqlite:///{path}"))
        bundle = decode_bundle(msgspec.json.encode(record(name).document))
        result = import_bundle(engine, bundle, actor="importer", now=NOW, kb=kb)
        exported = export_patient(engine, result.plan.patient_id, actor="x", now=NOW, kb=kb)
        return Imported(result, exported)

    yield run
    for engine in engines:
        engine.dispose()


def test_importing_us_core_amy_enrols_her_by_her_current_name(
    importer: Any, kb: KnowledgeBase
) -> None:
    enrolled = importer("us-core/patient-example.json", kb).result.plan.commands[0]
    assert isinstance(enrolled, EnrolPatient)
    assert (enrolled.patient_id, enrolled.name) == ("example", "Amy V. Baxter")
    assert enrolled.birth_date == date(1987, 2, 20)


def test_importing_us_core_amy_enrols_her_as_female(importer: Any, kb: KnowledgeBase) -> None:
    enrolled = importer("us-core/patient-example.json", kb).result.plan.commands[0]
    assert isinstance(enrolled, EnrolPatient)
    assert enrolled.sex == "female"


def test_importing_a_weight_in_pounds_records_it_in_kg_and_exports_it(
    importer: Any, kb: KnowledgeBase
) -> None:
    done = importer("hl7-r4-core/Observation-example.json", kb)
    [weight] = [c for c in done.result.plan.commands if isinstance(c, RecordWeight)]
    assert (round(weight.value, 2), weight.unit, weight.on) == (83.91, "kg", date(2016, 3, 28))
    exported = [e["resource"] for e in done.exported["entry"]][1]
    assert exported["code"]["coding"][0]["code"] == "29463-7"
    assert exported["valueQuantity"]["code"] == "kg"


def test_us_core_serum_glucose_comes_back_out_as_serum_glucose(
    importer: Any, kb: KnowledgeBase
) -> None:
    done = importer("us-core/observation-serum-glucose.json", kb)
    assert any(isinstance(c, RecordLabResult) for c in done.result.plan.commands)
    [glucose] = [e["resource"] for e in done.exported["entry"]][1:]
    assert "2345-7" in {c["code"] for c in glucose["code"]["coding"]}


def test_importing_us_core_pregnancy_status_does_not_drop_it_silently(
    importer: Any, kb: KnowledgeBase
) -> None:
    plan = importer("us-core/observation-pregnancy-status.json", kb).result.plan
    kept = [c for c in plan.commands if not isinstance(c, EnrolPatient)]
    assert kept or any("pregnan" in note.casefold() for note in plan.notes)
