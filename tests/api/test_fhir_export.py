"""``GET /api/v1/patients/{id}/fhir``: the record as the Bundle ``isotrack export`` writes."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.api.conftest import API_NOW
from tests.api.test_auth import audit_actions, bearer, make_user, sign_in

from isotrack.demo.clinic import demo_clinic
from isotrack.fhir import decode_bundle
from isotrack.fhir.import_log import logged_commands
from isotrack.http.authz import Role
from isotrack.knowledge import KnowledgeBase
from isotrack.store import execute, read_history

ANA, BEN = demo_clinic(API_NOW.date() - timedelta(days=1))[:2]


def load_ana(engine: Engine, kb: KnowledgeBase, *, also_ben: bool = False) -> None:
    for patient in (ANA, BEN) if also_ben else (ANA,):
        for command, day in patient.commands:
            at = API_NOW.replace(year=day.year, month=day.month, day=day.day)
            execute(engine, patient.patient_id, command, actor="demo", now=at, kb=kb)


def token(client: TestClient, engine: Engine, role: Role, patient_id: str | None = None) -> str:
    user = make_user(engine, role, name=f"{role}-{patient_id}", patient_id=patient_id)
    return str(sign_in(client, user)["access_token"])


def test_a_prescriber_gets_the_whole_log_as_fhir_and_the_read_is_audited(
    client: TestClient, api_engine: Engine, kb: KnowledgeBase
) -> None:
    load_ana(api_engine, kb)
    headers = bearer(token(client, api_engine, Role.PRESCRIBER))
    response = client.get(f"/api/v1/patients/{ANA.patient_id}/fhir", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    back = logged_commands(decode_bundle(response.content))
    stored = read_history(api_engine, ANA.patient_id, actor="test", now=API_NOW)
    assert [(e.seq, e.command, e.actor, e.recorded_at) for e in back] == [
        (s.seq, s.command, s.actor, s.recorded_at) for s in stored
    ]
    assert audit_actions(api_engine)[-2] == "read"  # the export's read, then the test's


def test_a_patient_gets_their_own_record_only(
    client: TestClient, api_engine: Engine, kb: KnowledgeBase
) -> None:
    load_ana(api_engine, kb, also_ben=True)
    own = bearer(token(client, api_engine, Role.PATIENT, ANA.patient_id))
    assert client.get(f"/api/v1/patients/{ANA.patient_id}/fhir", headers=own).status_code == 200
    other = bearer(token(client, api_engine, Role.PATIENT, BEN.patient_id))
    assert client.get(f"/api/v1/patients/{ANA.patient_id}/fhir", headers=other).status_code == 403


def test_a_pharmacist_may_not_export_and_nobody_without_a_token(
    client: TestClient, api_engine: Engine, kb: KnowledgeBase
) -> None:
    load_ana(api_engine, kb)
    pharmacist = bearer(token(client, api_engine, Role.PHARMACIST))
    path = f"/api/v1/patients/{ANA.patient_id}/fhir"
    assert client.get(path, headers=pharmacist).status_code == 403
    assert client.get(path).status_code == 401


def test_an_unknown_patient_is_404(client: TestClient, api_engine: Engine) -> None:
    headers = bearer(token(client, api_engine, Role.NURSE))
    response = client.get("/api/v1/patients/nobody/fhir", headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
