"""Acceptance (issue 12): the CDS Hooks 2.0.1 specification's example requests and token,
the hooks' own examples, the CDS Hooks sandbox's requests and token shape, and the REMS
prototype's iPLEDGE hook (tests/data/cds-hooks/, see its README) against a signed
isotrack: the service verifies every token as in production (JWKS file, aud from
ISOTRACK_CDS_PUBLIC_URL, replay), and every answer is checked against the 2.0.1 schema
(tests/cds/schema, by the suite-wide plugin)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from isotrack.cds.security import EhrTokenVerifier
from isotrack.clinical.codes import RXNORM
from isotrack.errors import CdsAuthError
from isotrack.knowledge import KnowledgeBase
from tests.cds.conftest import make_app
from tests.cds.ehr_keys import ec_key, public_jwk
from tests.cds.hooks import cards_of, codes, searchset
from tests.fhir.builders import isotretinoin_order, weight

DATA = Path(__file__).resolve().parents[1] / "data" / "cds-hooks"
PUBLIC_URL = "https://cds.example.org"
"""The base of the specification's example aud; the test client calls http://testserver,
so a token passes only when aud is taken from the configured URL, never from the Host."""
ISOTRETINOIN_40 = {"system": RXNORM, "code": "197845", "display": "Isotretinoin 40 MG Oral Capsule"}
Json = dict[str, Any]
Handler = Callable[[httpx.Request], httpx.Response]


def load(path: str) -> Any:
    return json.loads((DATA / path).read_text())


@dataclass
class Signer:
    """An EHR signing with a generated P-384 key under a third party's header and claims."""

    header: Json
    claims: Json
    key: ec.EllipticCurvePrivateKey

    @property
    def issuer(self) -> str:
        return str(self.claims["iss"])

    def jwks(self) -> Json:
        return {"keys": [{**public_jwk(self.key, self.header["kid"]), "alg": "ES384"}]}

    def token(self, audience: str, lifetime: int = 60) -> str:
        now = int(time.time())
        claims = {**self.claims, "aud": audience, "iat": now, "exp": now + lifetime,
                  "jti": str(uuid.uuid4())}  # fmt: skip
        headers = {k: v for k, v in self.header.items() if k != "alg"}
        return jwt.encode(claims, self.key, algorithm=self.header["alg"], headers=headers)


SPEC = Signer(load("spec-2.0.1/jwt-header.json"), load("spec-2.0.1/jwt-payload.json"), ec_key())
SANDBOX_SHAPE = load("sandbox/token.json")
SANDBOX = Signer(SANDBOX_SHAPE["header"], {"iss": SANDBOX_SHAPE["payload"]["iss"]}, ec_key())


@pytest.fixture
def signed_app(cds_engine: Engine, kb: KnowledgeBase, tmp_path: Path) -> FastAPI:
    issuers = {}
    for index, signer in enumerate((SPEC, SANDBOX)):
        path = tmp_path / f"jwks-{index}.json"
        path.write_text(json.dumps(signer.jwks()))
        issuers[signer.issuer] = str(path)
    return make_app(cds_engine, kb, cds_allow_unsigned=False, cds_issuers=issuers,
                    cds_public_url=PUBLIC_URL)  # fmt: skip


@pytest.fixture
def client(signed_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(signed_app, raise_server_exceptions=False) as test_client:
        yield test_client


def call(
    client: TestClient, service: str, request: Json, signer: Signer = SPEC, **token: Any
) -> httpx.Response:
    path = f"/cds-services/{service}"
    bearer = signer.token(PUBLIC_URL + path, **token)
    return client.post(path, json=request, headers={"Authorization": f"Bearer {bearer}"})


def ehr_server(resources: dict[str, list[Json]], patient: Json | None) -> Handler:
    """The EHR's FHIR server (fhirServer): a Patient read, one-page searches."""

    def handle(request: httpx.Request) -> httpx.Response:
        kind = request.url.path.rsplit("/", 2)[-2:]
        if kind[0] == "Patient":
            return httpx.Response(200, json=patient) if patient else httpx.Response(404)
        return httpx.Response(200, json=searchset(resources.get(kind[-1], [])))

    return handle


def unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def with_context(path: str, hook: str) -> Json:
    """A request made of a hook page's context example."""
    return {"hook": hook, "hookInstance": str(uuid.uuid4()), **load(path)}


def isotretinoin_instead(request: Json) -> Json:
    """The example with its MedicationRequest ordering isotretinoin instead."""
    changed: Json = json.loads(json.dumps(request))
    for entry in changed["context"]["draftOrders"]["entry"]:
        if entry["resource"]["resourceType"] == "MedicationRequest":
            entry["resource"]["medicationCodeableConcept"] = {
                "coding": [ISOTRETINOIN_40],
                "text": ISOTRETINOIN_40["display"],
            }
    return changed  # fmt: skip


# --- the specification's token -----------------------------------------------------


def test_the_specifications_own_token_verifies_though_it_has_no_sub() -> None:
    token = (DATA / "spec-2.0.1/jwt.txt").read_text().strip()
    payload = load("spec-2.0.1/jwt-payload.json")
    assert jwt.get_unverified_header(token) == load("spec-2.0.1/jwt-header.json")
    assert "sub" not in payload
    verifier = EhrTokenVerifier(
        {payload["iss"]: "spec-jwks"},
        jwks_fetcher=lambda _: load("spec-2.0.1/jwks.json"),
        clock=lambda: payload["exp"] - 100,  # within its last minutes: short-lived enough
    )
    caller = verifier.verify(token, audiences=[payload["aud"]])
    assert (caller.issuer, caller.subject, caller.tenant) == (payload["iss"], None,
                                                               payload["tenant"])  # fmt: skip
    with pytest.raises(CdsAuthError, match="replayed"):
        verifier.verify(token, audiences=[payload["aud"]])


def test_the_specifications_claim_set_signed_now_calls_a_signed_isotrack(
    client: TestClient,
) -> None:
    request = with_context("hooks/order-sign-r4.json", "order-sign")
    assert cards_of(call(client, "isotretinoin-order-sign", request)) == []


def test_a_token_addressed_to_the_discovery_url_cannot_call_a_service(client: TestClient) -> None:
    request = with_context("hooks/order-sign-r4.json", "order-sign")
    bearer = SPEC.token(PUBLIC_URL + "/cds-services")
    response = client.post("/cds-services/isotretinoin-order-sign", json=request,
                           headers={"Authorization": f"Bearer {bearer}"})  # fmt: skip
    assert response.status_code == 401
    assert "wrong audience" in response.json()["detail"]


def test_the_audience_comes_from_the_public_url_not_the_host(client: TestClient) -> None:
    request = with_context("hooks/order-sign-r4.json", "order-sign")
    path = "/cds-services/isotretinoin-order-sign"
    bearer = SPEC.token("http://attacker.example" + path)
    response = client.post(path, json=request, headers={
        "Authorization": f"Bearer {bearer}", "Host": "attacker.example"})  # fmt: skip
    assert response.status_code == 401
    assert f"({PUBLIC_URL}{path})" in response.json()["detail"]


# --- the specification's example requests and the hooks' examples -----------------


def test_the_specifications_patient_view_example_is_answered_from_its_fhir_server(
    signed_app: FastAPI, client: TestClient
) -> None:
    request = load("spec-2.0.1/patient-view-request.json")
    patient = {"resourceType": "Patient", "id": "1288992", "gender": "male",
               "birthDate": "1925-12-23"}  # fmt: skip
    signed_app.state.cds.transport = httpx.MockTransport(ehr_server({}, patient))
    assert cards_of(call(client, "isotretinoin-patient-view", request)) == []


def test_the_patient_view_example_with_its_fhir_server_down_is_a_412(
    signed_app: FastAPI, client: TestClient
) -> None:
    signed_app.state.cds.transport = httpx.MockTransport(unreachable)
    response = call(client, "isotretinoin-patient-view",
                    load("spec-2.0.1/patient-view-request.json"))  # fmt: skip
    assert response.status_code == 412, response.text
    assert "medications (the FHIR server could not be reached" in response.json()["detail"]


@pytest.mark.parametrize("version", ["r4", "stu3", "dstu2"])
@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_the_hooks_amoxicillin_examples_in_every_fhir_version_get_no_cards(
    client: TestClient, hook: str, version: str
) -> None:
    request = with_context(f"hooks/{hook}-{version}.json", hook)
    assert cards_of(call(client, f"isotretinoin-{hook}", request)) == []


@pytest.mark.parametrize("example", ["patient-view-role", "patient-view-encounter"])
def test_the_patient_view_examples_without_data_or_server_are_a_412(
    client: TestClient, example: str
) -> None:
    response = call(client, "isotretinoin-patient-view",
                    with_context(f"hooks/{example}.json", "patient-view"))  # fmt: skip
    assert response.status_code == 412
    assert response.json()["field"] == "prefetch.medications"


def spec_patient() -> Json:
    """The specification's prefetched Patient (a man born 1974, sent without an id)."""
    patient: Json = load("spec-2.0.1/prefetch-data.json")["prefetch"]["patient"]
    return patient


def test_the_order_sign_example_ordering_isotretinoin_is_screened_with_the_specs_patient(
    client: TestClient,
) -> None:
    request = isotretinoin_instead(with_context("hooks/order-sign-r4.json", "order-sign"))
    request["prefetch"] = {"patient": spec_patient()}
    cards = cards_of(call(client, "isotretinoin-order-sign", request))
    assert "WEIGHT-MISSING" in codes(cards)  # screened, as a man of 51 (no pregnancy rules)
    assert not {"PREG-TEST-REQUIRED", "CONTRACEPTION-REQUIRED"} & set(codes(cards))
    missing = next(c for c in cards if c["source"]["topic"]["code"] == "DATA-MISSING")
    assert "medications (not in the prefetch" in missing["detail"]


def test_the_order_select_example_ordering_isotretinoin_is_not_r4_and_gets_a_card_saying_so(
    client: TestClient,
) -> None:
    """The page's "R4" order-select example writes doseAndRate as an object (an array in
    R4): isotrack cannot read the order, and says so rather than answering nothing."""
    request = isotretinoin_instead(with_context("hooks/order-select-r4.json", "order-select"))
    request["prefetch"] = {"patient": spec_patient()}
    (card,) = cards_of(call(client, "isotretinoin-order-select", request))
    assert card["source"]["topic"]["code"] == "DATA-MISSING"
    assert card["summary"] == (
        "A draft isotretinoin order could not be read, so isotrack did not check it"
    )
    assert "doseAndRate: expected \\`array\\`, got \\`object\\`" in card["detail"]


def test_the_r4_example_ordering_isotretinoin_without_the_patient_is_a_412(
    client: TestClient,
) -> None:
    request = isotretinoin_instead(with_context("hooks/order-sign-r4.json", "order-sign"))
    response = call(client, "isotretinoin-order-sign", request)
    assert response.status_code == 412
    assert response.json()["field"] == "prefetch.patient"


def test_the_specifications_extension_example_lacks_the_patient_id_a_hook_requires(
    client: TestClient,
) -> None:
    response = call(client, "isotretinoin-patient-view", load("spec-2.0.1/extension-request.json"))
    assert response.status_code == 422
    assert response.json()["field"] == "context"
    assert "patientId" in response.json()["detail"]


# --- the CDS Hooks sandbox ------------------------------------------------------------

SANDBOX_PATIENT = {"resourceType": "Patient", "id": "smart-1288992", "gender": "male",
                   "birthDate": "1925-12-23"}  # fmt: skip


def sandbox_prefetch() -> Json:
    searches = ("medications", "conditions", "observations", "allergies", "procedures")
    return {"patient": SANDBOX_PATIENT, **{key: searchset([]) for key in searches}}


def test_the_sandbox_token_has_exactly_the_sandboxs_header_and_claims() -> None:
    token = SANDBOX.token("https://cds.example.org/cds-services/x", lifetime=300)
    assert jwt.get_unverified_header(token) == SANDBOX_SHAPE["header"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert set(claims) == set(SANDBOX_SHAPE["payload"])
    assert claims["exp"] - claims["iat"] == 300


@pytest.mark.parametrize(
    ("service", "path"),
    [("isotretinoin-order-sign", "sandbox/order-sign-request.json"),
     ("isotretinoin-order-select", "sandbox/order-select-request.json")],
)  # fmt: skip
@pytest.mark.parametrize("prefetched", [True, False], ids=["prefetch", "fhir-server"])
def test_the_sandboxs_isotretinoin_order_is_screened_with_its_token(
    signed_app: FastAPI, client: TestClient, service: str, path: str, prefetched: bool
) -> None:
    request = load(path)
    if prefetched:
        request["prefetch"] = sandbox_prefetch()
    else:  # as the sandbox sends it when its prefetch reads failed: isotrack reads them
        signed_app.state.cds.transport = httpx.MockTransport(ehr_server({}, SANDBOX_PATIENT))
    cards = cards_of(call(client, service, request, SANDBOX, lifetime=300))
    assert "WEIGHT-MISSING" in codes(cards)
    assert "DATA-MISSING" not in codes(cards)


def test_the_sandboxs_dstu2_medication_order_is_answered_with_a_could_not_be_read_card(
    client: TestClient,
) -> None:
    request = load("sandbox/order-sign-dstu2-request.json")
    cards = cards_of(call(client, "isotretinoin-order-sign", request, SANDBOX, lifetime=300))
    assert codes(cards) == ["DATA-MISSING"]
    assert (
        cards[0]["summary"]
        == "A draft isotretinoin order could not be read, so isotrack did not check it"
    )
    assert "MedicationOrder/order-123" in cards[0]["detail"]


@pytest.mark.parametrize("on_isotretinoin", [True, False])
def test_the_sandboxs_patient_view_reads_the_medications_from_its_fhir_server(
    signed_app: FastAPI, client: TestClient, on_isotretinoin: bool
) -> None:
    course = isotretinoin_order(id="course", status="active", authored="2026-01-15",
                                subject={"reference": "Patient/smart-1288992"})  # fmt: skip
    resources = {"MedicationRequest": [course] if on_isotretinoin else []}
    signed_app.state.cds.transport = httpx.MockTransport(ehr_server(resources, SANDBOX_PATIENT))
    request = load("sandbox/patient-view-request.json")
    cards = cards_of(call(client, "isotretinoin-patient-view", request, SANDBOX, lifetime=300))
    assert bool(cards) is on_isotretinoin


# --- the REMS prototype's iPLEDGE hook -----------------------------------------------


def test_the_rems_ipledge_order_sign_request_gets_the_programmes_cards(
    signed_app: FastAPI, client: TestClient
) -> None:
    recent = weight(70, "kg", subject={"reference": "Patient/pat017"})
    signed_app.state.cds.transport = httpx.MockTransport(
        ehr_server({"Observation": [recent]}, None)
    )
    cards = cards_of(call(client, "isotretinoin-order-sign",
                          load("rems/ipledge-order-sign-request.json")))  # fmt: skip
    found = codes(cards)
    assert "REFILLS-NOT-ALLOWED" in found  # numberOfRepeatsAllowed 3
    assert "DOSE-ABOVE-RANGE" in found  # 200 mg twice a day at 70 kg
    assert not {"PREG-TEST-REQUIRED", "CONTRACEPTION-REQUIRED"} & set(found)  # a man


@pytest.mark.parametrize(
    "name",
    ["feedback-accepted.json", "feedback-overridden.json", "feedback-overridden-with-reason.json"],
)
def test_the_specifications_feedback_examples_are_recorded(client: TestClient, name: str) -> None:
    path = "/cds-services/isotretinoin-order-sign/feedback"
    bearer = SANDBOX.token(PUBLIC_URL + path, lifetime=300)
    response = client.post(path, json=load(f"spec-2.0.1/{name}"),
                           headers={"Authorization": f"Bearer {bearer}"})  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json() == {"extension": {"isotrack-feedback-recorded": 1}}
