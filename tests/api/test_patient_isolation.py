"""ACCEPTANCE: a patient cannot read another patient's record by guessing ids.

Patient ids are UUIDs; the test signs in as one patient and tries the other
patient's id and random UUIDs on every route with a patient id: each answers
403 (audited), never the record."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.api.route_helpers import ANA, MARK, PATIENTS_URL, enrol, sign_in

READS = ("", "/schedule", "/findings", "/programme")
WRITES = {"/phq9": {"total": 2}, "/symptoms": {"symptoms": ["dry-lips"]}}


@pytest.fixture
def two_patients(client: TestClient, api_engine: Engine) -> tuple[dict[str, str], str, str]:
    doctor = sign_in(client, api_engine, "prescriber")
    own, other = enrol(client, doctor, ANA), enrol(client, doctor, MARK)
    return sign_in(client, api_engine, "patient", patient_id=own), own, other


def test_patient_ids_are_uuids(two_patients: tuple[dict[str, str], str, str]) -> None:
    _, own, other = two_patients
    assert uuid.UUID(own).version == uuid.UUID(other).version == 4


def test_a_patient_reads_their_own_record(
    client: TestClient, two_patients: tuple[dict[str, str], str, str]
) -> None:
    headers, own, _ = two_patients
    answer = client.get(f"{PATIENTS_URL}/{own}", headers=headers)
    assert answer.status_code == 200
    assert answer.json()["id"] == own


def test_guessed_and_random_ids_are_refused(
    client: TestClient, two_patients: tuple[dict[str, str], str, str]
) -> None:
    headers, own, other = two_patients
    guesses = [other, *(str(uuid.uuid4()) for _ in range(3)), "demo-ana"]
    for guess in guesses:
        for path in READS:
            answer = client.get(f"{PATIENTS_URL}/{guess}{path}", headers=headers)
            assert answer.status_code in (403, 404), (guess, path, answer.text)
            assert own not in answer.text
            assert "Mark" not in answer.text
        for path, body in WRITES.items():
            answer = client.post(f"{PATIENTS_URL}/{guess}{path}", json=body, headers=headers)
            assert answer.status_code in (403, 404), (guess, path, answer.text)


def test_a_patient_cannot_list_patients(
    client: TestClient, two_patients: tuple[dict[str, str], str, str]
) -> None:
    headers, _, _ = two_patients
    assert client.get(PATIENTS_URL, headers=headers).status_code == 403


def test_a_refused_guess_is_audited(
    client: TestClient, api_engine: Engine, two_patients: tuple[dict[str, str], str, str]
) -> None:
    headers, _, other = two_patients
    client.get(f"{PATIENTS_URL}/{other}", headers=headers)
    admin = sign_in(client, api_engine, "admin")
    trail = client.get(f"/api/v1/audit?patient_id={other}&limit=500", headers=admin).json()
    assert "denied:patient-access" in [row["action"] for row in trail["items"]]
