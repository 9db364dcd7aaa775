"""Body weights in every unit EHRs send, and PHQ-9 scores in every form."""

from __future__ import annotations

from typing import Any

import pytest

from isotrack.cds.discovery import observation_codes
from isotrack.clinical.codes import LOINC
from isotrack.clinical.snapshot import PatientSnapshot
from isotrack.fhir import snapshot_from_bundle
from isotrack.knowledge import KnowledgeBase
from tests.fhir.builders import bundle, concept, observation, quantity, read

UCUM = "http://unitsofmeasure.org"


def snap(kb: KnowledgeBase, *resources: dict[str, Any]) -> PatientSnapshot:
    return snapshot_from_bundle(read(bundle(*resources)), kb=kb)


# --- weights -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "quantity_json"),
    [
        (70.5, {"unit": "kg", "system": UCUM, "code": "kg"}),
        (70.5, {"unit": "Kg"}),
        (70.5, {"unit": "kilograms"}),
        (70500, {"unit": "g", "system": UCUM, "code": "g"}),
        (155.4259, {"unit": "lb", "system": UCUM, "code": "[lb_av]"}),
        (155.4259, {"unit": "lbs"}),
        (155.4259, {"unit": "pounds"}),
        (2486.81, {"unit": "oz", "system": UCUM, "code": "[oz_av]"}),
        (2486.81, {"unit": "ounces"}),
    ],
)
def test_a_weight_enters_in_kg_from_every_unit(
    kb: KnowledgeBase, value: float, quantity_json: dict[str, str]
) -> None:
    measured = observation(
        "29463-7", "Body weight", valueQuantity={"value": value, **quantity_json}
    )
    (recorded,) = snap(kb, measured).weights
    assert recorded.kg == pytest.approx(70.5, abs=0.001)


@pytest.mark.parametrize("code", ["29463-7", "3141-9", "8350-1", "8351-9"])
def test_each_measured_body_weight_code_is_a_weight(kb: KnowledgeBase, code: str) -> None:
    (recorded,) = snap(kb, observation(code, "weight", valueQuantity=quantity(70, "kg"))).weights
    assert recorded.kg == 70


@pytest.mark.parametrize("code", ["3142-7", "8335-2"])
def test_a_stated_or_estimated_weight_is_not_a_measured_weight(
    kb: KnowledgeBase, code: str
) -> None:
    assert snap(kb, observation(code, "weight", valueQuantity=quantity(70, "kg"))).weights == ()


# --- PHQ-9 -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        {"valueInteger": 12},
        {"valueQuantity": {"value": 12, "unit": "{score}", "system": UCUM, "code": "{score}"}},
        {"valueQuantity": {"value": 12}},
        {"valueQuantity": {"value": 12, "unit": "score"}},
        {"valueString": "12"},
        {"valueString": " 12 "},
    ],
)
def test_a_phq9_total_is_read_from_every_value_form(
    kb: KnowledgeBase, value: dict[str, Any]
) -> None:
    (screen,) = snap(kb, observation("44261-6", "PHQ-9 total", **value)).mood_screens
    assert screen.phq9_total == 12


@pytest.mark.parametrize(
    "value",
    [
        {"valueString": "twelve"},
        {"valueString": "12.5"},
        {"valueQuantity": {"value": 12, "unit": "kg"}},
    ],
)
def test_a_phq9_total_that_is_no_whole_score_is_ignored_with_a_note(
    kb: KnowledgeBase, value: dict[str, Any]
) -> None:
    snapshot = snap(kb, observation("44261-6", "PHQ-9 total", **value))
    assert snapshot.mood_screens == ()
    assert any("PHQ-9 total" in n for n in snapshot.notes)


@pytest.mark.parametrize(
    ("answer", "score"),
    [("LA6568-5", 0), ("LA6569-3", 1), ("LA6570-1", 2), ("LA6571-9", 3)],
)
def test_item9_is_scored_from_its_loinc_answer(kb: KnowledgeBase, answer: str, score: int) -> None:
    panel = observation(
        "44249-1",
        "PHQ-9 panel",
        component=[
            {"code": concept(LOINC, "44261-6", "total"), "valueInteger": 14},
            {
                "code": concept(LOINC, "44260-8", "item 9"),
                "valueCodeableConcept": concept(LOINC, answer, "a"),
            },
        ],
    )
    (screen,) = snap(kb, panel).mood_screens
    assert (screen.phq9_total, screen.item9) == (14, score)


def test_two_totals_on_one_day_keep_the_higher_with_a_note(kb: KnowledgeBase) -> None:
    low = observation("44261-6", "PHQ-9 total", id="a", valueInteger=4)
    high = observation("44261-6", "PHQ-9 total", id="b", valueInteger=15)
    snapshot = snap(kb, high, low)
    assert [m.phq9_total for m in snapshot.mood_screens] == [15]
    assert any("the higher, 15, is kept" in n for n in snapshot.notes)


def test_a_cds_prefetch_asks_for_the_phq9_panel_and_every_lab_variant(kb: KnowledgeBase) -> None:
    asked = set(observation_codes(kb))
    wanted = {"44249-1", "44261-6", "44260-8", "1743-4", "30239-8", "14927-8", "2345-7", "3141-9"}
    assert {f"{LOINC}|{code}" for code in wanted} <= asked
