"""Acceptance (issue 6): real HTTP requests to order-sign, signed by a generated RS384 key
whose JWKS file ISOTRACK_CDS_ISSUERS names. A valid token gets cards; an unsigned,
expired, wrongly addressed, unknown-issuer, badly signed or replayed one gets 401."""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from isotrack.knowledge import KnowledgeBase
from isotrack.server import create_app
from isotrack.settings import Settings
from isotrack.store import create_engine_for, upgrade
from tests.cds.ehr_keys import ISSUER, Ehr, rsa_key

with warnings.catch_warnings():
    # Starlette would rather use httpx2 (not a dependency of isotrack); httpx still works.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

ORDER_SIGN = "/cds-services/isotretinoin-order-sign"
AUDIENCE = "http://testserver" + ORDER_SIGN
"""What the service expects in ``aud``: its own URL (TestClient's host is testserver)."""
UNTRIPPABLE_RATE = 1_000_000
EHR = Ehr(rsa_key())
STRANGER = Ehr(rsa_key(), issuer="https://stranger.example.org")
FORGER = Ehr(rsa_key())  # claims to be EHR, signs with another key under EHR's kid
PROBLEM_JSON = "application/problem+json"


def order_sign_request() -> dict[str, Any]:
    """A small order-sign call: a patient and an isotretinoin draft order, empty searches."""
    patient = {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1998-04-02"}
    order = {
        "resourceType": "MedicationRequest",
        "id": "draft-1",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "197844",
                    "display": "isotretinoin 20 MG Oral Capsule",
                }
            ]
        },
    }
    empty = {"resourceType": "Bundle", "type": "searchset", "entry": []}
    return {
        "hook": "order-sign",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {
            "userId": "Practitioner/7",
            "patientId": "p1",
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": order}]},
        },
        "prefetch": {
            "patient": patient,
            **dict.fromkeys(
                ("medications", "conditions", "observations", "allergies", "procedures"), empty
            ),
        },
        "extension": {"isotrack-evaluation-date": "2026-03-02"},
    }


BODY = json.dumps(order_sign_request())


@pytest.fixture
def jwks_file(tmp_path: Path) -> Path:
    path = tmp_path / "ehr-jwks.json"
    path.write_text(json.dumps(EHR.jwks))
    return path


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'isotrack.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def settings_for(engine: Engine, issuers: dict[str, str], **changes: Any) -> Settings:
    return Settings(
        env="test",
        database_url=engine.url.render_as_string(hide_password=False),
        rate_limit_per_minute=UNTRIPPABLE_RATE,
        rate_limit_burst=UNTRIPPABLE_RATE,
        cds_issuers=issuers,
        **changes,
    )


def client_for(settings: Settings, engine: Engine, kb: KnowledgeBase) -> TestClient:
    return TestClient(create_app(settings, engine=engine, kb=kb), raise_server_exceptions=False)


@pytest.fixture
def client(engine: Engine, jwks_file: Path, kb: KnowledgeBase) -> Iterator[TestClient]:
    with client_for(settings_for(engine, {ISSUER: str(jwks_file)}), engine, kb) as test_client:
        yield test_client


def post(client: TestClient, token: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.post(ORDER_SIGN, content=BODY, headers=headers)


def signed(ehr: Ehr = EHR, **changes: Any) -> str:
    """A token of ``ehr`` for order-sign, issued now (the server checks its own clock)."""
    return ehr.token(now=time.time(), **{"aud": AUDIENCE, **changes})


def assert_unauthorized(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.headers["www-authenticate"].startswith("Bearer")
    problem = response.json()
    assert problem["code"] == "cds-unauthorized"
    assert problem["status"] == 401
    assert reason in problem["detail"]


def test_a_validly_signed_request_gets_cards(client: TestClient) -> None:
    response = post(client, signed())
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["cards"], list)
    assert "x-isotrack-unsigned" not in response.headers


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda: None, "no Authorization header"),
        (lambda: signed(iat=int(time.time()) - 600, exp=int(time.time()) - 120), "expired"),
        (lambda: signed(aud="http://testserver/cds-services/other"), "wrong audience"),
        (lambda: signed(STRANGER), "is not trusted"),
        (lambda: signed(FORGER), "bad signature"),
    ],
    ids=["unsigned", "expired", "wrong-aud", "unknown-iss", "bad-signature"],
)
def test_an_untrusted_request_gets_401_problem_json(
    client: TestClient, make_token: Any, reason: str
) -> None:
    assert_unauthorized(post(client, make_token()), reason)


def test_a_replayed_token_gets_401(client: TestClient) -> None:
    token = signed()
    assert post(client, token).status_code == 200
    assert_unauthorized(post(client, token), "replayed")


def test_a_missing_token_is_challenged_without_an_error_code(client: TestClient) -> None:
    response = post(client, None)
    assert response.headers["www-authenticate"] == 'Bearer realm="cds-services"'
    assert 'error="invalid_token"' in post(client, signed(FORGER)).headers["www-authenticate"]


def test_the_token_appears_in_no_log_line_nor_response(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    tokens = [signed(FORGER), signed(aud="https://elsewhere/x"), signed()]
    with caplog.at_level(logging.DEBUG):
        bodies = [post(client, token).text for token in [*tokens, tokens[-1]]]
    for token in tokens:
        signature = token.rsplit(".", 1)[1]
        assert signature not in caplog.text
        assert all(signature not in body for body in bodies)


def test_unsigned_mode_accepts_no_token_and_says_so_but_still_verifies_a_token(
    engine: Engine, jwks_file: Path, kb: KnowledgeBase
) -> None:
    settings = settings_for(engine, {ISSUER: str(jwks_file)}, cds_allow_unsigned=True)
    with client_for(settings, engine, kb) as client:
        response = post(client, None)
        assert response.status_code == 200, response.text
        assert response.headers["x-isotrack-unsigned"] == "true"
        assert_unauthorized(post(client, signed(FORGER)), "bad signature")
        assert post(client, signed()).status_code == 200


def test_an_unreadable_jwks_file_gets_401_not_500(
    engine: Engine, tmp_path: Path, kb: KnowledgeBase, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(engine, {ISSUER: str(tmp_path / "missing-jwks.json")})
    with (
        caplog.at_level(logging.ERROR, logger="isotrack.cds.security"),
        client_for(settings, engine, kb) as client,
    ):
        assert_unauthorized(post(client, signed()), "cannot be read now")
    assert "missing-jwks.json" in caplog.text


def test_feedback_needs_a_trusted_token_too(client: TestClient) -> None:
    response = client.post(
        ORDER_SIGN + "/feedback", content=json.dumps({"feedback": []}), headers={}
    )
    assert_unauthorized(response, "no Authorization header")
