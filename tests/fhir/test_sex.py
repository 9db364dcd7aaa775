"""Sex and programme category from every sex and gender element of a FHIR record
(rules.md "Patient who can get pregnant"): each representation read, disagreements
asked about, and one situation giving the same findings however it is written."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.screening.context import screen_order
from isotrack.clinical.screening.pregnancy import pregnancy_capability
from isotrack.clinical.snapshot import PatientSnapshot, PregnancyCapability, Sex, SexElement
from isotrack.clinical.state.commands import EnrolPatient
from isotrack.fhir import snapshot_from_bundle
from isotrack.fhir.import_record import plan_import
from isotrack.knowledge import KnowledgeBase, default_knowledge
from tests.fhir.builders import (
    Json,
    bundle,
    medication_request,
    procedure,
    read,
)
from tests.fhir.builders_sex import (
    ADMIN_GENDER,
    LOINC_SEX,
    SNOMED,
    V3_GENDER,
    birth_sex,
    gender_identity,
    individual_sex,
    patient_with,
    recorded_sex,
    sex_for_clinical_use,
    sex_observation,
    us_core_sex_code,
)

ON = date(2026, 3, 2)
ORDER = IsotretinoinOrder(
    product="conventional", dose_mg=40, times_per_day=2, strength_mg=40, quantity=60,
    supply_days=30, repeats=0,
)  # fmt: skip


def snap(kb: KnowledgeBase, patient: Json, *resources: Json) -> PatientSnapshot:
    return snapshot_from_bundle(read(bundle(patient, *resources, with_patient=False)), kb=kb)


def findings(kb: KnowledgeBase, snapshot: PatientSnapshot) -> list[str]:
    result = screen_order(snapshot, ORDER, on=ON, kb=kb)
    return [f"{f.rule_id}:{f.severity.name}" for f in result.findings]


# --- each representation ------------------------------------------------------------
def test_a_us_core_9_man_with_sex_only_in_individual_sex_cannot_get_pregnant(
    kb: KnowledgeBase,
) -> None:
    snapshot = snap(kb, patient_with(individual_sex("male")))
    assert snapshot.sex is Sex.UNKNOWN
    status = pregnancy_capability(snapshot, ON, kb)
    assert not status.can_get_pregnant
    assert "Male (finding)" in status.reason
    assert not any(r.startswith("PREG-TEST-REQUIRED") for r in findings(kb, snapshot))


@pytest.mark.parametrize(
    "extension",
    [birth_sex("F"), individual_sex("female"), us_core_sex_code("female"),
     sex_for_clinical_use("female-typical")],
    ids=["birth sex F", "individual sex", "US Core 6 sex valueCode", "sex for clinical use"],
)  # fmt: skip
def test_each_female_element_alone_means_able_to_get_pregnant_and_says_which(
    kb: KnowledgeBase, extension: Json
) -> None:
    snapshot = snap(kb, patient_with(extension, gender="unknown"))
    status = pregnancy_capability(snapshot, ON, kb)
    assert status.can_get_pregnant
    assert status.assumed
    assert status.reason.startswith("female (")
    assert snapshot.sex_elements[0].indicates is Sex.FEMALE


@pytest.mark.parametrize(
    ("loinc", "value", "element"),
    [
        ("76689-9", {"system": "http://loinc.org", "code": "LA2-8"}, SexElement.AT_BIRTH),
        ("76689-9", {"system": ADMIN_GENDER, "code": "male"}, SexElement.AT_BIRTH),
        ("46098-0", {"system": SNOMED, "code": "248153007"}, SexElement.SEX),
    ],
)
def test_a_sex_observation_is_read(
    kb: KnowledgeBase, loinc: str, value: Json, element: SexElement
) -> None:
    snapshot = snap(kb, patient_with(), sex_observation(loinc, value))
    assert [(e.element, e.indicates) for e in snapshot.sex_elements] == [(element, Sex.MALE)]
    assert not pregnancy_capability(snapshot, ON, kb).can_get_pregnant


def test_an_entered_in_error_sex_observation_is_ignored(kb: KnowledgeBase) -> None:
    wrong = sex_observation(
        "76689-9", {"system": V3_GENDER, "code": "M"}, status="entered-in-error"
    )
    assert snap(kb, patient_with(), wrong).sex_elements == ()


def test_a_recorded_sex_or_gender_extension_says_its_own_type(kb: KnowledgeBase) -> None:
    snapshot = snap(kb, patient_with(recorded_sex("76689-9", {"system": V3_GENDER, "code": "F"})))
    assert [(e.element, e.indicates) for e in snapshot.sex_elements] == [
        (SexElement.AT_BIRTH, Sex.FEMALE)
    ]


def test_unknown_or_asked_values_point_nowhere(kb: KnowledgeBase) -> None:
    snapshot = snap(kb, patient_with(birth_sex("UNK"), sex_for_clinical_use("specified")))
    assert [e.indicates for e in snapshot.sex_elements] == [None, None]
    status = pregnancy_capability(snapshot, ON, kb)
    assert status.can_get_pregnant
    assert "no sex recorded as female or male" in status.reason


def test_a_sex_for_clinical_use_whose_period_ended_is_not_used(kb: KnowledgeBase) -> None:
    ended = sex_for_clinical_use("male-typical", end="2025-12-31")
    snapshot = snap(kb, patient_with(ended, gender="female"))
    status = pregnancy_capability(snapshot, ON, kb)
    assert status.can_get_pregnant
    assert status.disagreement == ""


# --- disagreement ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "patient",
    [
        patient_with(birth_sex("F"), gender="male"),
        patient_with(individual_sex("female"), sex_for_clinical_use("male-typical")),
        patient_with(gender_identity(SNOMED, "407377005", "Female-to-male transsexual"),
                     gender="male"),
    ],
    ids=["gender male, born F", "sex female, clinical use male", "trans man, gender male"],
)  # fmt: skip
def test_disagreeing_elements_ask_for_the_category_and_apply_the_pregnancy_rules(
    kb: KnowledgeBase, patient: Json
) -> None:
    snapshot = snap(kb, patient)
    status = pregnancy_capability(snapshot, ON, kb)
    assert status.can_get_pregnant
    assert "female:" in status.disagreement
    assert "male:" in status.disagreement
    found = findings(kb, snapshot)
    assert "PPP-CATEGORY-UNCONFIRMED:WARNING" in found
    assert "PREG-TEST-REQUIRED:CRITICAL" in found


def test_a_recorded_category_overrides_disagreeing_elements(kb: KnowledgeBase) -> None:
    base = snap(kb, patient_with(birth_sex("F"), gender="male"))
    recorded = replace(base, pregnancy_capability=PregnancyCapability.CANNOT)
    found = findings(kb, recorded)
    assert not any(f.startswith(("PPP-CATEGORY", "PREG-")) for f in found)


def test_an_identity_that_names_no_birth_sex_does_not_disagree(kb: KnowledgeBase) -> None:
    identity = gender_identity(SNOMED, "446151000124109", "Identifies as male gender")
    snapshot = snap(kb, patient_with(identity, gender="female"))
    assert snapshot.sex_elements[0].indicates is None
    assert pregnancy_capability(snapshot, ON, kb).disagreement == ""


def test_a_hysterectomy_settles_disagreeing_elements_without_asking(kb: KnowledgeBase) -> None:
    hysterectomy = procedure("236886002", "Hysterectomy", "2020-05-01", id="hyst")
    snapshot = snap(kb, patient_with(birth_sex("F"), gender="male"), hysterectomy)
    assert not pregnancy_capability(snapshot, ON, kb).can_get_pregnant
    assert "PPP-CATEGORY-UNCONFIRMED:WARNING" not in findings(kb, snapshot)


def test_testosterone_therapy_is_mentioned_and_never_rules_pregnancy_out(
    kb: KnowledgeBase,
) -> None:
    testosterone = medication_request(
        {"text": "Testosterone Cypionate 200 MG/ML Injectable Solution"}, id="t"
    )
    snapshot = snap(kb, patient_with(birth_sex("F"), gender="female"), testosterone)
    status = pregnancy_capability(snapshot, ON, kb)
    assert status.can_get_pregnant
    assert "testosterone is not contraception" in status.reason


# --- one situation, every way of writing it -----------------------------------------------
KINDS = ("gender", "birth sex", "individual sex", "clinical use", "observation", "recorded")


def _element(kind: str, sex: str, variant: bool) -> tuple[str | None, Json | None, Json | None]:
    """(Patient.gender, extension, Observation) carrying ``sex`` in one element,
    ``variant`` choosing between two codings of the same element."""
    letter = "F" if sex == "female" else "M"
    if kind == "gender":
        return sex, None, None
    if kind == "birth sex":
        return None, birth_sex(letter), None
    if kind == "individual sex":
        return None, individual_sex(sex) if variant else us_core_sex_code(sex), None
    if kind == "clinical use":
        return None, sex_for_clinical_use(f"{sex}-typical"), None
    if kind == "observation":
        code, display = LOINC_SEX[sex]
        value = (
            {"system": "http://loinc.org", "code": code, "display": display}
            if variant
            else {"system": ADMIN_GENDER, "code": sex}
        )
        return None, None, sex_observation("76689-9", value)
    return None, recorded_sex("76689-9", {"system": V3_GENDER, "code": letter}), None


def _patient(
    written: list[tuple[str | None, Json | None, Json | None]], birth_date: str
) -> tuple[Json, list[Json]]:
    gender = next((g for g, _, _ in written if g), "unknown")
    extensions = [e for _, e, _ in written if e is not None]
    observations = [o | {"id": f"sex-{i}"} for i, (_, _, o) in enumerate(written) if o]
    return patient_with(*extensions, gender=gender, birth_date=birth_date), observations


@settings(max_examples=60)
@given(
    sex=st.sampled_from(["female", "male"]),
    kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=4, unique=True),
    variant=st.booleans(),
)
def test_a_woman_of_25_or_a_man_of_30_gets_the_same_findings_however_sex_is_written(
    sex: str, kinds: list[str], variant: bool
) -> None:
    kb = default_knowledge()
    born = "2001-01-01" if sex == "female" else "1996-01-01"  # 25 and 30 on ON
    patient, observations = _patient([_element(k, sex, variant) for k in kinds], born)
    snapshot = snap(kb, patient, *observations)
    expected = findings(kb, snap(kb, patient_with(gender=sex, birth_date=born)))
    assert findings(kb, snapshot) == expected
    assert pregnancy_capability(snapshot, ON, kb).can_get_pregnant is (sex == "female")


@settings(max_examples=60)
@given(
    kinds=st.lists(st.sampled_from(KINDS), min_size=2, max_size=2, unique=True),
    variant=st.booleans(),
)
def test_a_discordant_record_gets_the_same_findings_however_it_is_written(
    kinds: list[str], variant: bool
) -> None:
    kb = default_knowledge()
    female, male = kinds
    written = [_element(female, "female", variant), _element(male, "male", not variant)]
    patient, observations = _patient(written, "2001-01-01")
    snapshot = snap(kb, patient, *observations)
    reference = snap(kb, patient_with(birth_sex("F"), gender="male"))
    assert pregnancy_capability(snapshot, ON, kb).disagreement
    assert findings(kb, snapshot) == findings(kb, reference)


# --- import --------------------------------------------------------------------------------
def _enrolled(kb: KnowledgeBase, patient: Json) -> tuple[str, tuple[str, ...]]:
    named = {**patient, "name": [{"family": "Shaw", "given": ["Amy"]}]}
    plan = plan_import(read(bundle(named, with_patient=False)), kb=kb, on=ON)
    enrolled = plan.commands[0]
    assert isinstance(enrolled, EnrolPatient)
    return enrolled.sex, plan.notes


def test_import_enrols_a_us_core_9_patient_with_the_sex_of_its_individual_sex(
    kb: KnowledgeBase,
) -> None:
    sex, notes = _enrolled(kb, patient_with(individual_sex("male")))
    assert sex == "male"
    assert any("enrolled as male from sex Male (finding)" in n for n in notes)


def test_import_keeps_disagreeing_elements_unresolved_and_says_so(kb: KnowledgeBase) -> None:
    sex, notes = _enrolled(kb, patient_with(birth_sex("F"), gender="male"))
    assert sex == "male"
    assert any("disagree" in n and "record the programme category" in n for n in notes)
