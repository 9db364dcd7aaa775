"""The role × action matrix, cell by cell, with real tokens; and docs/api.md in step.

Each action has one representative request, sent with each role's token and
without one. Every cell a role holds gets a fresh patient in the state the
request needs (enrolled; on a course; prescribed; authorised), so allowed →
2xx exactly; denied → 403; without a token → 401 (``knowledge.read`` is
public: 2xx).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import IntEnum
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.api.conftest import API_NOW
from tests.api.test_auth import bearer, make_user, sign_in

from isotrack.clinical.state.commands import (
    AnyCommand,
    EnrolPatient,
    Prescribe,
    RecordCounselling,
    RecordWeight,
    StartCourse,
)
from isotrack.demo import demo_bundle
from isotrack.http.authz import MATRIX, PUBLIC_ACTIONS, Action, Role
from isotrack.knowledge import KnowledgeBase
from isotrack.store import UnitOfWork, execute

PATIENT_ID = "matrix-patient"
DOCS_API = Path(__file__).resolve().parents[2] / "docs" / "api.md"
TODAY = API_NOW.date()
PRESCRIPTION_ID = "RX-1"


class Stage(IntEnum):
    """How far a probe's patient has come (each stage includes the ones before)."""

    NONE = 0
    ENROLLED = 1
    ON_COURSE = 2
    PRESCRIBED = 3
    AUTHORISED = 4


@dataclass(frozen=True)
class Probe:
    method: str
    path: str
    body: dict[str, Any] | None = None
    content: bytes | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class Prepared:
    """A patient brought to a stage, and what the stage produced."""

    patient_id: str
    authorisation_token: str | None = None
    fired_rule: str | None = None


@dataclass(frozen=True)
class Cell:
    stage: Stage
    probe: Callable[[Prepared], Probe]


def _p(patient: Prepared, tail: str = "") -> str:
    return f"/api/v1/patients/{patient.patient_id}{tail}"


CELLS: dict[Action, Cell] = {
    Action.PATIENT_CREATE: Cell(Stage.NONE, lambda p: Probe(
        "POST", "/api/v1/patients", {"name": "Nia New", "birth_date": "1998-05-01", "sex": "male"}
    )),
    Action.PATIENT_LIST: Cell(Stage.NONE, lambda p: Probe("GET", "/api/v1/patients")),
    Action.PATIENT_READ: Cell(Stage.ENROLLED, lambda p: Probe("GET", _p(p))),
    Action.CLINICAL_RECORD: Cell(
        Stage.ENROLLED, lambda p: Probe("POST", _p(p, "/weights"), {"value": 70})
    ),
    Action.COURSE_MANAGE: Cell(
        Stage.ENROLLED, lambda p: Probe("POST", _p(p, "/courses"), {"product": "absorica"})
    ),
    Action.PRESCRIBE: Cell(Stage.ON_COURSE, lambda p: Probe("POST", _p(p, "/prescribe"), {
        "prescription_id": PRESCRIPTION_ID, "dose_mg": 40, "times_per_day": 1,
        "strength_mg": 40, "quantity": 30, "supply_days": 30,
    })),
    Action.DISPENSE: Cell(Stage.AUTHORISED, lambda p: Probe(
        "POST", _p(p, "/dispense"), {"prescription_id": PRESCRIPTION_ID, "quantity": 30}
    )),
    Action.FINDINGS_READ: Cell(Stage.ENROLLED, lambda p: Probe("GET", _p(p, "/findings"))),
    Action.FINDING_OVERRIDE: Cell(Stage.ON_COURSE, lambda p: Probe(
        "POST", _p(p, f"/findings/{p.fired_rule}/override"), {"reason": "discussed"}
    )),
    Action.PROGRAMME_READ: Cell(Stage.ENROLLED, lambda p: Probe("GET", _p(p, "/programme"))),
    Action.AUTHORIZATION_CREATE: Cell(
        Stage.PRESCRIBED, lambda p: Probe("POST", _p(p, "/authorizations"), {})
    ),
    Action.AUTHORIZATION_VERIFY: Cell(Stage.AUTHORISED, lambda p: Probe(
        "POST", "/api/v1/authorizations/verify", {"token": p.authorisation_token}
    )),
    Action.SELF_REPORT: Cell(
        Stage.ENROLLED, lambda p: Probe("POST", _p(p, "/phq9"), {"total": 2, "item9": 0})
    ),
    Action.PLAN: Cell(Stage.NONE, lambda p: Probe(
        "POST", "/api/v1/plan", {"weight_kg": 70, "product": "absorica"}
    )),
    Action.SCREEN: Cell(Stage.NONE, lambda p: Probe(
        "POST", "/api/v1/screen", content=demo_bundle("dana"), content_type="application/fhir+json"
    )),
    Action.KNOWLEDGE_READ: Cell(Stage.NONE, lambda p: Probe("GET", "/api/v1/knowledge/rules")),
    Action.AUDIT_READ: Cell(Stage.NONE, lambda p: Probe("GET", "/api/v1/audit")),
    Action.USER_MANAGE: Cell(Stage.NONE, lambda p: Probe(
        "POST", "/api/v1/users", {"username": f"new-{p.patient_id}", "role": "nurse"}
    )),
}  # fmt: skip
"""One request per action, and the stage its patient must have reached."""


def _commands(patient_id: str, stage: Stage) -> list[AnyCommand]:
    """A counselled man (no pregnancy testing), weighed and on a course as ``stage`` needs."""
    enrolled = TODAY - timedelta(days=30)
    commands: list[AnyCommand] = [
        EnrolPatient(on=enrolled, patient_id=patient_id, name="Mara Matrix",
                     birth_date=date(1999, 4, 12), sex="male"),
        RecordCounselling(on=enrolled, topic="enrolment: isotretinoin risks and the programme"),
    ]  # fmt: skip
    if stage >= Stage.ON_COURSE:
        commands += [
            RecordWeight(on=TODAY, value=70.0),
            StartCourse(on=TODAY, course_id="c1", product="absorica"),
        ]
    if stage >= Stage.PRESCRIBED:
        commands.append(
            Prescribe(on=TODAY, prescription_id=PRESCRIPTION_ID, dose_mg=40.0, times_per_day=1,
                      strength_mg=40.0, quantity=30, supply_days=30)
        )  # fmt: skip
    return commands


def _prepare(
    client: TestClient, engine: Engine, kb: KnowledgeBase, staff: dict[str, str],
    patient_id: str, stage: Stage,
) -> Prepared:  # fmt: skip
    """Bring a fresh patient to ``stage`` (the authorisation through the API, as a pharmacy)."""
    if stage is Stage.NONE:
        return Prepared(patient_id)
    for command in _commands(patient_id, stage):
        execute(engine, patient_id, command, actor="test", now=API_NOW, kb=kb)
    token = None
    if stage >= Stage.AUTHORISED:
        answer = client.post(
            f"/api/v1/patients/{patient_id}/authorizations", json={}, headers=staff
        )
        assert answer.status_code == 201, answer.text
        token = answer.json()["token"]
    fired = None
    if stage >= Stage.ON_COURSE:
        findings = client.get(f"/api/v1/patients/{patient_id}/findings", headers=staff)
        assert findings.status_code == 200, findings.text
        fired = findings.json()["findings"][0]["rule_id"]
    return Prepared(patient_id, token, fired)


def _send(client: TestClient, probe: Probe, token: str | None) -> int:
    headers = bearer(token) if token is not None else {}
    if probe.content_type is not None:
        headers["Content-Type"] = probe.content_type
    response = client.request(
        probe.method, probe.path, json=probe.body, content=probe.content, headers=headers
    )
    assert response.status_code < 500, f"{probe.method} {probe.path}: {response.text}"
    return response.status_code


def _enrol(engine: Engine, kb: KnowledgeBase) -> None:
    for command in _commands(PATIENT_ID, Stage.ENROLLED):
        execute(engine, PATIENT_ID, command, actor="test", now=API_NOW, kb=kb)


@pytest.mark.parametrize("action", sorted(Action))
def test_every_role_gets_what_the_matrix_says_for_the_action(
    action: Action, client: TestClient, api_engine: Engine, kb: KnowledgeBase
) -> None:
    cell = CELLS[action]
    tag = action.name.lower().replace("_", "-")
    patient_ids = {role: f"m-{tag}-{role}" for role in Role}
    tokens = {
        role: sign_in(client, make_user(
            api_engine, role,
            patient_id=patient_ids[role] if role is Role.PATIENT else None,
        ))["access_token"]
        for role in Role
        if role is not Role.PATIENT
    }  # fmt: skip
    staff = bearer(tokens[Role.PRESCRIBER])
    shared = _prepare(client, api_engine, kb, staff, f"m-{tag}-denied", cell.stage)
    prepared = {
        role: _prepare(client, api_engine, kb, staff, patient_ids[role], cell.stage)
        if action in MATRIX[role]
        else shared
        for role in Role
        if role is not Role.PATIENT
    }
    # The patient account holds its own record, so that record exists at every stage.
    own_stage = max(cell.stage, Stage.ENROLLED)
    prepared[Role.PATIENT] = _prepare(
        client, api_engine, kb, staff, patient_ids[Role.PATIENT], own_stage
    )
    patient_user = make_user(api_engine, Role.PATIENT, patient_id=patient_ids[Role.PATIENT])
    tokens[Role.PATIENT] = sign_in(client, patient_user)["access_token"]

    wrong = []
    for role in Role:
        status = _send(client, cell.probe(prepared[role]), tokens[role])
        if action in MATRIX[role]:
            if not 200 <= status < 300:
                wrong.append(f"{role}: {status}, expected 2xx")
        elif status != 403:
            wrong.append(f"{role}: {status}, expected 403")
    anonymous = _send(client, cell.probe(shared), None)
    if action in PUBLIC_ACTIONS:
        if not 200 <= anonymous < 300:
            wrong.append(f"anonymous: {anonymous}, expected 2xx")
    elif anonymous != 401:
        wrong.append(f"anonymous: {anonymous}, expected 401")
    assert not wrong, f"{action}: " + "; ".join(wrong)


def test_refusals_outside_the_matrix_are_audited_with_the_user_id(
    client: TestClient, api_engine: Engine, kb: KnowledgeBase
) -> None:
    _enrol(api_engine, kb)
    pharmacist = make_user(api_engine, Role.PHARMACIST)
    token = sign_in(client, pharmacist)["access_token"]
    assert _send(client, CELLS[Action.PATIENT_READ].probe(Prepared(PATIENT_ID)), token) == 403
    with UnitOfWork(api_engine) as uow:
        denials = [e for e in uow.audit.entries() if e.action.startswith("denied:")]
    assert [(e.action, e.actor) for e in denials] == [("denied:patient.read", pharmacist.user_id)]


def test_a_patient_cannot_reach_another_patients_record(
    client: TestClient, api_engine: Engine, kb: KnowledgeBase
) -> None:
    _enrol(api_engine, kb)
    other = "another-patient"
    execute(
        api_engine,
        other,
        EnrolPatient(on=date(2026, 2, 2), patient_id=other, name="Olga Other",
                     birth_date=date(2000, 1, 1), sex="female"),
        actor="test", now=API_NOW, kb=kb,
    )  # fmt: skip
    user = make_user(api_engine, Role.PATIENT, patient_id=PATIENT_ID)
    token = sign_in(client, user)["access_token"]
    assert client.get(f"/api/v1/patients/{PATIENT_ID}", headers=bearer(token)).status_code == 200
    for path in (f"/api/v1/patients/{other}", f"/api/v1/patients/{other}/programme"):
        assert client.get(path, headers=bearer(token)).status_code == 403
    phq9 = client.post(f"/api/v1/patients/{other}/phq9", json={"total": 1}, headers=bearer(token))
    assert phq9.status_code == 403
    with UnitOfWork(api_engine) as uow:
        actions = [e.action for e in uow.audit.entries(other)]
    assert "denied:patient-access" in actions


def test_docs_api_renders_the_matrix_as_it_is_in_the_code() -> None:
    text = DOCS_API.read_text(encoding="utf-8")
    assert "## Roles and actions" in text, "docs/api.md lacks the matrix section"
    section = text.split("## Roles and actions", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    header = next(line for line in section.splitlines() if line.startswith("| action"))
    columns = [cell.strip() for cell in header.strip("|").split("|")][1 : 1 + len(Role)]
    assert columns == [str(role) for role in Role]
    documented = {}
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        documented[cells[0].strip("`")] = {
            role
            for role, cell in zip(columns, cells[1 : 1 + len(Role)], strict=True)
            if cell == "yes"
        }
    in_code = {str(a): {str(r) for r in Role if a in MATRIX[r]} for a in Action}
    assert documented == in_code, "docs/api.md is out of step with isotrack.http.authz.MATRIX"
