"""screen_patient: one patient's raw resources to one result line, as of a date."""

from __future__ import annotations

import json
from datetime import date

from isotrack.clinical.dosing.products import label_doses
from isotrack.knowledge import KnowledgeBase
from isotrack.population import screen_patient
from tests.population.exports import (
    ISOTRETINOIN_40,
    Json,
    condition,
    isotretinoin_order,
    patient,
    weight,
)

ON = date(2024, 8, 6)


def raw(*resources: Json) -> list[bytes]:
    return [json.dumps(r).encode() for r in resources]


def rules(result: dict[str, object]) -> set[str]:
    findings = result["findings"]
    assert isinstance(findings, list)
    return {f["rule_id"] for f in findings}


def test_a_patient_not_on_isotretinoin_is_skipped_unless_every_patient_gets_an_order(
    kb: KnowledgeBase,
) -> None:
    resources = raw(patient("p1"), weight("p1", 60, "2024-08-01", id="w1"))
    assert screen_patient(resources, on=ON, kb=kb) == {
        "patient": "p1",
        "skipped": "not on isotretinoin",
    }
    result = screen_patient(resources, on=ON, kb=kb, order_all=True)
    assert result["on_isotretinoin"] is False
    assert result["order"]["hypothetical"] is True


def test_the_hypothetical_order_is_the_conventional_label_starting_dose_for_the_latest_weight(
    kb: KnowledgeBase,
) -> None:
    resources = raw(
        patient("p1", gender="male"),
        weight("p1", 90, "2024-01-10", id="w-old"),
        weight("p1", 72.5, "2024-08-01", id="w-new"),
    )
    result = screen_patient(resources, on=ON, kb=kb, order_all=True)
    start = next(d for d in label_doses(kb, "conventional", 72.5) if d.level == "usual_min")
    order = result["order"]
    assert order["product"] == "conventional"
    assert order["daily_dose_mg"] == start.daily_mg
    assert order["times_per_day"] == kb.product("conventional").divided_doses
    assert (order["supply_days"], order["repeats"]) == (kb.number("ppp.max_supply_days"), 0)
    assert not {"DOSE-ABOVE-RANGE", "WEIGHT-MISSING", "SUPPLY-OVER-30-DAYS"} & rules(result)
    assert any("72.5 kg" in note for note in result["notes"])


def test_without_a_weight_the_hypothetical_order_says_so_and_weight_missing_fires(
    kb: KnowledgeBase,
) -> None:
    result = screen_patient(raw(patient("p1")), on=ON, kb=kb, order_all=True)
    assert "WEIGHT-MISSING" in rules(result)
    assert "DOSE-UNPARSEABLE" not in rules(result)
    assert any("no weight recorded" in note for note in result["notes"])


def test_a_real_isotretinoin_order_is_screened_and_the_patient_is_on_isotretinoin(
    kb: KnowledgeBase,
) -> None:
    resources = raw(
        patient("p1", gender="male", born="1990-01-01"),
        weight("p1", 80, "2024-08-01", id="w1"),
        isotretinoin_order("p1", "2024-08-05", id="o1"),
    )
    for order_all in (False, True):
        result = screen_patient(resources, on=ON, kb=kb, order_all=order_all)
        assert result["on_isotretinoin"] is True
        assert result["isotretinoin"]["order"] == "o1"
        assert result["order"]["hypothetical"] is False
        assert result["order"]["daily_dose_mg"] == 80


def test_records_dated_after_the_day_are_left_out_and_counted_in_the_notes(
    kb: KnowledgeBase,
) -> None:
    resources = raw(
        patient("p1", gender="male", born="1990-01-01"),
        weight("p1", 80, "2024-08-01", id="w1"),
        weight("p1", 81, "2025-01-01", id="w-future"),
        condition("p1", "35489007", "Depressive disorder", "2026-01-01", id="c-future"),
        isotretinoin_order("p1", "2024-08-05", id="o1"),
    )
    result = screen_patient(resources, on=ON, kb=kb)
    assert "error" not in result
    assert "PSYCH-HISTORY" not in rules(result)
    note = next(n for n in result["notes"] if "left out" in n)
    assert "2 resource(s)" in note
    assert "1 Condition" in note
    assert "1 Observation" in note


def test_an_order_written_after_the_day_does_not_count(kb: KnowledgeBase) -> None:
    resources = raw(patient("p1"), isotretinoin_order("p1", "2024-09-01", id="o-later"))
    assert screen_patient(resources, on=ON, kb=kb)["skipped"] == "not on isotretinoin"


def test_a_deceased_or_unborn_patient_is_not_screened(kb: KnowledgeBase) -> None:
    dead = patient("p1", deceasedDateTime="2020-01-01T00:00:00Z")
    assert screen_patient(raw(dead), on=ON, kb=kb, order_all=True)["skipped"] == "deceased"
    later = patient("p1", deceasedDateTime="2025-01-01T00:00:00Z")
    assert "findings" in screen_patient(raw(later), on=ON, kb=kb, order_all=True)
    unborn = patient("p1", born="2025-01-01")
    assert screen_patient(raw(unborn), on=ON, kb=kb, order_all=True)["skipped"] == (
        "born after the evaluation date"
    )


def test_unreadable_data_gives_an_error_line_naming_what_is_wrong(kb: KnowledgeBase) -> None:
    bad_date = weight("p1", 80, "2024-08-01", id="w1") | {"effectiveDateTime": "yesterday"}
    result = screen_patient(raw(patient("p1"), bad_date), on=ON, kb=kb, order_all=True)
    assert set(result) == {"patient", "error"}
    assert "yesterday" in result["error"]
    wrong_type = patient("p1") | {"birthDate": 1990}
    result = screen_patient(raw(wrong_type), on=ON, kb=kb, order_all=True)
    assert "birthDate" in result["error"]
    assert "error" in screen_patient([b"{not json"], on=ON, kb=kb)


def test_resources_without_their_patient_are_an_error(kb: KnowledgeBase) -> None:
    result = screen_patient(raw(weight("p1", 80, "2024-08-01", id="w1")), on=ON, kb=kb)
    assert "no Patient resource" in result["error"]


def test_an_order_naming_a_medication_resource_is_recognised_through_it(
    kb: KnowledgeBase,
) -> None:
    medication = {"resourceType": "Medication", "id": "m1", "code": ISOTRETINOIN_40}
    order = isotretinoin_order(
        "p1", "2024-08-05", id="o1", medication={"reference": "Medication/m1"}
    )
    with_medication = screen_patient(raw(patient("p1"), order, medication), on=ON, kb=kb)
    assert with_medication["on_isotretinoin"] is True
    without = screen_patient(raw(patient("p1"), order), on=ON, kb=kb)
    assert without["skipped"] == "not on isotretinoin"
