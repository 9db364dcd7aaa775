"""A patient's own "stop" report through the API is REPORT-NEEDS-REVIEW in the
findings until a clinician acknowledges it (AcknowledgeWorkItem, clinical.record)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.api.conftest import API_NOW
from tests.api.route_helpers import MARK, PATIENTS_URL, enrol, sign_in

TODAY = API_NOW.date().isoformat()


def review_severities(client: TestClient, headers: dict[str, str], patient_id: str) -> list[str]:
    answer = client.get(f"{PATIENTS_URL}/{patient_id}/findings", headers=headers)
    assert answer.status_code == 200, answer.text
    return [
        f["severity"] for f in answer.json()["findings"] if f["rule_id"] == "REPORT-NEEDS-REVIEW"
    ]


def command(
    client: TestClient, headers: dict[str, str], patient_id: str, body: dict[str, object]
) -> int:
    answer = client.post(f"{PATIENTS_URL}/{patient_id}/commands", json=body, headers=headers)
    return answer.status_code


def test_a_stop_report_is_in_the_api_findings_until_acknowledged(
    client: TestClient, api_engine: Engine
) -> None:
    nurse = sign_in(client, api_engine, "nurse")
    patient_id = enrol(client, nurse, MARK)
    report = {"type": "RecordSymptoms", "on": TODAY, "symptoms": ["blurred-vision"]}
    assert command(client, nurse, patient_id, report) == 200
    assert review_severities(client, nurse, patient_id) == ["critical"]
    ack = {"type": "AcknowledgeWorkItem", "on": TODAY, "item": "symptoms-1", "note": "called"}
    assert command(client, nurse, patient_id, ack) == 200
    assert review_severities(client, nurse, patient_id) == []
    assert command(client, nurse, patient_id, ack) == 422  # only once
