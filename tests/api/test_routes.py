"""The resource routes through HTTP with real tokens: happy paths and refusals."""

from __future__ import annotations

import json
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.api.route_helpers import ANA, MARK, PATIENTS_URL, enrol, post, sign_in

PROBLEM = "application/problem+json"


def test_a_prescriber_creates_a_patient_with_a_uuid_and_reads_the_summary(
    client: TestClient, api_engine: Engine
) -> None:
    doctor = sign_in(client, api_engine, "prescriber")
    patient_id = enrol(client, doctor, MARK)
    assert uuid.UUID(patient_id).version == 4
    answer = client.get(f"{PATIENTS_URL}/{patient_id}", headers=doctor)
    assert answer.status_code == 200
    assert answer.json()["name"] == "Mark Test"
    assert answer.headers["ETag"] == '"1"'


def test_the_patient_list_gives_ids_and_names_only(client: TestClient, api_engine: Engine) -> None:
    doctor = sign_in(client, api_engine, "prescriber")
    patient_id = enrol(client, doctor, MARK)
    pharmacist = sign_in(client, api_engine, "pharmacist")
    answer = client.get(PATIENTS_URL, headers=pharmacist)
    assert answer.status_code == 200
    assert answer.json() == {"items": [{"id": patient_id, "name": "Mark Test"}]}


def test_a_course_weight_and_prescription_are_recorded_with_versions(
    client: TestClient, api_engine: Engine
) -> None:
    doctor = sign_in(client, api_engine, "prescriber")
    patient_id = enrol(client, doctor, MARK)
    assert post(client, doctor, patient_id, "weights", {"value": 70}).json()["version"] == 2
    course = post(client, doctor, patient_id, "courses", {"product": "absorica"})
    assert course.status_code == 200, course.text
    summary = client.get(f"{PATIENTS_URL}/{patient_id}", headers=doctor).json()
    assert summary["latest_weight"]["kg"] == 70
    assert summary["current_course"]["product"] == "absorica"


def test_a_stale_if_match_is_refused_with_409(client: TestClient, api_engine: Engine) -> None:
    doctor = sign_in(client, api_engine, "prescriber")
    patient_id = enrol(client, doctor, MARK)
    post(client, doctor, patient_id, "weights", {"value": 70})
    answer = client.post(
        f"{PATIENTS_URL}/{patient_id}/weights", json={"value": 71},
        headers={**doctor, "If-Match": '"1"'},
    )  # fmt: skip
    assert answer.status_code == 409
    assert answer.headers["content-type"].startswith(PROBLEM)


def test_the_generic_endpoint_takes_a_command_as_json(
    client: TestClient, api_engine: Engine
) -> None:
    nurse = sign_in(client, api_engine, "nurse")
    patient_id = enrol(client, nurse, MARK)
    command = {"type": "RecordWeight", "on": "2026-03-01", "value": 80}
    answer = client.post(
        f"{PATIENTS_URL}/{patient_id}/commands?expected_version=1", json=command, headers=nurse
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"patient_id": patient_id, "type": "RecordWeight", "version": 2}


def test_a_malformed_command_is_a_422_problem(client: TestClient, api_engine: Engine) -> None:
    nurse = sign_in(client, api_engine, "nurse")
    patient_id = enrol(client, nurse, MARK)
    answer = post(client, nurse, patient_id, "commands", {"type": "RecordWeight", "value": "x"})
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith(PROBLEM)


def test_an_impossible_weight_is_refused_by_the_record(
    client: TestClient, api_engine: Engine
) -> None:
    nurse = sign_in(client, api_engine, "nurse")
    patient_id = enrol(client, nurse, MARK)
    answer = post(client, nurse, patient_id, "weights", {"value": 900})
    assert answer.status_code == 422
    assert answer.json()["code"] == "command-rejected"


def test_a_nurse_may_not_prescribe(client: TestClient, api_engine: Engine) -> None:
    nurse = sign_in(client, api_engine, "nurse")
    patient_id = enrol(client, nurse, MARK)
    body = {"dose_mg": 40, "times_per_day": 1, "strength_mg": 40, "quantity": 30, "supply_days": 30}
    answer = post(client, nurse, patient_id, "prescribe", body)
    assert answer.status_code == 403
    generic = post(client, nurse, patient_id, "commands", {"type": "PauseCourse", "reason": "x",
                                                           "on": "2026-03-02"})  # fmt: skip
    assert generic.status_code == 403


def test_a_pharmacist_may_not_record_clinical_data(client: TestClient, api_engine: Engine) -> None:
    doctor = sign_in(client, api_engine, "prescriber")
    patient_id = enrol(client, doctor, MARK)
    pharmacist = sign_in(client, api_engine, "pharmacist")
    assert post(client, pharmacist, patient_id, "weights", {"value": 70}).status_code == 403
    assert client.get(f"{PATIENTS_URL}/{patient_id}", headers=pharmacist).status_code == 403


def test_a_patient_reports_symptoms_and_phq9_on_their_own_record(
    client: TestClient, api_engine: Engine
) -> None:
    doctor = sign_in(client, api_engine, "prescriber")
    patient_id = enrol(client, doctor, ANA)
    patient = sign_in(client, api_engine, "patient", patient_id=patient_id)
    assert post(client, patient, patient_id, "phq9", {"total": 3, "item9": 0}).status_code == 200
    assert post(client, patient, patient_id, "weights", {"value": 60}).status_code == 403
    assert client.get(f"{PATIENTS_URL}/{patient_id}", headers=patient).status_code == 200


def test_findings_schedule_and_programme_of_a_record(
    client: TestClient, api_engine: Engine
) -> None:
    doctor = sign_in(client, api_engine, "prescriber")
    patient_id = enrol(client, doctor, ANA)
    post(client, doctor, patient_id, "weights", {"value": 60})
    post(client, doctor, patient_id, "courses", {"product": "absorica"})
    base = f"{PATIENTS_URL}/{patient_id}"
    findings = client.get(f"{base}/findings", headers=doctor)
    assert findings.status_code == 200, findings.text
    assert findings.json()["findings"], "a course with no tests yet has findings"
    schedule = client.get(f"{base}/schedule", headers=doctor)
    assert schedule.status_code == 200
    assert schedule.json()["items"]
    calendar = client.get(f"{base}/schedule?format=ics", headers=doctor)
    assert calendar.headers["content-type"].startswith("text/calendar")
    assert calendar.text.startswith("BEGIN:VCALENDAR")
    programme = client.get(f"{base}/programme", headers=doctor)
    assert programme.status_code == 200
    assert programme.json()["unmet"]


def test_an_authorisation_is_refused_while_requirements_are_unmet(
    client: TestClient, api_engine: Engine
) -> None:
    doctor = sign_in(client, api_engine, "prescriber")
    patient_id = enrol(client, doctor, ANA)
    answer = client.post(f"{PATIENTS_URL}/{patient_id}/authorizations", json={}, headers=doctor)
    assert answer.status_code == 422
    assert answer.json()["code"] == "programme-refusal"


def test_a_tampered_authorisation_token_is_refused(client: TestClient, api_engine: Engine) -> None:
    pharmacist = sign_in(client, api_engine, "pharmacist")
    answer = client.post(
        "/api/v1/authorizations/verify", json={"token": "abc.def"}, headers=pharmacist
    )
    assert answer.status_code == 422


def test_an_override_is_recorded_with_its_reason(client: TestClient, api_engine: Engine) -> None:
    doctor = sign_in(client, api_engine, "prescriber")
    patient_id = enrol(client, doctor, MARK)
    answer = client.post(
        f"{PATIENTS_URL}/{patient_id}/findings/PREG-TEST-REQUIRED/override",
        json={"reason": "weighed at the visit, entered later"}, headers=doctor,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["type"] == "RecordOverride"


def test_the_planner_answers_a_plan(client: TestClient, api_engine: Engine) -> None:
    doctor = sign_in(client, api_engine, "prescriber")
    body = {"weight_kg": 70, "product": "absorica", "mg_per_kg": 0.5, "start": "2026-03-02"}
    answer = client.post("/api/v1/plan", json=body, headers=doctor)
    assert answer.status_code == 200, answer.text
    assert answer.json()["target_mg_per_kg"] == 150


def test_the_planner_refuses_an_impossible_weight(client: TestClient, api_engine: Engine) -> None:
    doctor = sign_in(client, api_engine, "prescriber")
    answer = client.post(
        "/api/v1/plan", json={"weight_kg": 900, "product": "absorica"}, headers=doctor
    )
    assert answer.status_code == 422


def test_screening_a_bundle_without_an_order_is_a_404(
    client: TestClient, api_engine: Engine
) -> None:
    nurse = sign_in(client, api_engine, "nurse")
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": []}
    answer = client.post(
        "/api/v1/screen", content=json.dumps(bundle),
        headers={**nurse, "Content-Type": "application/fhir+json"},
    )  # fmt: skip
    assert answer.status_code == 404


def test_the_knowledge_base_is_public(client: TestClient) -> None:
    for what in ("rules", "sources", "claims"):
        answer = client.get(f"/api/v1/knowledge/{what}")
        assert answer.status_code == 200
        assert answer.json()


def test_only_an_admin_reads_and_verifies_the_audit_trail(
    client: TestClient, api_engine: Engine
) -> None:
    doctor = sign_in(client, api_engine, "prescriber")
    enrol(client, doctor, MARK)
    assert client.get("/api/v1/audit", headers=doctor).status_code == 403
    admin = sign_in(client, api_engine, "admin")
    page = client.get("/api/v1/audit?limit=2", headers=admin)
    assert page.status_code == 200
    assert len(page.json()["items"]) == 2
    assert page.json()["next_after"] == 2
    verified = client.get("/api/v1/audit/verify", headers=admin)
    assert verified.status_code == 200
    assert verified.json()["ok"] is True


def test_anonymous_callers_get_401(client: TestClient) -> None:
    assert client.get(PATIENTS_URL).status_code == 401
    assert client.post("/api/v1/plan", json={}).status_code == 401


def test_a_prescription_is_a_regimen_or_a_single_dose_and_never_an_untakeable_one(
    client: TestClient, api_engine: Engine
) -> None:
    """Issue 13: 27.5 mg twice a day of 10 mg capsules is refused (DOSE-NOT-TAKEABLE)
    with the nearest takeable regimens; a body is one form or the other."""
    doctor = sign_in(client, api_engine, "prescriber")
    patient_id = enrol(client, doctor, MARK)
    post(client, doctor, patient_id, "weights", {"value": 58})
    post(client, doctor, patient_id, "courses", {"product": "absorica"})
    untakeable = {"dose_mg": 27.5, "times_per_day": 2, "strength_mg": 10, "quantity": 165,
                  "supply_days": 30}  # fmt: skip
    answer = post(client, doctor, patient_id, "prescribe", untakeable)
    assert answer.status_code == 422
    assert answer.json()["code"] == "command-rejected"
    assert "DOSE-NOT-TAKEABLE" in answer.text
    assert "morning 30 mg (1 × 30 mg), evening 25 mg (1 × 25 mg)" in answer.text
    regimen = [{"capsules_mg": [30]}, {"capsules_mg": [25]}]
    both = post(client, doctor, patient_id, "prescribe", {**untakeable, "regimen": regimen})
    assert both.status_code == 422
    assert "not both" in both.text
    split = post(client, doctor, patient_id, "prescribe", {"regimen": regimen, "supply_days": 30})
    assert "DOSE-NOT-TAKEABLE" not in split.text
    assert "regimen" not in split.json().get("errors", {})
