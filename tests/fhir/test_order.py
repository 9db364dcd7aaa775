from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isotrack.clinical.codes import RXNORM, SNOMED
from isotrack.errors import FhirDecodeError
from isotrack.fhir import (
    find_isotretinoin_order,
    order_from_medication_request,
    read_order,
)
from isotrack.fhir.resources import MedicationRequest
from isotrack.knowledge import KnowledgeBase, default_knowledge
from tests.fhir.builders import (
    Json,
    bundle,
    concept,
    isotretinoin_order,
    medication_request,
    quantity,
    read,
)

DOXYCYCLINE = concept(RXNORM, "1652673", "Doxycycline Monohydrate 50 MG Oral Tablet")
CAPSULE = quantity(1, "capsule", "{capsule}")


def request_of(resource: Json) -> MedicationRequest:
    return read(bundle(resource, with_patient=False)).of_type(MedicationRequest)[0]


def reading(kb: KnowledgeBase, **changes: Any) -> tuple[Any, tuple[str, ...]]:
    result = read_order(request_of(isotretinoin_order(**changes)), kb)
    return result.order, result.notes


# --- finding the order ---------------------------------------------------------------
def test_the_latest_draft_or_active_isotretinoin_order_is_under_review(kb: KnowledgeBase) -> None:
    record = read(
        bundle(
            isotretinoin_order(id="old", status="active", authored="2026-01-02"),
            isotretinoin_order(id="new", status="draft", authored="2026-03-01"),
            isotretinoin_order(id="done", status="completed", authored="2026-03-05"),
            isotretinoin_order(id="plan-only", status="active", intent="reflex-order"),
            medication_request(DOXYCYCLINE, id="doxy", status="draft", authored="2026-03-06"),
        )
    )
    found = find_isotretinoin_order(record, kb=kb)
    assert found is not None
    assert found.id == "new"


def test_an_order_without_authored_on_is_the_one_being_written(kb: KnowledgeBase) -> None:
    record = read(
        bundle(
            isotretinoin_order(id="dated", authored="2026-03-01"),
            isotretinoin_order(id="undated", authored=None),
        )
    )
    found = find_isotretinoin_order(record, kb=kb)
    assert found is not None
    assert found.id == "undated"


def test_no_isotretinoin_order_gives_none(kb: KnowledgeBase) -> None:
    record = read(bundle(medication_request(DOXYCYCLINE)))
    assert find_isotretinoin_order(record, kb=kb) is None


# --- dose and frequency --------------------------------------------------------------
def test_the_standard_order_reads_completely(kb: KnowledgeBase) -> None:
    order, _ = reading(kb, medication=_coded_only())
    assert (order.dose_mg, order.times_per_day, order.daily_dose_mg) == (40, 2, 80)
    assert (order.quantity, order.supply_days, order.repeats) == (60, 30, 0)
    assert (order.route, order.source) == ("oral", "MedicationRequest/order-1")


def test_a_dose_in_capsules_is_multiplied_by_the_strength_in_the_name(kb: KnowledgeBase) -> None:
    order, _ = reading(kb, dose=CAPSULE)
    assert (order.strength_mg, order.dose_mg) == (40, 40)


def test_a_dose_in_grams_is_converted_to_mg(kb: KnowledgeBase) -> None:
    order, _ = reading(kb, dose=quantity(0.04, "g"))
    assert order.dose_mg == pytest.approx(40)


@pytest.mark.parametrize(
    ("dose", "why"),
    [
        ({"value": 1}, "has no unit"),
        (quantity(2, "mL"), "cannot be converted to mg"),
        (quantity(1, "patch", "{patch}"), "cannot be converted to mg"),
        (quantity(0, "mg"), "not above 0"),
    ],
)
def test_an_unreadable_dose_stays_unknown_with_a_note(
    kb: KnowledgeBase, dose: Json, why: str
) -> None:
    order, notes = reading(kb, dose=dose)
    assert order.dose_mg is None
    assert any(why in n for n in notes)


def test_capsules_without_a_known_strength_stay_unknown(kb: KnowledgeBase) -> None:
    order, notes = reading(kb, dose=CAPSULE, medication={"text": "isotretinoin capsules"})
    assert order.dose_mg is None
    assert any("strength is unknown" in n for n in notes)


def test_a_dose_range_is_read_at_its_top_with_a_note(kb: KnowledgeBase) -> None:
    resource = isotretinoin_order()
    resource["dosageInstruction"][0]["doseAndRate"] = [
        {"doseRange": {"low": quantity(20, "mg"), "high": quantity(40, "mg")}}
    ]
    result = read_order(request_of(resource), kb)
    assert (result.order.dose_mg, result.order.lowest_daily_mg) == (40, 40)
    assert any("checked at the top" in n for n in result.notes)


@pytest.mark.parametrize(
    ("timing", "expected"),
    [
        ({"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}}, 2),
        ({"repeat": {"frequency": 1, "period": 12, "periodUnit": "h"}}, 2),
        ({"repeat": {"period": 1, "periodUnit": "d"}}, 1),
        ({"repeat": {"frequency": 14, "period": 1, "periodUnit": "wk"}}, 2),
        ({"repeat": {"when": ["MORN", "EVE"]}}, 2),
        ({"code": {"coding": [{"code": "BID"}]}}, 2),
        ({"repeat": {"frequency": 1, "period": 2, "periodUnit": "d"}}, None),
        ({"repeat": {"frequency": 1, "frequencyMax": 2, "period": 1, "periodUnit": "d"}}, 2),
        ({"repeat": {"frequency": 1, "period": 1, "periodUnit": "mo"}}, None),
    ],
)
def test_times_per_day_is_read_from_the_timing(
    kb: KnowledgeBase, timing: Json, expected: int | None
) -> None:
    order, _ = reading(kb, timing=timing)
    assert order.times_per_day == expected


@given(
    frequency=st.integers(min_value=1, max_value=6), hours=st.integers(min_value=1, max_value=48)
)
def test_doses_per_day_from_hours_is_a_whole_frequency_times_24_over_period(
    frequency: int, hours: int
) -> None:
    timing = {"repeat": {"frequency": frequency, "period": hours, "periodUnit": "h"}}
    order, _ = reading(default_knowledge(), timing=timing)
    per_day = Fraction(frequency * 24, hours)
    expected = int(per_day) if per_day.denominator == 1 and per_day >= 1 else None
    assert order.times_per_day == expected


def test_two_dosage_instructions_with_the_same_dose_add_their_frequencies(
    kb: KnowledgeBase,
) -> None:
    resource = isotretinoin_order(timing={"repeat": {"when": ["MORN"]}})
    resource["dosageInstruction"].append(resource["dosageInstruction"][0])
    order = order_from_medication_request(request_of(resource), kb)
    assert (order.dose_mg, order.times_per_day) == (40, 2)


def test_two_dosage_instructions_with_different_doses_add_up(kb: KnowledgeBase) -> None:
    resource = isotretinoin_order(timing={"repeat": {"when": ["MORN"]}})
    evening = {
        **resource["dosageInstruction"][0],
        "doseAndRate": [{"doseQuantity": quantity(20, "mg")}],
    }
    resource["dosageInstruction"].append(evening)
    result = read_order(request_of(resource), kb)
    assert (result.order.doses_mg, result.order.times_per_day) == ((40, 20), 2)
    assert result.order.daily_dose_mg == 60
    assert any("read as one day" in n for n in result.notes)


def test_an_order_without_dosage_is_unreadable(kb: KnowledgeBase) -> None:
    resource = isotretinoin_order()
    del resource["dosageInstruction"]
    result = read_order(request_of(resource), kb)
    assert (result.order.dose_mg, result.order.times_per_day) == (None, None)


# --- product, route, dispense --------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "product"),
    [
        ("Absorica LD 32 MG Oral Capsule", "absorica-ld"),
        ("Absorica 40 MG Oral Capsule", "absorica"),
        ("Claravis 40 MG Oral Capsule", "conventional"),
    ],
)
def test_the_product_is_identified_most_specific_first(
    kb: KnowledgeBase, name: str, product: str
) -> None:
    order, _ = reading(kb, medication={"text": name})
    assert (order.product, order.product_by_text) == (product, True)


def test_an_unbranded_isotretinoin_is_screened_as_conventional_with_a_note(
    kb: KnowledgeBase,
) -> None:
    result = read_order(request_of(isotretinoin_order(medication=_coded_only())), kb)
    assert (result.order.product, result.order.product_by_text) == ("conventional", False)
    assert result.product_assumed
    assert any("screened as conventional capsules" in n for n in result.notes)


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        (concept(SNOMED, "37161004", "Rectal route"), "rectal"),
        (concept(SNOMED, "6064005", "Topical route"), "topical"),
        ({"text": "By mouth"}, "oral"),
        ({"text": "Sublingual"}, "sublingual"),
    ],
)
def test_the_route_is_read_from_code_or_text(kb: KnowledgeBase, route: Json, expected: str) -> None:
    order, _ = reading(kb, route=route)
    assert order.route == expected


def test_a_route_that_is_not_stated_stays_unknown(kb: KnowledgeBase) -> None:
    resource = isotretinoin_order()
    del resource["dosageInstruction"][0]["route"]
    assert order_from_medication_request(request_of(resource), kb).route is None


def test_supply_in_weeks_is_converted_and_months_are_not_guessed(kb: KnowledgeBase) -> None:
    weeks = {"expectedSupplyDuration": quantity(4, "wk")}
    assert reading(kb, dispense=weeks)[0].supply_days == 28
    order, notes = reading(kb, dispense={"expectedSupplyDuration": quantity(1, "mo")})
    assert order.supply_days is None
    assert any("supply duration" in n for n in notes)


def test_a_dispense_quantity_in_mg_is_counted_in_capsules(kb: KnowledgeBase) -> None:
    order, _ = reading(kb, dispense={"quantity": quantity(2400, "mg")})
    assert order.quantity == 60


def test_repeats_are_read_and_absent_ones_stay_unknown(kb: KnowledgeBase) -> None:
    assert reading(kb, dispense={"numberOfRepeatsAllowed": 2})[0].repeats == 2
    assert reading(kb, dispense={"quantity": quantity(60, "{capsule}")})[0].repeats is None


def test_an_impossible_quantity_is_refused_naming_the_order(kb: KnowledgeBase) -> None:
    with pytest.raises(FhirDecodeError, match="MedicationRequest/order-1"):
        reading(kb, dispense={"quantity": quantity(0, "{capsule}")})


# --- medication by reference -----------------------------------------------------------
def test_a_referenced_medication_gives_the_concept_and_the_strength(kb: KnowledgeBase) -> None:
    medication = {
        "resourceType": "Medication",
        "id": "absorica-ld",
        "code": {"text": "Absorica LD"},
        "ingredient": [
            {
                "itemCodeableConcept": {"text": "isotretinoin"},
                "strength": {
                    "numerator": quantity(32, "mg"),
                    "denominator": quantity(1, "capsule", "{capsule}"),
                },
            }
        ],
    }
    resource = isotretinoin_order(dose=CAPSULE)
    del resource["medicationCodeableConcept"]
    resource["medicationReference"] = {"reference": "Medication/absorica-ld"}
    record = read(bundle(medication, resource))
    request = find_isotretinoin_order(record, kb=kb)
    assert request is not None
    order = order_from_medication_request(request, kb, bundle=record)
    assert (order.product, order.strength_mg, order.dose_mg) == ("absorica-ld", 32, 32)


def test_a_contained_medication_is_resolved(kb: KnowledgeBase) -> None:
    resource = isotretinoin_order(dose=CAPSULE)
    del resource["medicationCodeableConcept"]
    resource["contained"] = [
        {"resourceType": "Medication", "id": "m", "code": {"text": "Absorica 20 MG Oral Capsule"}}
    ]
    resource["medicationReference"] = {"reference": "#m"}
    order = order_from_medication_request(request_of(resource), kb)
    assert (order.product, order.dose_mg) == ("absorica", 20)


def _coded_only() -> Json:
    """Isotretinoin 40 mg capsules by RxNorm code alone (no brand in any name)."""
    return {"coding": [{"system": RXNORM, "code": "197845"}]}
