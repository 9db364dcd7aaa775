"""Malformed and hostile requests: a 4xx problem with a reason, in bounded time.

The time bound (:data:`BOUND_SECONDS`) is generous: it guards against a request
that makes the service parse, decode or recurse without limit, not speed.
"""

from __future__ import annotations

import copy
import json
import time
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isotrack.cds.prefetch import MAX_ENTRIES
from tests.cds.hooks import ORDER_SIGN, PATIENT_VIEW, Json, hook_request, searchset
from tests.fhir.builders import PATIENT_ID, isotretinoin_order, patient, triglycerides, weight

BOUND_SECONDS = 5.0
URL = f"/cds-services/{ORDER_SIGN}"


def timed_post(client: TestClient, url: str, content: bytes, **headers: str) -> Any:
    started = time.perf_counter()
    response = client.post(url, content=content, headers={"content-type": "application/json",
                                                          **headers})  # fmt: skip
    elapsed = time.perf_counter() - started
    assert elapsed < BOUND_SECONDS, f"answered in {elapsed:.1f} s"
    assert response.headers["content-type"] == "application/problem+json", response.text[:300]
    return response


def valid_request() -> Json:
    return hook_request(ORDER_SIGN, PATIENT_ID, prefetch={"patient": patient()},
                        orders=[isotretinoin_order()])  # fmt: skip


@pytest.mark.parametrize(
    "body", [b"not json", b"{", b"", b"[1, 2]", b'"text"', b"\xff\xfe"], ids=repr
)
def test_a_body_that_is_not_a_json_object_is_a_400(cds_client: TestClient, body: bytes) -> None:
    response = timed_post(cds_client, URL, body)
    assert response.status_code == 400
    assert response.json()["code"] == "malformed-json"


def test_deeply_nested_json_is_a_400(cds_client: TestClient) -> None:
    response = timed_post(cds_client, URL, b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 400
    nested_prefetch = b'{"hook": "order-sign", "prefetch": {"patient": ' + b"[" * 100_000
    assert timed_post(cds_client, URL, nested_prefetch).status_code == 400


def test_the_wrong_hook_for_the_service_is_a_400_naming_both(cds_client: TestClient) -> None:
    request = valid_request()
    request["hook"] = "patient-view"
    response = timed_post(cds_client, URL, json.dumps(request).encode())
    assert response.status_code == 400
    problem = response.json()
    assert problem["field"] == "hook"
    assert "order-sign" in problem["detail"]


def test_an_unknown_service_is_a_404_that_lists_the_known_ones(cds_client: TestClient) -> None:
    response = timed_post(cds_client, "/cds-services/warfarin-order-sign", b"{}")
    assert response.status_code == 404
    assert ORDER_SIGN in response.json()["detail"]


def test_a_50_mb_prefetch_is_refused_while_it_streams(cds_client: TestClient) -> None:
    padding = b" " * (50 * 1024 * 1024)
    body = b'{"hook": "order-sign", "prefetch": {"patient": ' + padding + b"}}"

    def chunks() -> Any:
        for start in range(0, len(body), 1024 * 1024):
            yield body[start : start + 1024 * 1024]

    started = time.perf_counter()
    response = cds_client.post(URL, content=chunks(), headers={"content-type": "application/json"})
    assert time.perf_counter() - started < BOUND_SECONDS
    assert response.status_code == 413
    assert response.json()["code"] == "body-too-large"
    declared = timed_post(cds_client, URL, body)  # with Content-Length: refused before reading
    assert declared.status_code == 413


def test_a_bundle_of_100000_entries_is_refused_before_it_is_decoded(
    cds_client: TestClient,
) -> None:
    entry = {"resource": {"resourceType": "Observation", "status": "final"}}
    request = valid_request()
    request["prefetch"]["observations"] = searchset([entry["resource"]] * 100_000)
    body = json.dumps(request, separators=(",", ":")).encode()
    assert len(body) < 10 * 1024 * 1024  # under the body limit: the entry cap must catch it
    response = timed_post(cds_client, URL, body)
    assert response.status_code == 413
    assert response.json()["code"] == "too-many-entries"
    assert str(MAX_ENTRIES) in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r["prefetch"].update(patient=42), "prefetch.patient"),
        (lambda r: r["prefetch"].update(patient={"resourceType": "Bundle"}), "prefetch.patient"),
        (lambda r: r["prefetch"].update(conditions=patient()), "prefetch.conditions"),
        (lambda r: r["prefetch"].update(conditions=[1, 2]), "prefetch.conditions"),
        (lambda r: r["context"].update(draftOrders=patient()), "context.draftOrders"),
        (lambda r: r["context"].update(draftOrders="orders"), "context.draftOrders"),
        (lambda r: r["context"].pop("draftOrders"), "context.draftOrders"),
        (lambda r: r["context"].update(patientId=7), "context.patientId"),
        (lambda r: r["context"].pop("patientId"), "context"),
        (lambda r: r.update(hookInstance=None), "hookInstance"),
        (lambda r: r.update(extension={"isotrack-evaluation-date": "2026-13-01"}),
         "extension.isotrack-evaluation-date"),
        (lambda r: r.update(extension={"isotrack-evaluation-date": 20260301}),
         "extension.isotrack-evaluation-date"),
        (lambda r: r.update(extension={"isotrack-evaluation-date": "0001-01-01"}),
         "extension.isotrack-evaluation-date"),
        (lambda r: r.update(extension={"isotrack-evaluation-date": "9999-12-31"}),
         "extension.isotrack-evaluation-date"),
        (lambda r: r["prefetch"].update(observations=searchset(
            [{"resourceType": "Observation", "valueQuantity": {"value": "heavy"}}])),
         "prefetch.observations"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)  # fmt: skip
def test_a_wrong_type_is_a_422_naming_the_field(
    cds_client: TestClient, change: Any, field: str
) -> None:
    request = valid_request()
    change(request)
    response = timed_post(cds_client, URL, json.dumps(request).encode())
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"].startswith(field), problem
    assert problem["detail"]


def test_a_patient_view_request_for_another_patient_than_the_prefetch_is_a_422(
    cds_client: TestClient,
) -> None:
    prefetch = {"patient": patient(), "medications": searchset([])}
    request = hook_request(PATIENT_VIEW, "someone-else", prefetch=prefetch)
    url = f"/cds-services/{PATIENT_VIEW}"
    response = timed_post(cds_client, url, json.dumps(request).encode())
    assert response.status_code == 422
    assert "someone-else" in response.json()["detail"]


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.dates().map(date.isoformat)  # dates near year 1 or 9999 test the date arithmetic
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document (dict keys and list indexes)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


def fuller_request() -> Json:
    request = valid_request()
    request["prefetch"]["observations"] = searchset([weight(60, "kg"), triglycerides(150)])
    request["prefetch"]["conditions"] = searchset([])
    course = isotretinoin_order(id="course-1", status="active", authored="2025-12-01")
    request["prefetch"]["medications"] = searchset([course])
    return request


PLACES = paths(fuller_request())[1:]


# The app is the same for every example: hooks read no database and keep no state
# that changes an answer (only the memory of issued cards grows).
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(place=st.sampled_from(PLACES), value=JSON_VALUES)
def test_any_value_anywhere_in_a_request_is_answered_without_a_server_error(
    cds_app: FastAPI, place: tuple[Any, ...], value: Any
) -> None:
    request = copy.deepcopy(fuller_request())  # the builders share nested constants
    holder = request
    for step in place[:-1]:
        holder = holder[step]
    holder[place[-1]] = value
    with TestClient(cds_app, raise_server_exceptions=True) as client:
        response = client.post(URL, json=request)
    assert response.status_code in (200, 400, 412, 413, 422), response.text


@pytest.mark.parametrize("service", [ORDER_SIGN, PATIENT_VIEW])
def test_a_record_date_at_the_end_of_the_calendar_is_a_422(
    cds_client: TestClient, service: str
) -> None:
    course = isotretinoin_order(id="course-1", status="active", authored="9999-12-31")
    prefetch = {"patient": patient(), "medications": searchset([course])}
    request = hook_request(service, PATIENT_ID, orders=[isotretinoin_order()], prefetch=prefetch)
    response = timed_post(cds_client, f"/cds-services/{service}", json.dumps(request).encode())
    assert response.status_code == 422
    # the reader names the record whose supply cannot be counted (fhir/courses.py)
    assert response.json()["field"] == "MedicationRequest/course-1"
    assert "9999-12-31" in response.json()["detail"]


@pytest.mark.parametrize("coding", [True, 1, 1.5, "text", {"system": "x", "code": "y"}], ids=repr)
def test_a_wrongly_typed_coding_in_a_draft_order_is_an_unreadable_order_not_a_500(
    cds_app: FastAPI, coding: Any
) -> None:
    """Found by the fuzz above: ``"coding": true`` (FHIR has an array of Codings) made
    the walk over an unreadable order's medication raise (cds/drafts.py)."""
    request = fuller_request()
    medication = {"coding": coding, "text": "Isotretinoin 40 mg"}
    order = isotretinoin_order(medicationCodeableConcept=medication)
    request["context"]["draftOrders"] = searchset([order])
    with TestClient(cds_app, raise_server_exceptions=True) as client:
        response = client.post(URL, json=request)
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    assert card["source"]["topic"]["code"] == "DATA-MISSING"
    assert "MedicationRequest/order-1" in card["detail"]


@pytest.mark.parametrize("number", ["1e999", "-1e999", "1E400"])
def test_a_lab_value_beyond_a_double_is_a_422_never_screened_as_infinity(
    cds_client: TestClient, number: str
) -> None:
    request = fuller_request()
    request["prefetch"]["observations"] = searchset([triglycerides(150)])
    body = json.dumps(request).replace('"value": 150', f'"value": {number}')
    response = timed_post(cds_client, URL, body.encode())
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"] == "prefetch.observations"
    assert "valueQuantity.value" in problem["detail"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json_and_are_a_400(cds_client: TestClient, number: str) -> None:
    request = fuller_request()
    request["prefetch"]["observations"] = searchset([triglycerides(150)])
    body = json.dumps(request).replace('"value": 150', f'"value": {number}')
    response = timed_post(cds_client, URL, body.encode())
    assert response.status_code == 400
    assert response.json()["code"] == "malformed-json"
