"""Representation invariance (issue 12): one clinical situation, written every way an R4
EHR writes it; Hypothesis picks the way, and the snapshot fact and the findings are the
same for every choice.

- an hCG result (negative, indeterminate or positive) in SNOMED CT, LOINC answers, an
  interpretation, a string, or a quantity in any unit judged against its own reference
  range, its interpretation or the knowledge base's cut-offs; dated by a contained or a
  bundled Specimen or by its effective date; its setting said by a performer, a profile,
  a serum code, a specimen or a category;
- a pregnancy status in US Core (SNOMED CT) or IPS (LOINC answer) form, LOINC 82810-3 or
  11449-6, or as a boolean.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isotrack.clinical.findings import Assessment
from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.screening.context import screen_order
from isotrack.clinical.snapshot import PatientSnapshot, PregnancyState, TestResult, TestSetting
from isotrack.fhir import snapshot_from_bundle
from isotrack.knowledge import KnowledgeBase, default_knowledge
from tests.fhir.builders import Json, bundle, read
from tests.fhir.builders_pregnancy import (
    HOME_TEST_PROFILE,
    INTERPRETATION,
    LAB_CATEGORY,
    QUALITATIVE,
    STATUS_VALUES,
    STRINGS,
    hcg_test,
    interpretation,
    pregnancy_status,
    specimen,
)

KB = default_knowledge()
ON = date(2026, 3, 2)
SPECIMEN_DAY = date(2026, 2, 27)
ORDER = IsotretinoinOrder(product="conventional", dose_mg=40, times_per_day=1)
PATIENT_REF = "Patient/11111111-1111-1111-1111-111111111111"
RESULTS = [TestResult.NEGATIVE, TestResult.INDETERMINATE, TestResult.POSITIVE]
UNITS = {"mIU/mL": 1.0, "m[IU]/mL": 1.0, "m[iU]/mL": 1.0, "IU/L": 1.0, "[IU]/L": 1.0,
         "[iU]/L": 1.0, "[IU]/mL": 0.001}  # fmt: skip
"""Each unit an EHR writes hCG in, and the factor from m[IU]/mL to it."""
LEVELS = {
    TestResult.NEGATIVE: st.floats(0, 4.9),
    TestResult.INDETERMINATE: st.floats(5.01, 24.9),
    TestResult.POSITIVE: st.floats(25.01, 250_000),
}
"""hCG concentrations (m[IU]/mL) of each result against the sourced cut-offs."""


def snapshot_of(*resources: Json) -> PatientSnapshot:
    return snapshot_from_bundle(read(bundle(*resources)), kb=KB)


def outcome(assessment: Assessment) -> list[tuple[str, str]]:
    return sorted((f.rule_id, f.severity.label) for f in assessment.findings)


# --- hCG -------------------------------------------------------------------------------
@st.composite
def hcg_value(draw: st.DrawFn, result: TestResult) -> dict[str, Any]:
    """The elements of an hCG observation that say ``result``."""
    name = result.value
    forms = ["coded", "interpretation", "string", "amount", "amount-range", "amount-flag"]
    if result is TestResult.INDETERMINATE:
        forms.append("absent")
    form = draw(st.sampled_from(forms))
    if form == "coded":
        return {"valueCodeableConcept": draw(st.sampled_from(QUALITATIVE[name]))}
    if form == "interpretation":
        return {"interpretation": interpretation(INTERPRETATION[name])}
    if form == "string":
        return {"valueString": STRINGS[name]}
    if form == "absent":
        return {"dataAbsentReason": {"coding": [{"code": "error"}], "text": "Error"}}
    unit = draw(st.sampled_from(sorted(UNITS)))
    level = draw(LEVELS[result])
    value: dict[str, Any] = {"valueQuantity": {"value": level * UNITS[unit], "unit": unit}}
    if form == "amount-range" and result is not TestResult.POSITIVE:
        # The lab's own range: negative within it, indeterminate above it.
        high = 30.0 if result is TestResult.NEGATIVE else 4.0
        level = draw(st.floats(0, 24.9) if result is TestResult.NEGATIVE else st.floats(4.1, 24.9))
        value["valueQuantity"]["value"] = level * UNITS[unit]
        value["referenceRange"] = [{"high": {"value": high * UNITS[unit], "unit": unit}}]
    if form == "amount-flag" and result is not TestResult.POSITIVE:
        # The lab's own flag for a level below the required sensitivity.
        value["valueQuantity"]["value"] = draw(st.floats(0, 24.9)) * UNITS[unit]
        flag = "N" if result is TestResult.NEGATIVE else draw(st.sampled_from(["H", "E", "IND"]))
        value["interpretation"] = interpretation(flag)
    return value


@st.composite
def dated(draw: st.DrawFn, observation: Json) -> list[Json]:
    """The observation dated SPECIMEN_DAY by its effective date, a contained Specimen or
    a Specimen in the bundle (the effective date then a later day)."""
    how = draw(st.sampled_from(["effective", "contained", "bundled"]))
    day = SPECIMEN_DAY.isoformat()
    if how == "effective":
        return [{**observation, "effectiveDateTime": day}]
    later = (SPECIMEN_DAY + timedelta(days=2)).isoformat()
    if how == "contained":
        held = {"specimen": {"reference": "#s"}, "contained": [specimen(day, id="s")]}
        return [{**observation, "effectiveDateTime": later, **held}]
    return [specimen(day), {**observation, "effectiveDateTime": later,
                            "specimen": {"reference": "Specimen/spec-1"}}]  # fmt: skip


SETTINGS: dict[TestSetting, list[dict[str, Any]]] = {
    TestSetting.MEDICAL: [
        {"category": LAB_CATEGORY},
        {"performer": [{"reference": "Practitioner/dr-1"}]},
        {"performer": [{"type": "Organization", "display": "City lab"}]},
    ],
    TestSetting.HOME: [
        {"performer": [{"reference": PATIENT_REF}], "category": LAB_CATEGORY},
        {"performer": [{"reference": "RelatedPerson/mum"}]},
        {"meta": {"profile": [HOME_TEST_PROFILE]}, "category": LAB_CATEGORY},
        {"category": [{"coding": [{"system": "urn:isotrack:test-setting", "code": "home"}]}]},
    ],
}


@st.composite
def hcg_situation(draw: st.DrawFn) -> tuple[TestResult, TestSetting, list[Json]]:
    result = draw(st.sampled_from(RESULTS))
    setting = draw(st.sampled_from([TestSetting.MEDICAL, TestSetting.HOME]))
    code = draw(st.sampled_from(["2106-3", "2118-8", "21198-7", "19080-1"]))
    where = draw(st.sampled_from(SETTINGS[setting]))
    if setting is TestSetting.HOME and code in ("2118-8", "21198-7", "19080-1"):
        code = "2106-3"  # a home test is a urine test; a serum code says medical setting
    observation = hcg_test(code, **draw(hcg_value(result)), **where)
    observation.pop("effectiveDateTime")
    return result, setting, draw(dated(observation))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hcg_situation())
def test_an_hcg_result_is_the_same_fact_and_the_same_findings_however_it_is_written(
    situation: tuple[TestResult, TestSetting, list[Json]],
) -> None:
    result, setting, resources = situation
    snapshot = snapshot_of(*resources)
    assert [(t.on, t.result, t.setting) for t in snapshot.pregnancy_tests] == [
        (SPECIMEN_DAY, result, setting)
    ]
    canonical = hcg_test(
        "2106-3", SPECIMEN_DAY.isoformat(), valueCodeableConcept=QUALITATIVE[result.value][0],
        **SETTINGS[setting][0],
    )  # fmt: skip
    expected = screen_order(snapshot_of(canonical), ORDER, on=ON, kb=KB)
    assert outcome(screen_order(snapshot, ORDER, on=ON, kb=KB)) == outcome(expected)


# --- pregnancy status ------------------------------------------------------------------
@st.composite
def status_situation(draw: st.DrawFn) -> tuple[PregnancyState, date, Json]:
    state = draw(st.sampled_from(list(PregnancyState)))
    day = ON - timedelta(days=draw(st.sampled_from([3, 200, 308, 309, 1500])))
    code = draw(st.sampled_from(["82810-3", "11449-6"]))
    ways = [{"valueCodeableConcept": v} for v in STATUS_VALUES[state.value]]
    if state is not PregnancyState.UNKNOWN:
        ways.append({"valueBoolean": state is PregnancyState.PREGNANT})
    else:
        ways.append({"dataAbsentReason": {"text": "asked, declined"}})
    way = draw(st.sampled_from(ways))
    return state, day, pregnancy_status(None, day.isoformat(), code=code, **way)


@settings(max_examples=100, deadline=None)
@given(status_situation())
def test_a_pregnancy_status_is_the_same_fact_and_the_same_findings_however_it_is_written(
    situation: tuple[PregnancyState, date, Json],
) -> None:
    state, day, observation = situation
    snapshot = snapshot_of(observation)
    assert [(s.on, s.state) for s in snapshot.pregnancy_statuses] == [(day, state)]
    canonical = pregnancy_status(STATUS_VALUES[state.value][0], day.isoformat())
    expected = screen_order(snapshot_of(canonical), ORDER, on=ON, kb=KB)
    assert outcome(screen_order(snapshot, ORDER, on=ON, kb=KB)) == outcome(expected)


def test_the_situations_cover_the_pregnant_statuses_critical_and_warning(
    kb: KnowledgeBase,
) -> None:
    """The property above compares like with like; this pins what the like is."""
    recent = pregnancy_status(STATUS_VALUES["pregnant"][1], (ON - timedelta(days=3)).isoformat())
    old = pregnancy_status(STATUS_VALUES["pregnant"][1], (ON - timedelta(days=400)).isoformat())
    findings = [outcome(screen_order(snapshot_of(s), ORDER, on=ON, kb=kb)) for s in (recent, old)]
    assert ("PREG-ACTIVE", "critical") in findings[0]
    assert ("PREG-ACTIVE", "warning") in findings[1]
