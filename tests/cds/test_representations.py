"""Representation invariance of what a CDS Hooks request says about its data (issue 12):
each test states one situation and lets Hypothesis choose how the EHR writes it (absent,
null, an OperationOutcome value or entry, an empty searchset, through fhirServer or not,
and the token's optional claims); the answer is the same for every choice."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import httpx
import jwt
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isotrack.cds.security import EhrTokenVerifier
from isotrack.clinical.codes import RXNORM
from tests.cds.ehr_keys import AUDIENCE, NOW, Ehr, ec_key, rsa_key
from tests.cds.hooks import ORDER_SIGN, Json, hook_request, searchset
from tests.fhir.builders import PATIENT_ID, isotretinoin_order, patient, quantity, weight

ISOTRETINOIN_20 = {
    "coding": [{"system": RXNORM, "code": "197844", "display": "Isotretinoin 20 MG Oral Capsule"}],
    "text": "Isotretinoin 20 MG Oral Capsule",
}

SERVER = "https://ehr.example.org/fhir"
KEYS = ("medications", "conditions", "observations", "allergies", "procedures")
ABSENT = object()
"""The key is left out of the prefetch."""
EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
Handler = Callable[[httpx.Request], httpx.Response]


def man() -> Json:
    return patient(gender="male", birth_date="1990-01-01")


def outcome(message: str = "the search failed") -> Json:
    issue = {"severity": "error", "code": "exception", "diagnostics": message}
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def searchset_with_outcome() -> Json:
    page = searchset([])
    page["entry"].append({"resource": outcome(), "search": {"mode": "outcome"}})
    return page


def ehr(answers: dict[str, Handler]) -> Handler:
    """A FHIR server with the man, empty searches, and ``answers`` by resource type."""

    def handle(request: httpx.Request) -> httpx.Response:
        kind = request.url.path.rsplit("/", 2)[-2:]
        kind_name = "Patient" if kind[0] == "Patient" else kind[-1]
        if kind_name in answers:
            return answers[kind_name](request)
        if kind_name == "Patient":
            return httpx.Response(200, json=man())
        return httpx.Response(200, json=searchset([]))

    return handle


def unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


def answer(app: FastAPI, prefetch: Json, handler: Handler | None) -> httpx.Response:
    """order-sign of isotretinoin 60 mg twice a day (above range at the 60 kg the
    observations hold, when they are there)."""
    # 60 mg twice a day as 3 × 20 mg capsules (a dose the capsules make: issue 13)
    order = isotretinoin_order(dose=quantity(60, "mg"), medication=ISOTRETINOIN_20)
    extra: Json = {"fhirServer": SERVER} if handler is not None else {}
    request = hook_request(ORDER_SIGN, PATIENT_ID, prefetch=prefetch, orders=[order], **extra)
    app.state.cds.transport = httpx.MockTransport(handler) if handler else None
    with TestClient(app, raise_server_exceptions=True) as client:
        return client.post(f"/cds-services/{ORDER_SIGN}", json=request)


def prefetch_with(key: str, value: Any) -> Json:
    prefetch: Json = {"patient": man(), **{k: searchset([]) for k in KEYS}}
    prefetch["observations"] = searchset([weight(60, "kg")])
    if value is ABSENT:
        del prefetch[key]
    else:
        prefetch[key] = copy.deepcopy(value)
    return prefetch


def rule_ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [card["source"]["topic"]["code"] for card in response.json()["cards"]]


# Each way the EHR can fail to give the observations: (prefetch value, FHIR server).
OBSERVATIONS_FAILED: list[tuple[Any, Handler | None]] = [
    (ABSENT, None),
    (outcome(), None),
    (outcome(), ehr({})),  # not asked again: the outcome is the EHR's answer
    (searchset_with_outcome(), None),
    (ABSENT, ehr({"Observation": unreachable})),
    (ABSENT, ehr({"Observation": lambda r: httpx.Response(503, json=outcome())})),
    (ABSENT, ehr({"Observation": lambda r: httpx.Response(200, text="<html/>")})),
]


@EXAMPLES
@given(way=st.sampled_from(OBSERVATIONS_FAILED))
def test_observations_the_ehr_could_not_give_are_the_same_finding_however_it_says_so(
    cds_app: FastAPI, way: tuple[Any, Handler | None]
) -> None:
    value, handler = way
    response = answer(cds_app, prefetch_with("observations", value), handler)
    assert rule_ids(response) == ["BASELINE-LABS-MISSING", "WEIGHT-MISSING", "DATA-MISSING"]
    missing = response.json()["cards"][-1]
    assert missing["summary"].startswith("Data missing: observations (")


# Each way the EHR can say it has no conditions.
NO_CONDITIONS: list[tuple[Any, Handler | None]] = [
    (searchset([]), None),
    (None, None),
    (None, ehr({})),
    (ABSENT, ehr({})),
    (None, ehr({"Condition": unreachable})),  # the server failed; the EHR's null stands
]


@EXAMPLES
@given(way=st.sampled_from(NO_CONDITIONS))
def test_no_conditions_is_the_same_answer_however_the_ehr_says_so(
    cds_app: FastAPI, way: tuple[Any, Handler | None]
) -> None:
    value, handler = way
    assert rule_ids(answer(cds_app, prefetch_with("conditions", value), handler)) == [
        "BASELINE-LABS-MISSING",
        "DOSE-ABOVE-RANGE",
    ]


# Each way the patient can be unavailable.
NO_PATIENT: list[tuple[Any, Handler | None]] = [
    (ABSENT, None),
    (None, None),
    (ABSENT, ehr({"Patient": lambda r: httpx.Response(404, json=outcome("unknown"))})),
    (None, ehr({"Patient": lambda r: httpx.Response(404)})),
    (ABSENT, ehr({"Patient": unreachable})),
]


@EXAMPLES
@given(way=st.sampled_from(NO_PATIENT))
def test_a_patient_who_cannot_be_had_is_a_412_however_it_is_missing(
    cds_app: FastAPI, way: tuple[Any, Handler | None]
) -> None:
    value, handler = way
    response = answer(cds_app, prefetch_with("patient", value), handler)
    assert response.status_code == 412, response.text
    assert response.json()["field"] == "prefetch.patient"


RSA = rsa_key()
EC = ec_key()


@settings(max_examples=40, deadline=None)
@given(
    algorithm=st.sampled_from(["RS384", "ES384"]),
    sub=st.sampled_from([None, "ehr-client-7"]),
    tenant=st.sampled_from([None, "2ddd6c3a-8e9a-44c6-a305-52111ad302a2"]),
    aud_as_list=st.booleans(),
    typed=st.booleans(),
)
def test_a_valid_token_passes_whichever_optional_claims_and_forms_it_uses(
    algorithm: str, sub: str | None, tenant: str | None, aud_as_list: bool, typed: bool
) -> None:
    ehr = Ehr(RSA if algorithm == "RS384" else EC, algorithm=algorithm)
    claims = ehr.claims(sub=sub, tenant=tenant, aud=[AUDIENCE] if aud_as_list else AUDIENCE)
    headers = {"kid": ehr.kid} if typed else {"kid": ehr.kid, "typ": None}
    token = jwt.encode(claims, ehr.key, algorithm=algorithm, headers=headers)
    verifier = EhrTokenVerifier({ehr.issuer: "jwks"}, jwks_fetcher=lambda _: ehr.jwks,
                                clock=lambda: NOW)  # fmt: skip
    caller = verifier.verify(token, audiences=[AUDIENCE])
    assert (caller.issuer, caller.subject, caller.tenant) == (ehr.issuer, sub, tenant)
