"""SUPPLY-ON-HAND through CDS Hooks order-sign: an isotretinoin MedicationDispense
in the prefetch (e.g. ``MedicationRequest?patient=…&_revinclude=MedicationDispense:prescription``)
counts as supply on hand; one without ``daysSupply`` is a finding, not a pass."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from tests.cds.hooks import ORDER_SIGN, Json, hook_request
from tests.cds.test_hooks import card_of, male_prefetch, post, rules
from tests.fhir.builders import ISOTRETINOIN_40, PATIENT_ID, isotretinoin_order, quantity

ON = date(2026, 3, 2)


def dispense(handed_over: str, days: float | None = 30, **extra: Any) -> Json:
    resource: Json = {
        "resourceType": "MedicationDispense",
        "id": f"md-{handed_over}",
        "status": "completed",
        "medicationCodeableConcept": ISOTRETINOIN_40,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "quantity": quantity(60, "capsule", "{capsule}"),
        "whenHandedOver": handed_over,
        **extra,
    }
    if days is not None:
        resource["daysSupply"] = quantity(days, "day", "d")
    return resource


def sign(client: TestClient, *dispenses: Json) -> Any:
    prefetch = male_prefetch(medications=list(dispenses))
    request = hook_request(
        ORDER_SIGN, PATIENT_ID, prefetch=prefetch, orders=[isotretinoin_order()], on=ON
    )
    return post(client, ORDER_SIGN, request)


def test_a_second_supply_ten_days_after_the_first_is_a_warning_card(
    cds_client: TestClient,
) -> None:
    card = card_of(sign(cds_client, dispense("2026-02-20")), "SUPPLY-ON-HAND")
    assert card["indicator"] == "warning"
    assert "20 days left" in card["summary"]
    assert card["overrideReasons"]


def test_a_supply_used_up_gives_no_card(cds_client: TestClient) -> None:
    assert "SUPPLY-ON-HAND" not in rules(sign(cds_client, dispense("2026-01-31")))


def test_a_dispense_without_days_supplied_is_a_card_not_a_pass(cds_client: TestClient) -> None:
    card = card_of(sign(cds_client, dispense("2026-02-20", days=None)), "SUPPLY-ON-HAND")
    assert "unknown" in card["summary"]


def test_a_cancelled_dispense_is_no_supply(cds_client: TestClient) -> None:
    cancelled = dispense("2026-02-25", status="cancelled")
    assert "SUPPLY-ON-HAND" not in rules(sign(cds_client, cancelled))
