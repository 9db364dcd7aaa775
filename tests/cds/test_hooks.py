"""The hooks: which cards come back, what they hold, and that their suggestions fix the order."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from isotrack import SAFETY_LINE
from isotrack.cds.cards import OVERRIDE_REASON_SYSTEM, RULE_SYSTEM
from isotrack.clinical.codes import RXNORM
from isotrack.knowledge import KnowledgeBase
from tests.cds.conftest import make_app
from tests.cds.hooks import (
    ORDER_SELECT,
    ORDER_SIGN,
    PATIENT_VIEW,
    Json,
    hook_request,
    searchset,
)
from tests.fhir.builders import (
    PATIENT_ID,
    isotretinoin_order,
    medication_request,
    patient,
    quantity,
    weight,
)

AMOXICILLIN = {"coding": [{"system": RXNORM, "code": "308182", "display": "Amoxicillin 250 MG"}]}


def male_prefetch(*observations: Json, medications: list[Json] | None = None) -> Json:
    """A man of 36 weighing 60 kg on 2026-02-20: no pregnancy rules apply."""
    return {
        "patient": patient(gender="male", birth_date="1990-01-01"),
        "medications": searchset(medications or []),
        "conditions": searchset([]),
        "observations": searchset([weight(60, "kg"), *observations]),
        "allergies": searchset([]),
        "procedures": searchset([]),
    }


def post(client: TestClient, service: str, request: Json) -> Any:
    response = client.post(f"/cds-services/{service}", json=request)
    assert response.status_code == 200, response.text
    return response.json()


def rules(answer: Any) -> list[str]:
    return [card["source"]["topic"]["code"] for card in answer["cards"]]


def card_of(answer: Any, rule_id: str) -> Any:
    return next(c for c in answer["cards"] if c["source"]["topic"]["code"] == rule_id)


def test_an_order_without_isotretinoin_gets_no_cards(cds_client: TestClient) -> None:
    order = medication_request(AMOXICILLIN, status="draft")
    request = hook_request(ORDER_SIGN, PATIENT_ID, prefetch=male_prefetch(), orders=[order])
    assert post(cds_client, ORDER_SIGN, request) == {"cards": []}


def test_order_select_screens_only_the_selected_orders(cds_client: TestClient) -> None:
    orders = [isotretinoin_order(id="iso", dose=quantity(60, "mg")), medication_request(
        AMOXICILLIN, id="amox", status="draft")]  # fmt: skip
    picked_other = hook_request(ORDER_SELECT, PATIENT_ID, prefetch=male_prefetch(), orders=orders)
    picked_other["context"]["selections"] = ["MedicationRequest/amox"]
    assert post(cds_client, ORDER_SELECT, picked_other) == {"cards": []}
    picked_isotretinoin = dict(picked_other, context=dict(picked_other["context"]))
    picked_isotretinoin["context"]["selections"] = ["MedicationRequest/iso"]
    assert "DOSE-ABOVE-RANGE" in rules(post(cds_client, ORDER_SELECT, picked_isotretinoin))


def test_cards_are_ordered_by_severity_and_carry_the_contract_fields(
    cds_client: TestClient, kb: KnowledgeBase
) -> None:
    order = isotretinoin_order(dose=quantity(80, "mg"))  # 160 mg/day at 60 kg: critical
    request = hook_request(ORDER_SIGN, PATIENT_ID, prefetch=male_prefetch(), orders=[order])
    answer = post(cds_client, ORDER_SIGN, request)
    indicators = [card["indicator"] for card in answer["cards"]]
    order_of = {"critical": 0, "warning": 1, "info": 2}
    assert indicators == sorted(indicators, key=order_of.__getitem__)
    dose = card_of(answer, "DOSE-ABOVE-RANGE")
    assert dose["indicator"] == "critical"
    assert dose["source"] == {
        "label": "isotrack",
        "topic": {"system": RULE_SYSTEM, "code": "DOSE-ABOVE-RANGE",
                  "display": kb.rule("DOSE-ABOVE-RANGE").title},
    }  # fmt: skip
    assert len(dose["summary"]) <= 140
    assert "60 kg" in dose["detail"]
    assert SAFETY_LINE in dose["detail"]
    assert "**What to do:**" in dose["detail"]
    assert "**Sources:**" in dose["detail"]
    assert dose["selectionBehavior"] == "at-most-one"
    for card in answer["cards"]:
        reasons = card.get("overrideReasons", [])
        if card["indicator"] == "info":
            assert reasons == []
        else:
            assert [r["code"] for r in reasons] == [r.id for r in kb.override_reasons]
            assert {r["system"] for r in reasons} == {OVERRIDE_REASON_SYSTEM}
        assert "links" not in card


def resubmit(client: TestClient, request: Json, resource: Json) -> Any:
    again = dict(request, context=dict(request["context"]))
    again["context"]["draftOrders"] = {"resourceType": "Bundle", "type": "collection",
                                       "entry": [{"resource": resource}]}  # fmt: skip
    return post(client, ORDER_SIGN, again)


def test_the_dose_suggestion_brings_the_dose_inside_the_usual_range(
    cds_client: TestClient,
) -> None:
    order = isotretinoin_order()  # 40 mg twice a day = 80 mg/day = 1.33 mg/kg/day at 60 kg
    request = hook_request(ORDER_SIGN, PATIENT_ID, prefetch=male_prefetch(), orders=[order])
    card = card_of(post(cds_client, ORDER_SIGN, request), "DOSE-ABOVE-RANGE")
    assert card["indicator"] == "warning"
    (suggestion,) = card["suggestions"]
    (action,) = suggestion["actions"]
    assert action["type"] == "update"
    assert action["resource"]["id"] == order["id"]
    assert "60 mg/day" in suggestion["label"]
    assert "DOSE-ABOVE-RANGE" not in rules(resubmit(cds_client, request, action["resource"]))


def test_a_suggested_update_drops_the_null_and_empty_values_of_the_ehrs_draft(
    cds_client: TestClient,
) -> None:
    """CDS Hooks 2.0.1 forbids null and empty values; an update copies the draft."""
    order = {**isotretinoin_order(), "priority": None, "note": [], "groupIdentifier": {}}
    order["dosageInstruction"][0]["text"] = ""
    request = hook_request(ORDER_SIGN, PATIENT_ID, prefetch=male_prefetch(), orders=[order])
    card = card_of(post(cds_client, ORDER_SIGN, request), "DOSE-ABOVE-RANGE")
    resource = card["suggestions"][0]["actions"][0]["resource"]
    assert not {"priority", "note", "groupIdentifier"} & set(resource)
    assert resource["dosageInstruction"][0]["text"]  # isotrack's own dosage text


def test_the_supply_suggestion_removes_refills_and_limits_the_supply(
    cds_client: TestClient,
) -> None:
    order = isotretinoin_order(
        dose=quantity(30, "mg"),
        dispense={"numberOfRepeatsAllowed": 2, "quantity": quantity(180, "capsule", "{capsule}"),
                  "expectedSupplyDuration": quantity(90, "days", "d")},
    )  # fmt: skip
    request = hook_request(ORDER_SIGN, PATIENT_ID, prefetch=male_prefetch(), orders=[order])
    answer = post(cds_client, ORDER_SIGN, request)
    assert {"SUPPLY-OVER-30-DAYS", "REFILLS-NOT-ALLOWED"} <= set(rules(answer))
    action = card_of(answer, "SUPPLY-OVER-30-DAYS")["suggestions"][0]["actions"][0]
    dispense = action["resource"]["dispenseRequest"]
    assert dispense["numberOfRepeatsAllowed"] == 0
    assert dispense["expectedSupplyDuration"]["value"] == 30
    after = rules(resubmit(cds_client, request, action["resource"]))
    assert "SUPPLY-OVER-30-DAYS" not in after
    assert "REFILLS-NOT-ALLOWED" not in after


def test_missing_tests_are_suggested_as_service_requests_with_loinc_codes(
    cds_client: TestClient, kb: KnowledgeBase
) -> None:
    prefetch = male_prefetch()
    prefetch["patient"] = patient(gender="female", birth_date="2000-01-01")
    request = hook_request(ORDER_SIGN, PATIENT_ID, prefetch=prefetch, orders=[isotretinoin_order()])
    answer = post(cds_client, ORDER_SIGN, request)
    test = card_of(answer, "PREG-TEST-REQUIRED")["suggestions"][0]["actions"][0]["resource"]
    assert test["resourceType"] == "ServiceRequest"
    assert test["code"]["coding"][0]["code"] == kb.valueset("pregnancy-test-hcg").codes[0].code
    labs = card_of(answer, "BASELINE-LABS-MISSING")["suggestions"][0]["actions"]
    codes = {a["resource"]["code"]["coding"][0]["code"] for a in labs}
    assert codes == {kb.valueset("lab-triglycerides").codes[0].code,
                     kb.valueset("lab-alt").codes[0].code}  # fmt: skip


def test_record_text_cannot_inject_markdown_into_a_card(cds_client: TestClient) -> None:
    order = isotretinoin_order(dose=quantity(80, "mg"))
    order["medicationCodeableConcept"] = {"text": "Isotretinoin 40 MG ![x](https://evil.example)"}
    request = hook_request(ORDER_SIGN, PATIENT_ID, prefetch=male_prefetch(), orders=[order])
    details = " ".join(c["detail"] for c in post(cds_client, ORDER_SIGN, request)["cards"])
    assert "![x](https://evil.example)" not in details
    assert "\\!\\[x\\](https://evil.example)" in details  # shown as text, not an image


def test_the_evaluation_date_extension_replaces_the_clock(cds_client: TestClient) -> None:
    order = isotretinoin_order()
    late = hook_request(ORDER_SIGN, PATIENT_ID, prefetch=male_prefetch(), orders=[order],
                        on=date(2026, 6, 1))  # fmt: skip
    assert "WEIGHT-MISSING" in rules(post(cds_client, ORDER_SIGN, late))
    today = hook_request(ORDER_SIGN, PATIENT_ID, prefetch=male_prefetch(), orders=[order])
    assert "WEIGHT-MISSING" not in rules(post(cds_client, ORDER_SIGN, today))


def test_a_missing_prefetch_key_without_a_fhir_server_is_a_data_missing_card(
    cds_client: TestClient,
) -> None:
    prefetch = male_prefetch()
    del prefetch["observations"]
    prefetch["allergies"] = None
    request = hook_request(ORDER_SIGN, PATIENT_ID, prefetch=prefetch, orders=[isotretinoin_order()])
    card = card_of(post(cds_client, ORDER_SIGN, request), "DATA-MISSING")
    assert card["indicator"] == "info"
    assert "observations" in card["summary"]
    assert "allergies" in card["detail"]
    assert "no fhirServer" in card["detail"]


def active_order(start: str) -> Json:
    order = isotretinoin_order(id="course-1", status="active", authored=start)
    return order


def test_patient_view_assesses_a_patient_on_isotretinoin(cds_client: TestClient) -> None:
    prefetch = male_prefetch(medications=[active_order("2026-02-20")])
    answer = post(
        cds_client, PATIENT_VIEW, hook_request(PATIENT_VIEW, PATIENT_ID, prefetch=prefetch)
    )
    assert answer["cards"], "an active course has reminders"
    assert all(card["source"]["topic"]["system"] == RULE_SYSTEM for card in answer["cards"])


def test_patient_view_is_silent_a_year_after_the_last_course(cds_client: TestClient) -> None:
    prefetch = male_prefetch(medications=[active_order("2024-06-01")])
    request = hook_request(PATIENT_VIEW, PATIENT_ID, prefetch=prefetch)
    assert post(cds_client, PATIENT_VIEW, request) == {"cards": []}
    never = hook_request(PATIENT_VIEW, PATIENT_ID, prefetch=male_prefetch())
    assert post(cds_client, PATIENT_VIEW, never) == {"cards": []}


def test_patient_view_without_medications_is_a_412_rather_than_silence(
    cds_client: TestClient,
) -> None:
    prefetch = male_prefetch()
    del prefetch["medications"]
    response = cds_client.post(
        f"/cds-services/{PATIENT_VIEW}",
        json=hook_request(PATIENT_VIEW, PATIENT_ID, prefetch=prefetch),
    )
    assert response.status_code == 412, response.text
    problem = response.json()
    assert problem["code"] == "precondition-failed"
    assert problem["field"] == "prefetch.medications"
    assert "medications (not in the prefetch" in problem["detail"]


@pytest.mark.parametrize("configured", [True, False])
def test_cards_link_to_the_smart_app_only_when_its_url_is_configured(
    cds_engine: Engine, kb: KnowledgeBase, configured: bool
) -> None:
    url = "https://isotrack.example.org/smart/launch"
    app: FastAPI = make_app(cds_engine, kb, cds_smart_app_url=url if configured else None)
    request = hook_request(ORDER_SIGN, PATIENT_ID, prefetch=male_prefetch(),
                           orders=[isotretinoin_order(id="draft-iso")])  # fmt: skip
    with TestClient(app) as client:
        cards = post(client, ORDER_SIGN, request)["cards"]
    links = [card.get("links") for card in cards]
    if configured:  # appContext: the EHR patient and the draft order (test_smart_links.py)
        context = json.dumps({"patient": PATIENT_ID, "order": "MedicationRequest/draft-iso"},
                             separators=(",", ":"))  # fmt: skip
        assert all(link == [{"label": link[0]["label"], "url": url, "type": "smart",
                             "appContext": context}] for link in links)  # fmt: skip
    else:
        assert links == [None] * len(cards)


def test_every_response_says_the_service_runs_unsigned(cds_client: TestClient) -> None:
    assert cds_client.get("/cds-services").headers["x-isotrack-unsigned"] == "true"
    missing = cds_client.post("/cds-services/nope", json={})
    assert missing.status_code == 404
    assert missing.headers["x-isotrack-unsigned"] == "true"
    assert "x-isotrack-unsigned" not in cds_client.get("/health").headers


def test_without_unsigned_mode_a_hook_without_a_token_is_a_401_and_discovery_stays_open(
    cds_engine: Engine, kb: KnowledgeBase
) -> None:
    app = make_app(cds_engine, kb, cds_allow_unsigned=False)
    request = hook_request(ORDER_SIGN, PATIENT_ID, prefetch=male_prefetch(),
                           orders=[isotretinoin_order()])  # fmt: skip
    with TestClient(app) as client:
        assert client.get("/cds-services").status_code == 200
        for url in (f"/cds-services/{ORDER_SIGN}", f"/cds-services/{ORDER_SIGN}/feedback"):
            response = client.post(url, json=request)
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert "x-isotrack-unsigned" not in response.headers


ISOTRETINOIN_10 = {
    "coding": [{"system": RXNORM, "code": "197843", "display": "Isotretinoin 10 MG Oral Capsule"}],
    "text": "Isotretinoin 10 MG Oral Capsule",
}


def test_an_untakeable_dose_is_refused_with_takeable_regimens_to_choose_from(
    cds_client: TestClient,
) -> None:
    """27.5 mg twice a day from 10 mg capsules (the issue 13 bug): no whole number of
    10 mg capsules makes 27.5 mg, so the order cannot be taken as written."""
    order = isotretinoin_order(
        medication=ISOTRETINOIN_10,
        dose=quantity(27.5, "mg"),
        dispense={
            "numberOfRepeatsAllowed": 0,
            "quantity": quantity(165, "capsule", "{capsule}"),
            "expectedSupplyDuration": quantity(30, "days", "d"),
        },
    )
    request = hook_request(ORDER_SIGN, PATIENT_ID, prefetch=male_prefetch(), orders=[order])
    card = card_of(post(cds_client, ORDER_SIGN, request), "DOSE-NOT-TAKEABLE")
    assert card["indicator"] == "critical"
    assert "27.5 mg" in card["summary"]
    assert "10 mg capsules" in card["summary"]
    labels = [s["label"] for s in card["suggestions"]]
    assert labels[0].startswith("Prescribe morning 30 mg (1 × 30 mg), evening 25 mg (1 × 25 mg)")
    assert any("(3 × 10 mg)" in label and "(2 × 10 mg)" in label for label in labels)
    for suggestion in card["suggestions"]:
        (action,) = suggestion["actions"]
        resource = action["resource"]
        assert action["type"] == "update"
        assert resource["id"] == order["id"]
        assert [d["timing"]["repeat"]["when"] for d in resource["dosageInstruction"]] == [
            ["MORN"],
            ["EVE"],
        ]
        again = rules(resubmit(cds_client, request, resource))
        assert "DOSE-NOT-TAKEABLE" not in again
        assert "DOSE-ABOVE-RANGE" not in again  # 60 kg: the nearest stay in the usual range


def test_a_split_dose_the_capsules_make_passes(cds_client: TestClient) -> None:
    morning = isotretinoin_order(medication=ISOTRETINOIN_10, dose=quantity(30, "mg"))
    evening = {**morning["dosageInstruction"][0]}
    evening["doseAndRate"] = [{"doseQuantity": quantity(20, "mg")}]
    morning["dosageInstruction"].append(evening)
    for dosage in morning["dosageInstruction"]:
        dosage["timing"] = {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}
    request = hook_request(ORDER_SIGN, PATIENT_ID, prefetch=male_prefetch(), orders=[morning])
    assert "DOSE-NOT-TAKEABLE" not in rules(post(cds_client, ORDER_SIGN, request))
