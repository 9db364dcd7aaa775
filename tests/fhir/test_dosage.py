"""The isotretinoin order's dose, doses a day, route, quantity and supply, from every
way EHRs write them (CDS Hooks sandbox, Oracle Health, US Core, HL7 examples), and one
regimen giving the same findings however it is written."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.clinical.codes import SNOMED, UCUM
from isotrack.clinical.screening.context import screen_order
from isotrack.fhir import find_isotretinoin_order, read_order, snapshot_from_bundle
from isotrack.fhir.resources import MedicationRequest
from isotrack.knowledge import KnowledgeBase, default_knowledge
from tests.fhir.builders import Json, bundle, isotretinoin_order, quantity, read, weight

GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
CERNER_ROUTES = "https://fhir.cerner.com/ec2458f2-1e24-41c8-b71b-0e701af7583d/codeSet/4001"
NCI_META = "http://ncimeta.nci.nih.gov"
_ON = date(2026, 3, 2)


def reading(kb: KnowledgeBase, **changes: Any) -> tuple[Any, tuple[str, ...]]:
    record = read(bundle(isotretinoin_order(**changes), with_patient=False))
    result = read_order(record.of_type(MedicationRequest)[0], kb)
    return result.order, result.notes


def unit(value: float, unit: str | None, code: str | None, system: str | None = UCUM) -> Json:
    written: Json = {"value": value}
    for key, given_value in (("unit", unit), ("code", code), ("system", system)):
        if given_value is not None:
            written[key] = given_value
    return written


def coded(system: str, code: str, display: str = "") -> Json:
    return {"coding": [{"system": system, "code": code, "display": display}]}


# --- dose units ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "dose",
    [
        unit(1, None, "{pill}"),  # CDS Hooks sandbox
        unit(1, "cap", "{Capsule}"),  # Oracle Health
        unit(1, "tabs", "tbl"),  # Oracle Health
        unit(1, "caps", None, None),
        unit(1, "capsule", "732937005", SNOMED),
        unit(1, "Capsule", "15012000", "http://standardterms.edqm.eu"),
        unit(1, "capsule", "CAP", "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm"),
        unit(40, "mg", "mg"),
        unit(0.04, "g", "g"),
        unit(40000, "mcg", None, None),
    ],
    ids=["{pill}", "{Capsule}", "tbl", "caps", "SNOMED", "EDQM", "v3 CAP", "mg", "g", "mcg"],
)
def test_every_dose_unit_reads_as_forty_mg(kb: KnowledgeBase, dose: Json) -> None:
    order, _ = reading(kb, dose=dose)
    assert order.dose_mg == pytest.approx(40)


def test_a_tablet_of_a_capsule_product_is_read_with_a_note(kb: KnowledgeBase) -> None:
    order, notes = reading(kb, dose=unit(1, "tabs", "tbl"))
    assert order.dose_mg == 40
    assert any("read as capsules" in n for n in notes)


# --- dose ranges ----------------------------------------------------------------------
def test_a_dose_range_in_capsules_is_checked_at_its_top_and_supplied_at_its_bottom(
    kb: KnowledgeBase,
) -> None:
    resource = isotretinoin_order()
    resource["dosageInstruction"][0]["doseAndRate"] = [
        {"doseRange": {"low": unit(1, "cap", "{Capsule}"), "high": unit(2, "cap", "{Capsule}")}}
    ]
    record = read(bundle(resource, with_patient=False))
    order = read_order(record.of_type(MedicationRequest)[0], kb).order
    assert (order.dose_mg, order.times_per_day, order.daily_dose_mg) == (80, 2, 160)
    assert order.lowest_daily_mg == 80


# --- doses a day ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("timing", "expected"),
    [
        ({"code": coded(GTS, "BID")}, 2),
        ({"code": coded("http://hl7.org/fhir/v3/vs/GTSAbbreviation", "QD")}, 1),
        ({"code": coded(SNOMED, "307470009", "Every twelve hours")}, 2),
        ({"code": {"text": "BID"}}, 2),
        ({"code": {"coding": [{"code": "TID"}]}}, 3),
        ({"repeat": {"boundsPeriod": {"start": "2026-03-02"}}, "code": coded(GTS, "Q6H")}, 4),
        ({"repeat": {"frequency": 2, "period": 24, "periodUnit": "h"}}, 2),
        ({"repeat": {"frequency": 1, "period": 720, "periodUnit": "min"}}, 2),
        ({"repeat": {"timeOfDay": ["08:00:00", "20:00:00"]}}, 2),
        ({"repeat": {"frequency": 1, "frequencyMax": 2, "period": 1, "periodUnit": "d"}}, 2),
        ({"code": coded(SNOMED, "396107007", "One to two times a day")}, 2),
    ],
)
def test_doses_a_day_from_every_timing(kb: KnowledgeBase, timing: Json, expected: int) -> None:
    order, _ = reading(kb, timing=timing)
    assert order.times_per_day == expected


def test_a_code_that_is_not_daily_is_not_read_and_says_why(kb: KnowledgeBase) -> None:
    order, notes = reading(kb, timing={"code": coded(GTS, "QOD")})
    assert order.times_per_day is None
    assert any("not a whole number of doses a day" in n for n in notes)


def test_gts_has_no_q12h_code_so_it_is_not_read(kb: KnowledgeBase) -> None:
    order, notes = reading(kb, timing={"code": coded(GTS, "Q12H")})
    assert order.times_per_day is None
    assert any("Q12H" in n and "not known" in n for n in notes)


def test_a_period_max_lowers_the_least_the_order_allows(kb: KnowledgeBase) -> None:
    timing = {"repeat": {"frequency": 2, "period": 1, "periodMax": 2, "periodUnit": "d"}}
    order, _ = reading(kb, timing=timing)
    assert (order.daily_dose_mg, order.lowest_daily_mg) == (80, 40)


# --- several dosage instructions: one day --------------------------------------------------
def _split(*doses: tuple[float, str]) -> Json:
    resource = isotretinoin_order()
    first = resource["dosageInstruction"][0]
    resource["dosageInstruction"] = [
        {**first, "timing": {"repeat": {"when": [when]}},
         "doseAndRate": [{"doseQuantity": quantity(mg, "mg")}]}
        for mg, when in doses
    ]  # fmt: skip
    return resource


@pytest.mark.parametrize(
    ("doses", "daily", "split"),
    [(((40, "MORN"), (40, "EVE")), 80, ()), (((30, "MORN"), (25, "EVE")), 55, (30, 25))],
)
def test_split_doses_add_up_to_the_daily_dose(
    kb: KnowledgeBase, doses: tuple[tuple[float, str], ...], daily: float, split: tuple[float, ...]
) -> None:
    record = read(bundle(_split(*doses), with_patient=False))
    order = read_order(record.of_type(MedicationRequest)[0], kb).order
    assert (order.daily_dose_mg, order.times_per_day, order.doses_mg) == (daily, 2, split)


# --- route ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("route", "expected"),
    [
        (coded("http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration", "PO"), "oral"),
        (coded(NCI_META, "C38288", "ORAL"), "oral"),
        (coded("http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl", "C38295"), "rectal"),
        (coded("https://standardterms.edqm.eu", "20053000", "Oral use"), "oral"),
        (coded(CERNER_ROUTES, "318185", "Oral"), "oral"),
        ({"text": "P.O."}, "oral"),
        (coded(SNOMED, "47625008", "Intravenous route"), "intravenous"),
        (coded(NCI_META, "C38675", "CUTANEOUS"), "topical"),
    ],
)
def test_the_route_is_read_from_every_code_system(
    kb: KnowledgeBase, route: Json, expected: str
) -> None:
    order, _ = reading(kb, route=route)
    assert (order.route, order.route_recognised) == (expected, True)


def test_a_code_beats_a_word_that_says_otherwise(kb: KnowledgeBase) -> None:
    route = {"coding": [{"system": SNOMED, "code": "37161004"}], "text": "oral"}
    assert reading(kb, route=route)[0].route == "rectal"


def test_an_unknown_route_is_kept_as_written_and_marked_unread(kb: KnowledgeBase) -> None:
    order, notes = reading(kb, route=coded(SNOMED, "41974700"))
    assert (order.route_recognised, order.product) == (False, "conventional")
    assert any("not recognised; screened as oral" in n for n in notes)


def _screen(kb: KnowledgeBase, **changes: Any) -> list[str]:
    record = read(bundle(weight(60, "kg", on="2026-03-01"), isotretinoin_order(**changes)))
    request = find_isotretinoin_order(record, kb=kb)
    assert request is not None
    snapshot = snapshot_from_bundle(record, kb=kb, order=request)
    order = read_order(request, kb, bundle=record).order
    result = screen_order(snapshot, order, on=_ON, kb=kb)
    return [f"{f.rule_id}:{f.severity.name}" for f in result.findings]


def test_an_unknown_route_does_not_hide_the_refill_check(kb: KnowledgeBase) -> None:
    dispense = {"numberOfRepeatsAllowed": 2, "quantity": quantity(60, "capsule", "{capsule}")}
    found = _screen(kb, route=coded(SNOMED, "41974700"), dispense=dispense)
    assert "REFILLS-NOT-ALLOWED:CRITICAL" in found
    assert "DOSE-UNPARSEABLE:WARNING" in found
    assert "ROUTE-UNSUPPORTED:CRITICAL" not in found


def test_a_rectal_route_is_a_finding_beside_the_supply_check(kb: KnowledgeBase) -> None:
    dispense = {"quantity": quantity(120, "capsule", "{capsule}")}
    found = _screen(kb, route=coded(SNOMED, "37161004"), dispense=dispense)
    assert "ROUTE-UNSUPPORTED:CRITICAL" in found
    assert "SUPPLY-OVER-30-DAYS:CRITICAL" in found


# --- dispense quantity and supply ------------------------------------------------------------
@pytest.mark.parametrize(
    ("duration", "days"),
    [(quantity(30, "days", "d"), 30), (unit(720, "hours", None, None), 30),
     (quantity(4, "wk"), 28), (unit(30, "Days", None, None), 30)],
)  # fmt: skip
def test_supply_in_any_whole_time_unit(kb: KnowledgeBase, duration: Json, days: float) -> None:
    order, _ = reading(kb, dispense={"expectedSupplyDuration": duration})
    assert order.supply_days == pytest.approx(days)


@pytest.mark.parametrize(
    "amount",
    [unit(60, "tabs", "tbl"), unit(60, "cap", "{Capsule}"), quantity(2400, "mg")],
)
def test_the_dispense_quantity_in_capsules(kb: KnowledgeBase, amount: Json) -> None:
    assert reading(kb, dispense={"quantity": amount})[0].quantity == pytest.approx(60)


# --- one regimen, every way of writing it ---------------------------------------------------
DOSES = [
    quantity(40, "mg"),
    unit(1, None, "{pill}"),
    unit(1, "cap", "{Capsule}"),
    unit(1, "tabs", "tbl"),
    unit(1, "capsule", "{capsule}"),
    unit(0.04, "g", "g"),
    unit(1, "capsule", "732937005", SNOMED),
]
TIMINGS: list[Json | None] = [
    {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
    {"repeat": {"frequency": 1, "period": 12, "periodUnit": "h"}},
    {"repeat": {"when": ["MORN", "EVE"]}},
    {"code": coded(GTS, "BID")},
    {"code": coded(SNOMED, "229799001", "Twice a day")},
    None,  # two dosage instructions, one a day each
]
ROUTES = [
    coded(SNOMED, "26643006", "Oral route"),
    coded("http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration", "PO"),
    coded(NCI_META, "C38288", "ORAL"),
    coded("https://standardterms.edqm.eu", "20053000", "Oral use"),
    {"coding": [{"system": CERNER_ROUTES, "code": "318185", "display": "Oral"}]},
    {"text": "by mouth"},
]
QUANTITIES = [
    quantity(60, "capsule", "{capsule}"),
    unit(60, "cap", "{Capsule}"),
    unit(60, "tabs", "tbl"),
    quantity(2400, "mg"),
]
DURATIONS = [quantity(30, "days", "d"), unit(720, "h", "h"), unit(30, "day", None, None)]


@settings(max_examples=80)
@given(
    dose=st.sampled_from(DOSES),
    timing=st.sampled_from(TIMINGS),
    route=st.sampled_from(ROUTES),
    amount=st.sampled_from(QUANTITIES),
    duration=st.sampled_from(DURATIONS),
)
def test_forty_mg_twice_a_day_for_thirty_days_gives_the_same_findings_however_written(
    dose: Json, timing: Json | None, route: Json, amount: Json, duration: Json
) -> None:
    kb = default_knowledge()
    dispense = {"numberOfRepeatsAllowed": 0, "quantity": amount, "expectedSupplyDuration": duration}
    resource = isotretinoin_order(dose=dose, timing=timing, route=route, dispense=dispense)
    if timing is None:
        once = {**resource["dosageInstruction"][0], "timing": {"repeat": {"frequency": 1,
                "period": 1, "periodUnit": "d"}}}  # fmt: skip
        resource["dosageInstruction"] = [once, once]
    record = read(bundle(weight(60, "kg", on="2026-03-01"), resource))
    request = find_isotretinoin_order(record, kb=kb)
    assert request is not None
    order = read_order(request, kb, bundle=record).order
    assert (order.daily_dose_mg, order.times_per_day, order.route) == (80, 2, "oral")
    assert (order.quantity, order.supply_days) == (pytest.approx(60), pytest.approx(30))
    snapshot = snapshot_from_bundle(record, kb=kb, order=request)
    found = [f.rule_id for f in screen_order(snapshot, order, on=_ON, kb=kb).findings]
    assert found == _reference_findings(kb)


def _reference_findings(kb: KnowledgeBase) -> list[str]:
    return [f.split(":")[0] for f in _screen(kb)]


def test_a_frequency_max_below_the_frequency_is_not_read_rather_than_refused(
    kb: KnowledgeBase,
) -> None:
    timing = {"repeat": {"frequency": 3, "frequencyMax": 2, "period": 1, "periodUnit": "d"}}
    order, notes = reading(kb, timing=timing)
    assert order.times_per_day is None
    assert any("frequencyMax below" in n for n in notes)
