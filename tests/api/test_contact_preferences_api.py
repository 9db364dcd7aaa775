"""``/api/v1/patients/{id}/contact-preferences`` on both backends: the defaults, a
patient choosing text messages and opting out of their own reminders only, a
clinician setting a guardian for a minor and refused for an adult, a patient
refused the guardian, bad values a 422 naming the field (nothing changed)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from tests.api.route_helpers import ANA, PATIENTS_URL, enrol, sign_in

from isotrack.store.contact_preferences import ACTION
from isotrack.store.models import AuditRow

MINOR = {"name": "Hugo Test", "birth_date": "2011-01-20", "sex": "male"}
"""15 on the API tests' day (2026-03-02)."""


def _url(patient_id: str) -> str:
    return f"{PATIENTS_URL}/{patient_id}/contact-preferences"


def _put(client: TestClient, headers: dict[str, str], patient_id: str, **body: Any) -> Any:
    return client.put(_url(patient_id), json=body, headers=headers)


def _audited(engine: Engine) -> list[tuple[str | None, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(AuditRow.patient_id, AuditRow.detail).where(AuditRow.action == ACTION)
        )
        return [(r.patient_id, r.detail) for r in rows]


def test_a_patient_reads_the_defaults_then_chooses_text_messages_and_opts_out(
    client: TestClient, api_engine: Engine
) -> None:
    nurse = sign_in(client, api_engine, "nurse")
    ana = enrol(client, nurse, ANA)
    patient = sign_in(client, api_engine, "patient", patient_id=ana)
    first = client.get(_url(ana), headers=patient)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "patient_id": ana, "opted_out": False, "channels": [], "phone": None,
        "guardian": None, "time_zone": None, "chosen": False, "sends_by": [],
        "recipient": {"kind": "patient", "name": "Ana Test", "email": None, "phone": None,
                      "time_zone": "UTC"},
    }  # fmt: skip
    sms = _put(client, patient, ana, channels=["sms"], phone="+1 555 555 0123",
               time_zone="America/Denver")  # fmt: skip
    assert sms.status_code == 200, sms.text
    assert sms.json()["sends_by"] == ["sms"]
    assert sms.json()["recipient"]["phone"] == "+15555550123"
    assert client.get(_url(ana), headers=nurse).json() == sms.json()
    out = _put(client, patient, ana, opted_out=True, channels=["sms"], phone="+15555550123")
    assert out.json()["sends_by"] == []
    assert out.json()["opted_out"] is True
    audited = _audited(api_engine)
    assert [patient_id for patient_id, _ in audited] == [ana, ana]
    assert not any("555" in detail for _, detail in audited)


def test_a_clinician_sets_a_guardian_for_a_minor_and_not_for_an_adult(
    client: TestClient, api_engine: Engine
) -> None:
    prescriber = sign_in(client, api_engine, "prescriber")
    hugo, ana = enrol(client, prescriber, MINOR), enrol(client, prescriber, ANA)
    guardian = {"name": "Rosa Test", "email": "rosa@example.org"}
    set_ = _put(client, prescriber, hugo, channels=["email"], guardian=guardian)
    assert set_.status_code == 200, set_.text
    assert set_.json()["recipient"] == {
        "kind": "guardian", "name": "Rosa Test", "email": "rosa@example.org", "phone": None,
        "time_zone": "UTC",
    }  # fmt: skip
    refused = _put(client, prescriber, ana, channels=["email"], guardian=guardian)
    assert refused.status_code == 422
    assert refused.json()["field"] == "guardian_name"
    assert "age of majority is 18" in refused.json()["detail"]
    assert client.get(_url(ana), headers=prescriber).json()["chosen"] is False


def test_only_a_clinician_changes_the_guardian(client: TestClient, api_engine: Engine) -> None:
    nurse = sign_in(client, api_engine, "nurse")
    hugo = enrol(client, nurse, MINOR)
    patient = sign_in(client, api_engine, "patient", patient_id=hugo)
    guardian = {"name": "Rosa Test", "phone": "+15555550199"}
    refused = _put(client, patient, hugo, channels=["sms"], guardian=guardian)
    assert refused.status_code == 403
    assert client.get(_url(hugo), headers=patient).json()["chosen"] is False
    assert _put(client, nurse, hugo, channels=["sms"], guardian=guardian).status_code == 200
    # the patient keeps the guardian (sent back as read) and changes the channels
    kept = client.get(_url(hugo), headers=patient).json()["guardian"]
    answer = _put(client, patient, hugo, opted_out=True, guardian=kept)
    assert answer.status_code == 200, answer.text
    assert answer.json()["recipient"]["kind"] == "guardian"
    assert _put(client, patient, hugo, opted_out=True).status_code == 403  # dropping it


def test_another_patient_and_a_pharmacist_are_refused(
    client: TestClient, api_engine: Engine
) -> None:
    nurse = sign_in(client, api_engine, "nurse")
    ana, hugo = enrol(client, nurse, ANA), enrol(client, nurse, MINOR)
    patient = sign_in(client, api_engine, "patient", patient_id=ana)
    pharmacist = sign_in(client, api_engine, "pharmacist")
    assert client.get(_url(hugo), headers=patient).status_code == 403
    assert _put(client, patient, hugo, opted_out=True).status_code == 403
    assert client.get(_url(ana), headers=pharmacist).status_code == 403
    assert client.get(_url(ana)).status_code == 401
    assert client.get(_url("no-such-patient"), headers=nurse).status_code == 404


def test_bad_values_are_refused_naming_the_field_and_change_nothing(
    client: TestClient, api_engine: Engine
) -> None:
    nurse = sign_in(client, api_engine, "nurse")
    ana = enrol(client, nurse, ANA)
    for body, field in (
        ({"channels": ["sms"], "phone": "555-0123"}, "phone"),
        ({"channels": ["sms"]}, "phone"),
        ({"channels": ["email"]}, "channels"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ):
        answer = _put(client, nurse, ana, **body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["field"] == field
    assert _put(client, nurse, ana, channels=["fax"]).status_code == 422
    assert _audited(api_engine) == []
