"""Pregnancy statuses (US Core, IPS, C-CDA) and pregnancy and lactation conditions, read
from FHIR and judged by their age: the date shows in the finding."""

from __future__ import annotations

from datetime import date

import pytest

from isotrack.clinical.codes import ICD10CM, SNOMED
from isotrack.clinical.findings import Assessment, Finding
from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.screening.context import screen_order
from isotrack.clinical.snapshot import PatientSnapshot, PregnancyState
from isotrack.fhir import snapshot_from_bundle
from isotrack.knowledge import KnowledgeBase
from tests.fhir.builders import Json, bundle, concept, read
from tests.fhir.builders_pregnancy import STATUS_VALUES, pregnancy_status

ON = date(2026, 3, 2)
PREGNANT, NOT_PREGNANT, UNKNOWN = (
    PregnancyState.PREGNANT,
    PregnancyState.NOT_PREGNANT,
    PregnancyState.UNKNOWN,
)


def snap(kb: KnowledgeBase, *resources: Json) -> PatientSnapshot:
    return snapshot_from_bundle(read(bundle(*resources)), kb=kb)


def screen(kb: KnowledgeBase, *resources: Json) -> Assessment:
    order = IsotretinoinOrder(product="conventional", dose_mg=40, times_per_day=1)
    return screen_order(snap(kb, *resources), order, on=ON, kb=kb)


def preg_active(result: Assessment) -> Finding | None:
    return next((f for f in result.findings if f.rule_id == "PREG-ACTIVE"), None)


def condition(system: str, code: str, display: str, onset: str | None, **extra: object) -> Json:
    resource: Json = {
        "resourceType": "Condition",
        "id": f"c-{code}",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": concept(system, code, display),
        **extra,
    }
    if onset is not None:
        resource["onsetDateTime"] = onset
    return resource


# --- reading the status ----------------------------------------------------------------
@pytest.mark.parametrize("state", ["pregnant", "not-pregnant", "unknown"])
@pytest.mark.parametrize("index", [0, 1])
def test_a_status_is_read_in_snomed_ct_and_loinc_answers(
    kb: KnowledgeBase, state: str, index: int
) -> None:
    (status,) = snap(kb, pregnancy_status(STATUS_VALUES[state][index])).pregnancy_statuses
    assert (status.state, status.on) == (PregnancyState(state), date(2026, 2, 20))


def test_the_c_cda_pregnancy_status_code_and_a_boolean_value_are_read(kb: KnowledgeBase) -> None:
    coded = pregnancy_status(STATUS_VALUES["pregnant"][0], "2026-02-01", code="11449-6")
    boolean = pregnancy_status(None, "2026-02-10", code="11449-6", valueBoolean=False)
    states = [s.state for s in snap(kb, coded, boolean).pregnancy_statuses]
    assert states == [PREGNANT, NOT_PREGNANT]


def test_possible_pregnancy_is_unknown_not_not_pregnant(kb: KnowledgeBase) -> None:
    (status,) = snap(kb, pregnancy_status(STATUS_VALUES["unknown"][2])).pregnancy_statuses
    assert status.state is UNKNOWN
    assert status.detail == "Possible pregnancy"


def test_an_unreadable_or_absent_status_is_unknown_with_a_note(kb: KnowledgeBase) -> None:
    odd = pregnancy_status(concept(SNOMED, "999", "Maybe"), "2026-02-01")
    absent = pregnancy_status(None, "2026-02-02", dataAbsentReason={"text": "asked, declined"})
    snapshot = snap(kb, odd, absent)
    assert [s.state for s in snapshot.pregnancy_statuses] == [UNKNOWN, UNKNOWN]
    assert any("'Maybe' is not readable" in n for n in snapshot.notes)


def test_every_status_is_kept_with_its_date(kb: KnowledgeBase) -> None:
    old = pregnancy_status(STATUS_VALUES["pregnant"][0], "2022-02-01")
    new = pregnancy_status(STATUS_VALUES["not-pregnant"][1], "2026-02-01")
    statuses = snap(kb, new, old).pregnancy_statuses
    assert sorted((s.on, s.state) for s in statuses) == [
        (date(2022, 2, 1), PREGNANT),
        (date(2026, 2, 1), NOT_PREGNANT),
    ]


# --- PREG-ACTIVE by age ----------------------------------------------------------------
def test_a_us_core_pregnancy_status_from_four_years_ago_asks_to_confirm_showing_its_date(
    kb: KnowledgeBase,
) -> None:
    found = preg_active(screen(kb, pregnancy_status(STATUS_VALUES["pregnant"][0], "2022-03-01")))
    assert found is not None
    assert found.severity.label == "warning"
    assert "2022-03-01" in found.summary
    assert ("recorded on", "2022-03-01") in found.data


def test_a_recent_pregnancy_status_is_critical_and_shows_its_date(kb: KnowledgeBase) -> None:
    found = preg_active(screen(kb, pregnancy_status(STATUS_VALUES["pregnant"][1], "2026-02-20")))
    assert found is not None
    assert found.severity.label == "critical"
    assert "2026-02-20" in found.summary


@pytest.mark.parametrize(("days", "severity"), [(308, "critical"), (309, "warning")])
def test_the_age_limit_is_the_longest_a_pregnancy_lasts(
    kb: KnowledgeBase, days: int, severity: str
) -> None:
    day = date.fromordinal(ON.toordinal() - days).isoformat()
    found = preg_active(screen(kb, pregnancy_status(STATUS_VALUES["pregnant"][0], day)))
    assert found is not None
    assert found.severity.label == severity


@pytest.mark.parametrize(
    ("later", "ends"), [("not-pregnant", True), ("unknown", False), ("pregnant", False)]
)
def test_only_a_later_not_pregnant_status_ends_a_recorded_pregnancy(
    kb: KnowledgeBase, later: str, ends: bool
) -> None:
    first = pregnancy_status(STATUS_VALUES["pregnant"][0], "2026-01-10")
    second = pregnancy_status(STATUS_VALUES[later][1], "2026-02-10")
    assert (preg_active(screen(kb, first, second)) is None) is ends


@pytest.mark.parametrize(
    ("system", "code", "display"),
    [
        (SNOMED, "77386006", "Pregnant"),
        (SNOMED, "47200007", "High risk pregnancy"),
        (ICD10CM, "Z33.1", "Pregnant state, incidental"),
        (ICD10CM, "Z3A.12", "12 weeks gestation of pregnancy"),
        (ICD10CM, "O09.511", "Supervision of elderly primigravida, first trimester"),
        (ICD10CM, "O24.414", "Gestational diabetes mellitus in pregnancy, insulin controlled"),
        (ICD10CM, "O99.012", "Anemia complicating pregnancy, second trimester"),
    ],
)
def test_an_ongoing_pregnancy_condition_in_snomed_ct_or_icd_10_cm_fires(
    kb: KnowledgeBase, system: str, code: str, display: str
) -> None:
    found = preg_active(screen(kb, condition(system, code, display, "2026-01-15")))
    assert found is not None
    assert found.severity.label == "critical"


def test_an_old_unended_pregnancy_condition_is_a_warning_with_its_date(kb: KnowledgeBase) -> None:
    old = condition(SNOMED, "72892002", "Normal pregnancy", "2019-06-01")
    found = preg_active(screen(kb, old))
    assert found is not None
    assert found.severity.label == "warning"
    assert "2019-06-01" in found.detail


@pytest.mark.parametrize(
    ("system", "code", "display"),
    [
        (ICD10CM, "Z37.0", "Single live birth"),
        (ICD10CM, "O03.9", "Complete or unspecified spontaneous abortion without complication"),
        (ICD10CM, "O00.101", "Right tubal pregnancy without intrauterine pregnancy"),
        (SNOMED, "177184002", "Normal delivery procedure"),
    ],
)
def test_a_later_outcome_ends_a_pregnancy(
    kb: KnowledgeBase, system: str, code: str, display: str
) -> None:
    preg = condition(SNOMED, "72892002", "Normal pregnancy", "2025-06-01")
    outcome = condition(system, code, display, "2026-02-01")
    assert preg_active(screen(kb, preg, outcome)) is None


def test_a_heterotopic_pregnancy_does_not_end_the_intrauterine_one(kb: KnowledgeBase) -> None:
    preg = condition(SNOMED, "72892002", "Normal pregnancy", "2026-01-01")
    tubal = condition(
        ICD10CM, "O00.111", "Right tubal pregnancy with intrauterine pregnancy", "2026-02-01"
    )
    assert preg_active(screen(kb, preg, tubal)) is not None


@pytest.mark.parametrize(
    ("system", "code", "display"),
    [
        (SNOMED, "169750002", "Mother currently breast-feeding"),
        (SNOMED, "866041003", "Mother currently breastfeeding"),
        (ICD10CM, "Z39.1", "Encounter for care and examination of lactating mother"),
        (ICD10CM, "O91.13", "Abscess of breast associated with lactation"),
    ],
)
def test_lactation_conditions_in_snomed_ct_and_icd_10_cm_fire_breastfeeding(
    kb: KnowledgeBase, system: str, code: str, display: str
) -> None:
    assert screen(kb, condition(system, code, display, "2026-02-01")).has("BREASTFEEDING")


def test_suppressed_lactation_is_not_breastfeeding(kb: KnowledgeBase) -> None:
    suppressed = condition(ICD10CM, "O92.5", "Suppressed lactation", "2026-02-01")
    assert not screen(kb, suppressed).has("BREASTFEEDING")
