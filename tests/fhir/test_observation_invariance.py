"""Representation invariance: one clinical situation, written every way an EHR may
write it (unit, LOINC variant, status spelling, effective[x], the reference range's
unit and type, PHQ-9 as integer, quantity, string or panel component). The snapshot
fact and the findings are the same for every choice."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isotrack.clinical.codes import LOINC
from isotrack.clinical.screening.context import assess_course, screen_order
from isotrack.clinical.snapshot import PatientSnapshot
from isotrack.fhir import snapshot_from_bundle
from isotrack.knowledge import default_knowledge
from tests.clinical.builders import order
from tests.fhir.builders import bundle, concept, patient, read

DAY = date(2026, 2, 20)
ON = date(2026, 3, 2)
UCUM = "http://unitsofmeasure.org"
MEANING = "http://terminology.hl7.org/CodeSystem/referencerange-meaning"
KB = default_knowledge()
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

statuses = st.sampled_from(["final", "amended", "corrected", "appended", "Final", "FINAL"])
effectives = st.sampled_from(
    [
        {"effectiveDateTime": "2026-02-20T09:30:00+01:00"},
        {"effectiveDateTime": "2026-02-20"},
        {"effectivePeriod": {"start": "2026-02-20T08:00:00Z", "end": "2026-02-20T09:00:00Z"}},
        {"effectivePeriod": {"end": "2026-02-20T09:00:00Z"}},
        {"effectiveInstant": "2026-02-20T09:30:00.000Z"},
    ]
)


@st.composite
def quantities(draw: st.DrawFn, value: float, units: dict[str, tuple[float, list[str]]]) -> Any:
    """``value`` (in the first unit) in a unit Hypothesis picks, converted, with the
    unit written as a UCUM code, as text, or both."""
    ucum = draw(st.sampled_from(sorted(units)))
    factor, texts = units[ucum]
    text = draw(st.sampled_from(texts))
    written = draw(st.sampled_from(["code", "text", "both"]))
    found: dict[str, Any] = {"value": value * factor}
    if written in ("text", "both"):
        found["unit"] = text
    if written in ("code", "both"):
        found |= {"system": UCUM, "code": ucum}
    return found


@st.composite
def measurements(
    draw: st.DrawFn, codes: list[str], value: float, units: dict[str, tuple[float, list[str]]]
) -> tuple[str, dict[str, Any]]:
    """(the LOINC code, an Observation of ``value``): code, status, date and unit drawn."""
    code = draw(st.sampled_from(codes))
    quantity = draw(quantities(value, units))
    return code, observed(code, draw(statuses), draw(effectives), valueQuantity=quantity)


def observed(code: str, status: str, effective: dict[str, Any], **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "o-1",
        "status": status,
        "code": concept(LOINC, code, "lab"),
        "subject": {"reference": "urn:uuid:11111111-1111-1111-1111-111111111111"},
        **effective,
        **value,
    }


def plain(code: str, **value: Any) -> dict[str, Any]:
    """The situation written the plainest way: final, effectiveDateTime, canonical unit."""
    return observed(code, "final", {"effectiveDateTime": "2026-02-20"}, **value)


def snap(*resources: dict[str, Any]) -> PatientSnapshot:
    document = bundle(patient(gender="male"), *resources, with_patient=False)
    return snapshot_from_bundle(read(document), kb=KB)


def order_findings(snapshot: PatientSnapshot) -> list[tuple[str, str]]:
    assessment = screen_order(snapshot, order(), on=ON, kb=KB)
    return [(f.rule_id, f.severity.name) for f in assessment.findings]


def course_findings(snapshot: PatientSnapshot) -> list[tuple[str, str]]:
    return [(f.rule_id, f.severity.name) for f in assess_course(snapshot, on=ON, kb=KB).findings]


# --- triglycerides 620 mg/dL on day X ----------------------------------------------------
TG_UNITS = {
    "mg/dL": (1, ["mg/dL", "mg/dl", "MG/DL"]),
    "mmol/L": (1 / 88.57, ["mmol/L", "mmol/l"]),
    "g/L": (0.01, ["g/L", "g/l"]),
}


@SETTINGS
@given(measurements(["2571-8", "35217-9", "14927-8"], 620, TG_UNITS))
def test_triglycerides_620_read_the_same_in_every_representation(
    written: tuple[str, dict[str, Any]],
) -> None:
    code, resource = written
    snapshot = snap(resource)
    (lab,) = snapshot.labs
    assert (lab.analyte, lab.on, lab.code) == ("triglycerides", DAY, code)
    assert lab.value == pytest.approx(620, rel=1e-9)
    assert ("LIPIDS-HIGH", "WARNING") in order_findings(snapshot)
    assert order_findings(snapshot) == TG_FINDINGS


TG_FINDINGS = order_findings(snap(plain("2571-8", valueQuantity={"value": 620, "unit": "mg/dL"})))


# --- ALT 4x the upper limit of normal -------------------------------------------------------
ENZYME_UNITS = {
    "U/L": (1, ["U/L", "u/l", "IU/L", "units/L"]),
    "[IU]/L": (1, ["IU/L", "[IU]/L"]),
    "ukat/L": (1 / 60, ["µkat/L", "μkat/L", "ukat/L", "µKat/L"]),
}
range_types = st.sampled_from(
    [None, {"coding": [{"system": MEANING, "code": "normal", "display": "Normal Range"}]}]
)


@SETTINGS
@given(
    code=st.sampled_from(["1742-6", "1743-4", "1744-2", "76625-3"]),
    status=statuses,
    effective=effectives,
    value=quantities(160, ENZYME_UNITS),
    high=quantities(40, ENZYME_UNITS),
    kind=range_types,
    recommended_too=st.booleans(),
)
def test_alt_at_four_times_its_uln_reads_the_same_in_every_representation(
    code: str,
    status: str,
    effective: dict[str, Any],
    value: dict[str, Any],
    high: dict[str, Any],
    kind: dict[str, Any] | None,
    recommended_too: bool,
) -> None:
    normal: dict[str, Any] = {"high": high} | ({"type": kind} if kind else {})
    ranges = [normal]
    if recommended_too:
        recommended = {"coding": [{"system": MEANING, "code": "recommended"}]}
        ranges.insert(0, {"high": {"value": 10, "unit": "U/L"}, "type": recommended})
    snapshot = snap(observed(code, status, effective, valueQuantity=value, referenceRange=ranges))
    (lab,) = snapshot.labs
    assert (lab.analyte, lab.on, lab.code) == ("alt", DAY, code)
    assert lab.value == pytest.approx(160, rel=1e-9)
    assert lab.reference_high == pytest.approx(40, rel=1e-9)
    assert order_findings(snapshot) == ALT_FINDINGS


ALT_FINDINGS = order_findings(
    snap(
        plain(
            "1742-6",
            valueQuantity={"value": 160, "unit": "U/L"},
            referenceRange=[{"high": {"value": 40, "unit": "U/L"}}],
        )
    )
)


def test_the_alt_situation_is_lft_high() -> None:
    assert ("LFT-HIGH", "WARNING") in ALT_FINDINGS


# --- body weight 70 kg -----------------------------------------------------------------
WEIGHT_UNITS = {
    "kg": (1, ["kg", "Kg", "kilograms"]),
    "g": (1000, ["g", "grams"]),
    "[lb_av]": (1 / 0.45359237, ["lb", "lbs", "pounds"]),
    "[oz_av]": (1 / 0.028349523125, ["oz", "ounces"]),
}


@SETTINGS
@given(measurements(["29463-7", "3141-9", "8350-1", "8351-9"], 70, WEIGHT_UNITS))
def test_a_weight_of_70_kg_reads_the_same_in_every_representation(
    written: tuple[str, dict[str, Any]],
) -> None:
    snapshot = snap(written[1])
    (weight,) = snapshot.weights
    assert (weight.on, weight.kg) == (DAY, pytest.approx(70, rel=1e-9))
    assert order_findings(snapshot) == WEIGHT_FINDINGS


WEIGHT_FINDINGS = order_findings(snap(plain("29463-7", valueQuantity={"value": 70, "unit": "kg"})))


# --- PHQ-9 total 12, item 9 answered "several days" ------------------------------------------
totals = st.sampled_from(
    [
        {"valueInteger": 12},
        {"valueQuantity": {"value": 12, "unit": "{score}", "system": UCUM, "code": "{score}"}},
        {"valueQuantity": {"value": 12}},
        {"valueString": "12"},
    ]
)
item9s = st.sampled_from(
    [
        {"valueInteger": 1},
        {"valueQuantity": {"value": 1, "unit": "{score}"}},
        {"valueString": "1"},
        {"valueCodeableConcept": concept(LOINC, "LA6569-3", "Several days")},
    ]
)


@SETTINGS
@given(
    total=totals,
    item9=item9s,
    as_panel=st.booleans(),
    status=statuses,
    effective=effectives,
)
def test_a_phq9_of_12_with_item9_at_1_reads_the_same_in_every_representation(
    total: dict[str, Any],
    item9: dict[str, Any],
    as_panel: bool,
    status: str,
    effective: dict[str, Any],
) -> None:
    if as_panel:
        components = [
            {"code": concept(LOINC, "44261-6", "total"), **total},
            {"code": concept(LOINC, "44260-8", "item 9"), **item9},
        ]
        resources = [observed("44249-1", status, effective, component=components)]
    else:
        resources = [
            observed("44261-6", status, effective, **total),
            {**observed("44260-8", status, effective, **item9), "id": "o-2"},
        ]
    snapshot = snap(*resources)
    (screen,) = snapshot.mood_screens
    assert (screen.on, screen.phq9_total, screen.item9) == (DAY, 12, 1)
    assert course_findings(snapshot) == PHQ9_FINDINGS


PHQ9_FINDINGS = course_findings(
    snap(plain("44261-6", valueInteger=12), {**plain("44260-8", valueInteger=1), "id": "o-2"})
)


def test_the_phq9_situation_is_a_critical_mood_finding() -> None:
    assert ("MOOD-PHQ9-POSITIVE", "CRITICAL") in PHQ9_FINDINGS
