"""One record that cannot be read back never takes down another page (issue 14, point 2).

Before: a lab value stored as null (what 1e999 became) made the clinic dashboard
answer 503 for every prescriber and nurse. Now the dashboard shows that patient as
an error row (audited ``read-failed``), every other patient as usual, and
``isotrack doctor`` names the record. On SQLite and PostgreSQL (the API fixtures).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from tests.api.conftest import API_NOW
from tests.api.route_helpers import ANA, MARK, enrol, post, sign_in
from tests.cli.storage_cli import invoke
from tests.web.conftest import PAGE_HEADERS, csrf_token

from isotrack.errors import InvalidInputError
from isotrack.http.passwords import create_user
from isotrack.store import backend_of, backup, create_engine_for, restore, row_counts
from isotrack.store.models import AuditRow, CommandRow, Patient


def _break_lab_value(engine: Engine, patient_id: str) -> None:
    """What the server did with 1e999 before the door: the value stored as null."""
    with engine.begin() as connection:
        row_id, payload = connection.execute(
            select(CommandRow.id, CommandRow.payload).where(
                CommandRow.patient_id == patient_id, CommandRow.type == "RecordLabResult"
            )
        ).one()
        broken = json.loads(payload) | {"value": None}
        connection.execute(
            update(CommandRow).where(CommandRow.id == row_id).values(payload=json.dumps(broken))
        )


@pytest.fixture
def broken_and_fine(client: TestClient, api_engine: Engine) -> tuple[str, str]:
    """Two patients: Ana's record holds a lab value stored as null; Mark's is fine."""
    staff = sign_in(client, api_engine, "prescriber")
    ana = enrol(client, staff, ANA)
    mark = enrol(client, staff, MARK)
    lab = {"analyte": "alt", "value": 30, "unit": "U/L", "on": "2026-03-01"}
    assert post(client, staff, ana, "labs", lab).status_code == 200
    _break_lab_value(api_engine, ana)
    return ana, mark


def _signed_in_page_client(app: FastAPI, engine: Engine) -> TestClient:
    user = create_user(engine, "nurse-web", "nurse", now=API_NOW, actor="test")
    client = TestClient(
        app, raise_server_exceptions=False, follow_redirects=False, headers=PAGE_HEADERS
    )
    form = {
        "username": user.username,
        "password": user.password,
        "csrf_token": csrf_token(client, "/login"),
    }
    assert client.post("/login", data=form).status_code == 303
    return client


def test_the_dashboard_shows_an_unreadable_record_as_an_audited_error_row(
    api_app: FastAPI, api_engine: Engine, broken_and_fine: tuple[str, str]
) -> None:
    ana, mark = broken_and_fine
    with _signed_in_page_client(api_app, api_engine) as browser:
        page = browser.get("/clinic")
    assert page.status_code == 200, page.text[:500]
    assert "Record cannot be read" in page.text
    assert "Ana Test" in page.text
    assert f'href="/clinic/patients/{mark}"' in page.text
    assert f'href="/clinic/patients/{ana}"' not in page.text
    with api_engine.connect() as connection:
        actions = {
            row.patient_id: row.action
            for row in connection.execute(
                select(AuditRow.patient_id, AuditRow.action).where(AuditRow.actor == "nurse-web")
            )
        }
    assert actions == {ana: "read-failed", mark: "read"}


def test_doctor_names_the_unreadable_record_and_exits_1(
    api_engine: Engine, api_settings: object, broken_and_fine: tuple[str, str]
) -> None:
    ana, mark = broken_and_fine
    url = api_engine.url.render_as_string(hide_password=False)
    result = invoke("doctor", "--database", url)
    assert result.exit_code == 1, result.output
    assert ana in result.stdout
    assert "RecordLabResult" in result.stdout
    assert mark not in result.stdout
    assert "1 record(s) cannot be read back" in result.stderr


def test_doctor_names_a_name_stored_with_a_line_break_before_the_door(
    client: TestClient, api_engine: Engine
) -> None:
    staff = sign_in(client, api_engine, "prescriber")
    ana = enrol(client, staff, ANA)
    url = api_engine.url.render_as_string(hide_password=False)
    assert invoke("doctor", "--database", url).exit_code == 0
    with api_engine.begin() as connection:
        payload = connection.scalar(select(CommandRow.payload).where(CommandRow.patient_id == ana))
        assert payload is not None
        legacy = json.dumps(json.loads(payload) | {"name": "Ana\r\nTest"})
        connection.execute(
            update(CommandRow).where(CommandRow.patient_id == ana).values(payload=legacy)
        )
        connection.execute(update(Patient).where(Patient.id == ana).values(name="Ana\r\nTest"))
    result = invoke("doctor", "--database", url, "--json")
    assert result.exit_code == 1, result.output
    found = json.loads(result.stdout)["unreadable"]
    assert [entry["patient_id"] for entry in found] == [ana]
    assert "field name" in found[0]["reason"]


@pytest.mark.parametrize("backup_format", ["json", "sqlite"])
def test_restore_refuses_a_backup_holding_an_unreadable_record(
    api_engine: Engine,
    broken_and_fine: tuple[str, str],
    tmp_path: Path,
    backup_format: Literal["json", "sqlite"],
) -> None:
    if backup_format == "sqlite" and backend_of(api_engine) != "sqlite":
        pytest.skip("a PostgreSQL database is backed up as JSON only")
    ana, _ = broken_and_fine
    saved = tmp_path / f"backup.{backup_format}"
    backup(api_engine, saved, format=backup_format)
    target = tmp_path / "restored.db"
    with pytest.raises(InvalidInputError, match=f"patient {ana}, command 2"):
        restore(saved, f"sqlite:///{target}")
    restored = create_engine_for(f"sqlite:///{target}")
    assert not any(row_counts(restored).values())
    restored.dispose()
