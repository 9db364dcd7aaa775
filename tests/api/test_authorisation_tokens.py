"""Signed authorisations through the REST API: the public keys at
/.well-known/jwks.json (no sign-in, no private part, cacheable), a token that
verifies offline against them, and a second dispense under one authorisation
refused, saying when and by whom the first was."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.api.conftest import API_NOW
from tests.api.route_helpers import MARK, PATIENTS_URL, enrol, post, sign_in

from isotrack.clinical.state.commands import Prescribe, RecordCounselling, RecordWeight, StartCourse
from isotrack.knowledge import KnowledgeBase
from isotrack.store import execute
from isotrack.store.ppp_tokens import load_jwks, verify_authorization

TODAY = API_NOW.date()


def authorised_man(client: TestClient, engine: Engine, kb: KnowledgeBase) -> tuple[str, dict]:
    """Mark (cannot get pregnant), counselled, prescribed today; the pharmacist's headers."""
    doctor = sign_in(client, engine, "prescriber")
    patient_id = enrol(client, doctor, MARK)
    for command in (
        RecordCounselling(on=TODAY, topic="enrolment"),
        RecordWeight(on=TODAY, value=70),
        StartCourse(on=TODAY, course_id="c1", product="conventional"),
        Prescribe(
            on=TODAY, prescription_id="p1", dose_mg=35, times_per_day=2, strength_mg=35,
            quantity=60, supply_days=30,
        ),
    ):  # fmt: skip
        execute(engine, patient_id, command, actor="dr.kim", now=API_NOW, kb=kb)
    return patient_id, sign_in(client, engine, "pharmacist")


def test_the_public_keys_are_published_without_sign_in(
    client: TestClient, api_engine: Engine, kb: KnowledgeBase
) -> None:
    patient_id, pharmacist = authorised_man(client, api_engine, kb)
    issued = client.post(f"{PATIENTS_URL}/{patient_id}/authorizations", json={}, headers=pharmacist)
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert (body["patient_name"], body["birth_date"], body["prescriber"]) == (
        "Mark Test",
        "1998-02-01",
        "dr.kim",
    )
    assert body["capsules"] == [{"strength_mg": 35.0, "capsules": 60}]
    answer = client.get("/.well-known/jwks.json")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "public, max-age=3600"
    (key,) = answer.json()["keys"]
    assert set(key) == {"kty", "crv", "x", "kid", "alg", "use"}  # no "d"
    offline = verify_authorization(body["token"], load_jwks(answer.text), on=TODAY)
    assert (offline.id, offline.max_quantity) == (body["id"], 60)
    checked = client.post(
        "/api/v1/authorizations/verify", json={"token": body["token"]}, headers=pharmacist
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["in_force"] is True


def test_a_second_dispense_under_one_authorisation_is_refused(
    client: TestClient, api_engine: Engine, kb: KnowledgeBase
) -> None:
    patient_id, pharmacist = authorised_man(client, api_engine, kb)
    issued = client.post(f"{PATIENTS_URL}/{patient_id}/authorizations", json={}, headers=pharmacist)
    authorization_id = issued.json()["id"]
    dispense = {
        "prescription_id": "p1", "quantity": 30, "authorization_id": authorization_id,
        "dispensed_by": "pharm.lee at Main St",
    }  # fmt: skip
    first = post(client, pharmacist, patient_id, "dispense", dispense)
    assert first.status_code == 200, first.text
    second = post(client, pharmacist, patient_id, "dispense", dispense)
    assert second.status_code == 422
    assert second.headers["content-type"].startswith("application/problem+json")
    assert (
        f"authorisation {authorization_id} was already dispensed on {TODAY} (30 capsules, by "
        "pharm.lee at Main St)" in json.dumps(second.json())
    )
    plain = post(
        client, pharmacist, patient_id, "dispense", {"prescription_id": "p1", "quantity": 30}
    )
    assert plain.status_code == 422, plain.text  # no other authorisation in force
    assert "each authorisation is used once" in json.dumps(plain.json())


def test_a_forged_token_is_refused_by_the_verify_route(
    client: TestClient, api_engine: Engine, kb: KnowledgeBase
) -> None:
    patient_id, pharmacist = authorised_man(client, api_engine, kb)
    token = client.post(
        f"{PATIENTS_URL}/{patient_id}/authorizations", json={}, headers=pharmacist
    ).json()["token"]
    head, _, signature = token.split(".")
    other = "eyJ2IjoyfQ"  # {"v":2}
    answer = client.post(
        "/api/v1/authorizations/verify", json={"token": f"{head}.{other}.{signature}"},
        headers=pharmacist,
    )  # fmt: skip
    assert answer.status_code == 422
    assert "signature does not match" in answer.text
