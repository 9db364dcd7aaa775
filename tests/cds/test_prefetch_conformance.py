"""CDS Hooks 2.0.1 on prefetch: a null key is "no data" (read from fhirServer when there is
one), an OperationOutcome is an EHR-side error shown on a DATA-MISSING card (never a 4xx),
and data a hook cannot answer without is a 412 naming it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isotrack.cds.cards import escape_markdown
from isotrack.cds.outcomes import MAX_MESSAGE_CHARS, one_line
from tests.cds.hooks import (
    ORDER_SIGN,
    PATIENT_VIEW,
    Json,
    cards_of,
    codes,
    data_missing,
    hook_request,
    searchset,
)
from tests.fhir.builders import PATIENT_ID, isotretinoin_order, patient, quantity, weight

SERVER = "https://ehr.example.org/fhir"
KEYS = ("medications", "conditions", "observations", "allergies", "procedures")
Handler = Callable[[httpx.Request], httpx.Response]


def man() -> Json:
    return patient(gender="male", birth_date="1990-01-01")


def full_prefetch(**changes: Any) -> Json:
    """A man of 36 weighing 60 kg, every key filled; ``changes`` replace keys (None: drop)."""
    prefetch: Json = {"patient": man(), **{key: searchset([]) for key in KEYS}}
    prefetch["observations"] = searchset([weight(60, "kg")])
    prefetch.update(changes)
    return {key: value for key, value in prefetch.items() if value is not ...}


def outcome(message: str, severity: str = "error", code: str = "exception") -> Json:
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "diagnostics": message}]}  # fmt: skip


def order_sign(prefetch: Json, **extra: Any) -> Json:
    order = isotretinoin_order(dose=quantity(60, "mg"))  # 120 mg/day: above range at 60 kg
    return hook_request(ORDER_SIGN, PATIENT_ID, prefetch=prefetch, orders=[order], **extra)


def post(client: TestClient, service: str, request: Json) -> httpx.Response:
    return client.post(f"/cds-services/{service}", json=request)


def server(seen: list[str], resources: dict[str, list[Json]] | None = None) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        kind = request.url.path.rsplit("/", 2)[-2:]
        seen.append(kind[-1] if kind[0] != "Patient" else "Patient")
        if kind[0] == "Patient":
            return httpx.Response(200, json=man())
        return httpx.Response(200, json=searchset((resources or {}).get(kind[-1], [])))

    return handle


# --- null: the EHR has no data for the key ----------------------------------------


def test_a_null_search_key_without_a_fhir_server_is_read_as_no_data_with_a_note(
    cds_client: TestClient,
) -> None:
    cards = cards_of(post(cds_client, ORDER_SIGN, order_sign(full_prefetch(conditions=None))))
    assert "DATA-MISSING" not in codes(cards)
    details = " ".join(card["detail"] for card in cards)
    assert "The EHR sent prefetch conditions as null (it has no data for it); read as none." in (
        details
    )


def test_a_null_key_is_read_from_the_fhir_server_when_there_is_one(
    cds_app: FastAPI, cds_client: TestClient
) -> None:
    seen: list[str] = []
    cds_app.state.cds.transport = httpx.MockTransport(
        server(seen, {"Observation": [weight(60, "kg")]})
    )
    request = order_sign(full_prefetch(observations=None), fhirServer=SERVER)
    cards = cards_of(post(cds_client, ORDER_SIGN, request))
    assert seen == ["Observation"]
    assert "DOSE-ABOVE-RANGE" in codes(cards)  # the weight came from the server


def test_a_null_patient_without_a_fhir_server_is_a_412(cds_client: TestClient) -> None:
    response = post(cds_client, ORDER_SIGN, order_sign(full_prefetch(patient=None)))
    assert response.status_code == 412
    problem = response.json()
    assert problem["code"] == "precondition-failed"
    assert problem["field"] == "prefetch.patient"
    assert "the EHR sent null: it has no Patient" in problem["detail"]


def test_patient_view_with_null_medications_has_nothing_to_say(cds_client: TestClient) -> None:
    request = hook_request(PATIENT_VIEW, PATIENT_ID, prefetch=full_prefetch(medications=None))
    assert cards_of(post(cds_client, PATIENT_VIEW, request)) == []


# --- OperationOutcome: an EHR-side error for that key --------------------------------


def test_an_operation_outcome_value_is_a_data_missing_card_with_the_ehrs_message_escaped(
    cds_app: FastAPI, cds_client: TestClient
) -> None:
    seen: list[str] = []
    cds_app.state.cds.transport = httpx.MockTransport(server(seen))
    message = "Search *failed*: see [help](https://evil.example)\\n<b>retry</b>"
    request = order_sign(full_prefetch(allergies=outcome(message)), fhirServer=SERVER)
    cards = cards_of(post(cds_client, ORDER_SIGN, request))
    card = data_missing(cards)
    assert card["summary"] == "Data missing: allergies (the EHR answered with an error)"
    assert "Search \\*failed\\*: see \\[help\\](https://evil.example)" in card["detail"]
    assert "\\<b\\>retry\\</b\\>" in card["detail"]
    assert "DOSE-ABOVE-RANGE" in codes(cards)  # the other keys were still read
    assert seen == []  # the outcome is the EHR's answer: no follow-up query


def test_a_searchset_holding_an_operation_outcome_keeps_its_matches_and_reports_the_error(
    cds_client: TestClient,
) -> None:
    partial = searchset([weight(60, "kg")])
    partial["entry"].append({"resource": outcome("timed out after 1 of 3 pages", code="timeout"),
                             "search": {"mode": "outcome"}})  # fmt: skip
    cards = cards_of(post(cds_client, ORDER_SIGN, order_sign(full_prefetch(observations=partial))))
    assert "DOSE-ABOVE-RANGE" in codes(cards)  # the weight it held was read
    assert "WEIGHT-MISSING" not in codes(cards)
    card = data_missing(cards)
    assert "observations (the EHR answered with an error)" in card["summary"]
    assert "error (timeout): timed out after 1 of 3 pages" in card["detail"]


def test_an_informational_outcome_in_a_searchset_is_a_note_not_an_error(
    cds_client: TestClient,
) -> None:
    remark = searchset([weight(60, "kg")])
    remark["entry"].append({"resource": outcome("all results", "information", "informational"),
                            "search": {"mode": "outcome"}})  # fmt: skip
    cards = cards_of(post(cds_client, ORDER_SIGN, order_sign(full_prefetch(observations=remark))))
    assert "DATA-MISSING" not in codes(cards)
    assert "remarked: information (informational): all results" in cards[0]["detail"]


def test_an_operation_outcome_for_the_patient_is_answered_never_refused(
    cds_client: TestClient,
) -> None:
    request = order_sign(full_prefetch(patient=outcome("Patient is restricted")))
    cards = cards_of(post(cds_client, ORDER_SIGN, request))
    assert "patient (the EHR answered with an error)" in data_missing(cards)["summary"]


def test_patient_view_whose_medications_failed_says_so_alone(cds_client: TestClient) -> None:
    request = hook_request(
        PATIENT_VIEW, PATIENT_ID, prefetch=full_prefetch(medications=outcome("search failed"))
    )
    cards = cards_of(post(cds_client, PATIENT_VIEW, request))
    assert codes(cards) == ["DATA-MISSING"]
    assert "medications (the EHR answered with an error)" in cards[0]["summary"]
    assert "search failed" in cards[0]["detail"]


def test_a_fhir_server_error_carrying_an_operation_outcome_says_what_it_said(
    cds_app: FastAPI, cds_client: TestClient
) -> None:
    seen: list[str] = []
    normal = server(seen)

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/Condition"):
            return httpx.Response(403, json=outcome("no consent for conditions", code="forbidden"))
        return normal(request)

    cds_app.state.cds.transport = httpx.MockTransport(handle)
    request = order_sign({"patient": man(), "observations": searchset([weight(60, "kg")])},
                         fhirServer=SERVER)  # fmt: skip
    card = data_missing(cards_of(post(cds_client, ORDER_SIGN, request)))
    assert (
        "conditions (the FHIR server answered HTTP 403: error (forbidden): no consent for "
        "conditions)" in card["detail"]
    )


@pytest.mark.parametrize("value", [[], "text", 7, {"resourceType": "Observation"}])
def test_a_prefetch_value_that_is_neither_its_resource_nor_an_outcome_is_still_a_422(
    cds_client: TestClient, value: Any
) -> None:
    response = post(cds_client, ORDER_SIGN, order_sign(full_prefetch(conditions=value)))
    assert response.status_code == 422
    assert response.json()["field"] == "prefetch.conditions"


# --- 412: data the hook cannot answer without ----------------------------------------


def test_order_hooks_need_nothing_to_say_there_is_no_isotretinoin(cds_client: TestClient) -> None:
    amoxicillin = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                               "code": "308182", "display": "Amoxicillin 250 MG"}]}  # fmt: skip
    order = isotretinoin_order(medication=amoxicillin)
    request = hook_request(ORDER_SIGN, PATIENT_ID, orders=[order])
    assert cards_of(post(cds_client, ORDER_SIGN, request)) == []


def test_patient_view_on_isotretinoin_without_the_patient_is_a_412(cds_client: TestClient) -> None:
    course = isotretinoin_order(id="course", status="active", authored="2026-01-15")
    request = hook_request(PATIENT_VIEW, PATIENT_ID, prefetch=full_prefetch(
        patient=..., medications=searchset([course])))  # fmt: skip
    response = post(cds_client, PATIENT_VIEW, request)
    assert response.status_code == 412
    assert response.json()["field"] == "prefetch.patient"


def test_patient_view_without_any_data_is_a_412_for_its_medications_first(
    cds_client: TestClient,
) -> None:
    request = hook_request(PATIENT_VIEW, PATIENT_ID, prefetch={})
    response = post(cds_client, PATIENT_VIEW, request)
    assert response.status_code == 412
    problem = response.json()
    assert problem["field"] == "prefetch.medications"  # needed first: patient-view's decision
    assert "medications (not in the prefetch" in problem["detail"]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(message=st.text(min_size=1, max_size=400))
def test_whatever_the_ehr_says_in_an_outcome_the_answer_conforms_and_shows_it_escaped(
    cds_app: FastAPI, message: str
) -> None:
    request = order_sign(full_prefetch(procedures=outcome(message)))
    with TestClient(cds_app, raise_server_exceptions=True) as client:
        cards = cards_of(post(client, ORDER_SIGN, request))  # the suite checks the schema
    card = data_missing(cards)
    assert card["summary"] == "Data missing: procedures (the EHR answered with an error)"
    shown = one_line(message)
    if shown:
        assert escape_markdown(shown[: MAX_MESSAGE_CHARS - 40]) in card["detail"]
