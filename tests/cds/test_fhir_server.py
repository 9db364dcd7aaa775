"""Prefetch keys the request lacks are read from fhirServer (an httpx.MockTransport here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from isotrack.cds.fhir_server import MAX_PAGES
from tests.cds.hooks import ORDER_SIGN, Json, hook_request, searchset
from tests.fhir.builders import PATIENT_ID, isotretinoin_order, patient, quantity, weight

SERVER = "https://ehr.example.org/fhir"
TOKEN = "ehr-access-token"  # noqa: S105  # a fake token the mock server checks
Handler = Callable[[httpx.Request], httpx.Response]


def man() -> Json:
    return patient(gender="male", birth_date="1990-01-01")


def fhir_server(resources: dict[str, list[Json]], seen: list[httpx.Request]) -> Handler:
    """A FHIR server holding ``resources`` by type; searches answer one page each."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        kind = request.url.path.rsplit("/", 1)[-1]
        if kind == PATIENT_ID:
            return httpx.Response(200, json=man())
        return httpx.Response(200, json=searchset(resources.get(kind, [])))

    return handle


def request_without_prefetch(server: str = SERVER) -> Json:
    order = isotretinoin_order(dose=quantity(60, "mg"))  # 120 mg/day: above 1 mg/kg at 60 kg
    return hook_request(ORDER_SIGN, PATIENT_ID, orders=[order], fhirServer=server,
                        fhirAuthorization={"access_token": TOKEN, "token_type": "Bearer",
                                           "expires_in": 300, "scope": "patient/*.read",
                                           "subject": "isotrack"})  # fmt: skip


def call(app: FastAPI, client: TestClient, handler: Handler, request: Json) -> Any:
    app.state.cds.transport = httpx.MockTransport(handler)
    response = client.post(f"/cds-services/{ORDER_SIGN}", json=request)
    assert response.status_code == 200, response.text
    return response.json()["cards"]


def codes(cards: list[Any]) -> list[str]:
    return [card["source"]["topic"]["code"] for card in cards]


def data_missing(cards: list[Any]) -> Any:
    return next(card for card in cards if card["source"]["topic"]["code"] == "DATA-MISSING")


def test_missing_keys_are_read_from_the_fhir_server_with_the_token(
    cds_app: FastAPI, cds_client: TestClient
) -> None:
    seen: list[httpx.Request] = []
    handler = fhir_server({"Observation": [weight(60, "kg")]}, seen)
    cards = call(cds_app, cds_client, handler, request_without_prefetch())
    assert "DOSE-ABOVE-RANGE" in codes(cards)  # the weight came from the server
    assert "DATA-MISSING" not in codes(cards)
    assert len(seen) == 6
    assert {r.headers["authorization"] for r in seen} == {f"Bearer {TOKEN}"}
    observation = next(r for r in seen if r.url.path.endswith("/Observation"))
    assert observation.url.params["patient"] == PATIENT_ID
    assert "http://loinc.org|29463-7" in observation.url.params["code"]


def test_search_pages_are_followed_on_the_same_server_only(
    cds_app: FastAPI, cds_client: TestClient
) -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        kind = request.url.path.rsplit("/", 1)[-1]
        if kind == PATIENT_ID:
            return httpx.Response(200, json=man())
        page = searchset([weight(60, "kg")] if request.url.params.get("page") == "2" else [])
        if kind == "Observation" and "page" not in request.url.params:
            page["link"] = [{"relation": "next", "url": f"{SERVER}/Observation?page=2"}]
        if kind == "Condition":
            page["link"] = [{"relation": "next", "url": "https://elsewhere.example/steal"}]
        return httpx.Response(200, json=page)

    cards = call(cds_app, cds_client, handle, request_without_prefetch())
    assert "DOSE-ABOVE-RANGE" in codes(cards)  # the weight was on page 2
    assert all(r.url.host == "ehr.example.org" for r in seen)


def test_an_endless_search_stops_after_the_page_limit(
    cds_app: FastAPI, cds_client: TestClient
) -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith(PATIENT_ID):
            return httpx.Response(200, json=man())
        page = searchset([])
        page["link"] = [{"relation": "next", "url": f"{SERVER}/Condition?page={len(seen)}"}]
        return httpx.Response(200, json=page)

    cards = call(cds_app, cds_client, handle, request_without_prefetch())
    assert f"more than {MAX_PAGES} pages" in data_missing(cards)["detail"]
    assert len(seen) <= 1 + 5 * MAX_PAGES


def failing(kind: str, response: Callable[[httpx.Request], httpx.Response]) -> Handler:
    seen: list[httpx.Request] = []
    normal = fhir_server({"Observation": [weight(60, "kg")]}, seen)

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(f"/{kind}"):
            return response(request)
        return normal(request)

    return handle


def timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("no answer", request=request)


def unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (timeout, "did not answer within 10 s"),
        (unreachable, "could not be reached"),
        (lambda r: httpx.Response(500, text="boom"), "answered HTTP 500"),
        (lambda r: httpx.Response(401, json={"resourceType": "OperationOutcome"}),
         "answered HTTP 401"),
        (lambda r: httpx.Response(200, text="<html>login</html>"), "not readable FHIR"),
        (lambda r: httpx.Response(200, json=man()), "not readable FHIR"),
    ],
    ids=["timeout", "unreachable", "500", "401", "html", "wrong-type"],
)  # fmt: skip
def test_a_failing_fhir_server_is_a_data_missing_card_naming_the_key(
    cds_app: FastAPI, cds_client: TestClient, answer: Handler, reason: str
) -> None:
    cards = call(
        cds_app, cds_client, failing("AllergyIntolerance", answer), request_without_prefetch()
    )
    card = data_missing(cards)
    assert card["indicator"] == "info"
    assert "allergies" in card["summary"]
    assert reason in card["detail"]
    assert "DOSE-ABOVE-RANGE" in codes(cards)  # the rest of the record was still read


def test_without_a_readable_fhir_server_every_absent_key_is_missing(
    cds_app: FastAPI, cds_client: TestClient
) -> None:
    calls: list[httpx.Request] = []
    request = request_without_prefetch("ftp://ehr.example.org/fhir")
    request["prefetch"] = {"patient": man()}
    cards = call(cds_app, cds_client, fhir_server({}, calls), request)
    detail = data_missing(cards)["detail"]
    for key in ("medications", "conditions", "observations", "allergies", "procedures"):
        assert f"{key} (not in the prefetch, and fhirServer is not an https URL" in detail
    assert calls == []


def test_without_the_patient_from_prefetch_or_server_the_order_hook_answers_412(
    cds_app: FastAPI, cds_client: TestClient
) -> None:
    calls: list[httpx.Request] = []
    cds_app.state.cds.transport = httpx.MockTransport(fhir_server({}, calls))
    response = cds_client.post(
        f"/cds-services/{ORDER_SIGN}", json=request_without_prefetch("ftp://ehr.example.org/fhir")
    )
    assert response.status_code == 412, response.text
    problem = response.json()
    assert problem["field"] == "prefetch.patient"
    assert "fhirServer is not an https URL isotrack may read" in problem["detail"]
    assert calls == []
