"""Draft orders isotrack cannot read get a card saying so; orders it reads and that are not
isotretinoin, and other kinds of order, get no card."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from isotrack.clinical.codes import RXNORM
from tests.cds.hooks import ORDER_SELECT, ORDER_SIGN, Json, codes, hook_request, searchset
from tests.fhir.builders import PATIENT_ID, SUBJECT, isotretinoin_order, patient, weight

ISOTRETINOIN = {"system": RXNORM, "code": "197845", "display": "Isotretinoin 40 MG Oral Capsule"}
AMOXICILLIN = {"system": RXNORM, "code": "308182", "display": "Amoxicillin 250 MG Oral Capsule"}
COULD_NOT_READ = "could not be read, so isotrack did not check it"


def prefetch() -> Json:
    searches = {key: searchset([]) for key in ("medications", "conditions", "allergies",
                                               "procedures")}  # fmt: skip
    return {"patient": patient(gender="male", birth_date="1990-01-01"),
            "observations": searchset([weight(60, "kg")]), **searches}  # fmt: skip


def r4_order(**changes: Any) -> Json:
    order = isotretinoin_order()
    order.pop("medicationCodeableConcept")
    order.update(changes)
    return order


def answer(client: TestClient, *orders: Json, service: str = ORDER_SIGN, **extra: Any) -> Any:
    request = hook_request(service, PATIENT_ID, prefetch=prefetch(), orders=list(orders), **extra)
    response = client.post(f"/cds-services/{service}", json=request)
    assert response.status_code == 200, response.text
    return response.json()["cards"]


R5_ISOTRETINOIN = r4_order(medication={"concept": {"coding": [ISOTRETINOIN]}})
"""An R5 MedicationRequest: the medication is a CodeableReference."""


def test_an_r5_isotretinoin_order_is_screened_as_the_same_order_written_in_r4(
    cds_client: TestClient,
) -> None:
    cards = answer(cds_client, R5_ISOTRETINOIN)
    assert cards
    assert codes(cards) == codes(answer(cds_client, isotretinoin_order()))


@pytest.mark.parametrize(
    ("order", "why"),
    [
        (r4_order(), "has no medicationCodeableConcept or medicationReference"),
        (r4_order(medicationReference={"reference": "Medication/absent"}),
         "medicationReference Medication/absent is neither in the request nor named"),
        (r4_order(medicationCodeableConcept={"coding": [{"system": RXNORM}]}),
         "has no medicationCodeableConcept or medicationReference"),
    ],
    ids=["no-medication", "unresolved-reference", "coding-without-code"],
)  # fmt: skip
def test_a_medication_request_whose_medication_cannot_be_read_gets_a_card(
    cds_client: TestClient, order: Json, why: str
) -> None:
    (card,) = answer(cds_client, order)
    assert card["source"]["topic"]["code"] == "DATA-MISSING"
    assert card["summary"] == f"A draft order {COULD_NOT_READ}"
    assert "MedicationRequest/order-1" in card["detail"]
    assert why in card["detail"]


def test_an_order_of_another_resource_type_naming_isotretinoin_gets_a_card(
    cds_client: TestClient,
) -> None:
    dstu2 = {
        "resourceType": "MedicationOrder",
        "id": "mo-1",
        "status": "draft",
        "patient": SUBJECT,
        "medicationCodeableConcept": {"text": "Absorica 40 mg"},
    }
    (card,) = answer(cds_client, dstu2)
    assert card["summary"] == f"A draft isotretinoin order {COULD_NOT_READ}"
    assert "MedicationOrder/mo-1: it names isotretinoin" in card["detail"]


def test_an_entry_that_is_not_valid_r4_is_set_aside_not_refused(cds_client: TestClient) -> None:
    broken = {**isotretinoin_order(), "dosageInstruction": [{"doseAndRate": {"doseQuantity": {}}}]}
    (card,) = answer(cds_client, broken)
    assert card["summary"] == f"A draft isotretinoin order {COULD_NOT_READ}"
    assert "it is not valid R4" in card["detail"]


@pytest.mark.parametrize(
    "order",
    [
        isotretinoin_order(medication={"coding": [AMOXICILLIN]}),
        r4_order(medicationReference={"reference": "Medication/x", "display": "Amoxicillin"}),
        {"resourceType": "NutritionOrder", "id": "diet", "status": "draft", "patient": SUBJECT},
        {"resourceType": "ServiceRequest", "id": "sr", "status": "draft", "intent": "order",
         "subject": SUBJECT, "code": {"text": "Lipid panel"},
         "note": [{"text": "patient asks about isotretinoin"}]},
        {**isotretinoin_order(medication={"coding": [AMOXICILLIN]}),
         "dosageInstruction": [{"doseAndRate": {}}]},
    ],
    ids=["amoxicillin", "named-reference", "diet", "lab-with-a-note", "invalid-amoxicillin"],
)  # fmt: skip
def test_orders_that_are_read_and_not_isotretinoin_get_no_card(
    cds_client: TestClient, order: Json
) -> None:
    assert answer(cds_client, order) == []


def test_order_select_looks_only_at_the_selected_orders(cds_client: TestClient) -> None:
    unreadable = r4_order(id="unknown")
    amoxicillin = isotretinoin_order(id="amox", medication={"coding": [AMOXICILLIN]})
    picked = {"selections": ["MedicationRequest/amox"]}
    request = hook_request(ORDER_SELECT, PATIENT_ID, prefetch=prefetch(),
                           orders=[unreadable, amoxicillin])  # fmt: skip
    request["context"].update(picked)
    response = cds_client.post(f"/cds-services/{ORDER_SELECT}", json=request)
    assert response.json() == {"cards": []}
    request["context"]["selections"] = ["MedicationRequest/unknown"]
    response = cds_client.post(f"/cds-services/{ORDER_SELECT}", json=request)
    assert codes(response.json()["cards"]) == ["DATA-MISSING"]


def test_an_unreadable_order_beside_the_isotretinoin_order_is_named_among_the_missing_data(
    cds_client: TestClient,
) -> None:
    cards = answer(cds_client, isotretinoin_order(), r4_order(id="other"))
    assert "DATA-MISSING" in codes(cards)
    missing = next(c for c in cards if c["source"]["topic"]["code"] == "DATA-MISSING")
    assert (
        "draft order MedicationRequest/other (its medication could not be read"
        in (missing["detail"])
    )
    assert len(cards) > 1  # the isotretinoin order was screened as well


def test_an_unreadable_order_needs_no_prefetch_to_be_answered(cds_client: TestClient) -> None:
    request = hook_request(ORDER_SIGN, PATIENT_ID, orders=[R5_ISOTRETINOIN])
    response = cds_client.post(f"/cds-services/{ORDER_SIGN}", json=request)
    assert response.status_code in (200, 412)  # 412 once isotrack reads R5: it needs the Patient
    if response.status_code == 200:
        assert codes(response.json()["cards"]) == ["DATA-MISSING"]
