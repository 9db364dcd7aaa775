"""The door refuses what cannot be stored and read back (issue 14, point 2).

Each case failed before: a lab value of 1e999 was stored as null and every later
read of the patient answered 503; a NUL byte gave 503 on PostgreSQL; CR/LF in a
name was stored; a date of 9999-12-31 or 0001-01-01 gave 500. Now each is a 422
that names the field, and nothing is stored (the record's version is unchanged
and the patient still reads).
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from tests.api.route_helpers import ANA, PATIENTS_URL, enrol, sign_in

from isotrack.store.models import AuditRow, CommandRow

JSON = {"content-type": "application/json"}


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        commands = connection.scalar(select(func.count()).select_from(CommandRow))
        audit = connection.scalar(select(func.count()).select_from(AuditRow))
    return int(commands or 0), int(audit or 0)


@pytest.fixture
def staff(client: TestClient, api_engine: Engine) -> dict[str, str]:
    return sign_in(client, api_engine, "prescriber")


@pytest.mark.parametrize("number", ["1e999", "-1e999", "NaN", "Infinity", "-Infinity"])
def test_a_lab_value_that_is_not_finite_is_refused_and_the_patient_still_reads(
    client: TestClient, api_engine: Engine, staff: dict[str, str], number: str
) -> None:
    patient_id = enrol(client, staff, ANA)
    before = _counts(api_engine)
    body = (
        '{"type":"RecordLabResult","on":"2026-03-01","analyte":"alt",'
        f'"value":{number},"unit":"U/L"}}'
    )
    answer = client.post(
        f"{PATIENTS_URL}/{patient_id}/commands", content=body, headers={**staff, **JSON}
    )
    assert answer.status_code == 422, answer.text
    assert "finite" in answer.json()["detail"]
    assert _counts(api_engine) == before
    read = client.get(f"{PATIENTS_URL}/{patient_id}", headers=staff)
    assert read.status_code == 200, read.text
    assert read.json()["version"] == 1


def test_a_typed_route_refuses_a_number_that_is_not_finite(
    client: TestClient, api_engine: Engine, staff: dict[str, str]
) -> None:
    patient_id = enrol(client, staff, ANA)
    answer = client.post(
        f"{PATIENTS_URL}/{patient_id}/weights",
        content='{"value": NaN, "on": "2026-03-01"}',
        headers={**staff, **JSON},
    )
    assert answer.status_code == 422, answer.text
    assert client.get(f"{PATIENTS_URL}/{patient_id}", headers=staff).json()["version"] == 1


@pytest.mark.parametrize(
    ("name", "why"),
    [("Ana\x00Test", "NUL"), ("Ana\r\nTest", "U+000D"), ("Ana\x1bTest", "U+001B")],
)
def test_a_name_with_a_nul_or_a_control_character_is_refused(
    client: TestClient, api_engine: Engine, staff: dict[str, str], name: str, why: str
) -> None:
    before = _counts(api_engine)
    answer = client.post(PATIENTS_URL, json={**ANA, "name": name}, headers=staff)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "name"
    assert why in answer.json()["detail"]
    assert _counts(api_engine) == before


def test_a_note_keeps_its_line_breaks_but_not_a_nul(
    client: TestClient, api_engine: Engine, staff: dict[str, str]
) -> None:
    patient_id = enrol(client, staff, ANA)
    url = f"{PATIENTS_URL}/{patient_id}/commands"
    command = {"type": "RecordSymptoms", "on": "2026-03-01", "symptoms": ["dry-lips"]}
    kept = client.post(url, json={**command, "note": "itchy\nsince Monday"}, headers=staff)
    assert kept.status_code == 200, kept.text
    refused = client.post(url, json={**command, "note": "itchy\x00"}, headers=staff)
    assert refused.status_code == 422, refused.text
    assert client.get(f"{PATIENTS_URL}/{patient_id}", headers=staff).json()["version"] == 2


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_date_outside_the_sane_range_is_refused_on_every_kind_of_input(
    client: TestClient, api_engine: Engine, staff: dict[str, str], day: str
) -> None:
    patient_id = enrol(client, staff, ANA)
    before = _counts(api_engine)
    enrolled = client.post(PATIENTS_URL, json={**ANA, "birth_date": day}, headers=staff)
    weight = client.post(
        f"{PATIENTS_URL}/{patient_id}/weights", json={"value": 60, "on": day}, headers=staff
    )
    command = client.post(
        f"{PATIENTS_URL}/{patient_id}/commands",
        json={"type": "RecordWeight", "on": day, "value": 60},
        headers=staff,
    )
    for answer in (enrolled, weight, command):
        assert answer.status_code == 422, answer.text
        assert "outside 1900-01-01 to 2199-12-31" in answer.json()["detail"]
    assert _counts(api_engine) == before
    for path in ("schedule", "findings", "programme"):
        query = client.get(f"{PATIENTS_URL}/{patient_id}/{path}?date={day}", headers=staff)
        assert query.status_code == 422, f"{path}: {query.text}"
        assert query.json()["field"] == "date"


def test_a_nul_in_a_path_or_a_sign_in_is_refused_not_a_database_error(
    client: TestClient, api_engine: Engine, staff: dict[str, str]
) -> None:
    path = client.get(f"{PATIENTS_URL}/p%00x", headers=staff)
    assert path.status_code == 422, path.text
    signin = client.post("/api/v1/auth/token", data={"username": "a\x00b", "password": "x"})
    assert signin.status_code == 422, signin.text


def test_a_word_that_python_reads_as_a_number_is_still_a_name(
    client: TestClient, api_engine: Engine, staff: dict[str, str]
) -> None:
    """'Nan' is a given name, not a number: only numbers written as numbers are refused."""
    assert client.post(PATIENTS_URL, json={**ANA, "name": "Nan"}, headers=staff).status_code == 201
    found = client.get(f"{PATIENTS_URL}?q=Nan", headers=staff)
    assert found.status_code == 200, found.text
    overflow = client.get(f"{PATIENTS_URL}?q=1e999", headers=staff)
    assert overflow.status_code == 422, overflow.text
