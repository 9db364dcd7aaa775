"""An admin sees nothing clinical, not even in the audit trail (issue 14, point 4).

Refused commands are audited with the command and the reason it was refused: a
symptom note, a pregnancy test, a lab value. The test plants canary values in
refused commands (one by one and in a refused batch) and in a clinician's comment
on a CDS card, then walks every GET route of the API and the web pages an admin
can reach (signed in by token and by the login form, the audit trail paged to
the end, for the patient and for everyone), and fails if a canary appears.
A prescriber, who may read the record, finds every canary at
``/api/v1/patients/{id}/refused-commands``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.api.conftest import API_NOW
from tests.api.test_auth import bearer, make_user, sign_in
from tests.store.helpers import enrol
from tests.web.conftest import page_client
from tests.web.test_web_security import flat_routes

from isotrack.cds.feedback import IssuedCard, IssuedCards, record_feedback
from isotrack.cds.models import FeedbackItem, FeedbackRequest, OverrideReasonGiven
from isotrack.clinical.state.commands import (
    RecordLabResult,
    RecordPregnancyTest,
    RecordSymptoms,
    RecordWeight,
)
from isotrack.errors import CommandRejected
from isotrack.http.authz import Role
from isotrack.http.passwords import totp_code
from isotrack.knowledge import KnowledgeBase
from isotrack.store import PendingCommand, execute, execute_many

PATIENT = "canary-patient"
FUTURE = date(2029, 11, 23)
"""Refused: a command cannot be dated after today. The date is a canary too."""
CANARY_NOTE = "canary-note-7f3a9c"
CANARY_LAB = 4321.987
CANARY_COMMENT = "canary-comment-51d0e2"
CANARIES = (CANARY_NOTE, str(CANARY_LAB), FUTURE.isoformat(), CANARY_COMMENT)
_PARAMETER = re.compile(r"{([^}:]+)(?::[^}]*)?}")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _plant(engine: Engine, kb: KnowledgeBase) -> None:
    execute(engine, PATIENT, enrol(PATIENT), actor="nurse", now=API_NOW, kb=kb)
    refused = [
        RecordSymptoms(on=FUTURE, symptoms=("headache",), note=CANARY_NOTE),
        RecordLabResult(on=FUTURE, analyte="alt", value=CANARY_LAB, unit="U/L"),
        RecordPregnancyTest(on=FUTURE, result="positive"),
    ]
    for command in refused:
        with pytest.raises(CommandRejected):
            execute(engine, PATIENT, command, actor="nurse", now=API_NOW, kb=kb)
    batch = [
        PendingCommand(RecordWeight(on=API_NOW.date(), value=70.0)),
        PendingCommand(RecordSymptoms(on=FUTURE, symptoms=("rash",), note=CANARY_NOTE)),
    ]
    with pytest.raises(CommandRejected):
        execute_many(engine, PATIENT, batch, actor="nurse", now=API_NOW, kb=kb)
    service = "isotrack-order-sign"
    feedback = FeedbackRequest(
        feedback=(
            FeedbackItem(
                card="card-1",
                outcome="overridden",
                outcome_timestamp=API_NOW.isoformat(),
                override_reason=OverrideReasonGiven(user_comment=CANARY_COMMENT),
            ),
        )
    )
    issued = IssuedCards()
    issued.remember([("card-1", IssuedCard(service, "PPP-TEST-MISSING", PATIENT))])
    record_feedback(engine, feedback, service_id=service, actor="ehr", issued=issued, now=API_NOW)


def _get_paths(app: FastAPI, module_prefix: str) -> list[str]:
    """Every GET path of the surface, its parameters filled in."""
    samples = {"patient_id": PATIENT, "course_id": "C-1"}
    paths = set()
    for full_path, route in flat_routes(app.routes):
        if "GET" in route.methods and route.endpoint.__module__.startswith(module_prefix):
            paths.add(_PARAMETER.sub(lambda m: samples.get(m.group(1), "x"), full_path))
    return sorted(paths)


def _leaks(body: str) -> list[str]:
    return [canary for canary in CANARIES if canary in body]


def test_a_prescriber_reads_the_refused_commands_with_their_contents(
    client: TestClient, api_engine: Engine, kb: KnowledgeBase
) -> None:
    _plant(api_engine, kb)
    prescriber = sign_in(client, make_user(api_engine, Role.PRESCRIBER))
    response = client.get(
        f"/api/v1/patients/{PATIENT}/refused-commands", headers=bearer(prescriber["access_token"])
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [item["type"] for item in items] == [
        "RecordSymptoms", "RecordLabResult", "RecordPregnancyTest", "RecordSymptoms",
    ]  # fmt: skip
    assert items[1]["command"]["value"] == CANARY_LAB
    assert items[3]["batch_index"] == 2
    assert set(_leaks(response.text)) == {CANARY_NOTE, str(CANARY_LAB), FUTURE.isoformat()}


def test_an_admin_finds_no_canary_on_any_api_route(
    client: TestClient, api_app: FastAPI, api_engine: Engine, kb: KnowledgeBase
) -> None:
    _plant(api_engine, kb)
    admin = sign_in(client, make_user(api_engine, Role.ADMIN))
    headers = bearer(admin["access_token"])
    seen: dict[str, int] = {}
    for path in _get_paths(api_app, "isotrack.api"):
        response = client.get(path, headers=headers)
        seen[path] = response.status_code
        assert not _leaks(response.text), f"{path} shows {_leaks(response.text)}"
    assert seen["/api/v1/audit"] == 200
    assert seen[f"/api/v1/patients/{PATIENT}/refused-commands"] == 403
    for query in ({"limit": 500}, {"limit": 500, "patient_id": PATIENT}):
        page = client.get("/api/v1/audit", params=query, headers=headers).json()
        rejected = [i for i in page["items"] if i["action"].startswith("rejected:")]
        assert len(rejected) == 4  # the walk saw the refusals, without their contents
        assert all('"withheld":["command","reason"]' in i["detail"] for i in rejected)
        assert not _leaks(str(page))
    assert client.get("/api/v1/audit/verify", headers=headers).json()["ok"] is True


def test_an_admin_finds_no_canary_on_any_web_page(
    api_app: FastAPI, api_engine: Engine, kb: KnowledgeBase
) -> None:
    _plant(api_engine, kb)
    admin = make_user(api_engine, Role.ADMIN)
    assert admin.totp_secret is not None
    with page_client(api_app) as browser:
        token = _CSRF.search(browser.get("/login").text)
        assert token is not None
        form = {
            "username": admin.username,
            "password": admin.password,
            "csrf_token": token.group(1),
            "totp": totp_code(admin.totp_secret, API_NOW + timedelta(seconds=30)),
        }
        assert browser.post("/login", data=form).status_code == 303
        paths = _get_paths(api_app, "isotrack.web")
        assert "/knowledge" in paths
        for path in paths:
            response = browser.get(path)
            assert not _leaks(response.text), f"{path} shows {_leaks(response.text)}"


def test_a_patient_reads_only_their_own_refused_commands(
    client: TestClient, api_engine: Engine, kb: KnowledgeBase
) -> None:
    _plant(api_engine, kb)
    execute(api_engine, "other", enrol("other"), actor="nurse", now=API_NOW, kb=kb)
    own = make_user(api_engine, Role.PATIENT, name="pat-own", patient_id=PATIENT)
    other = make_user(api_engine, Role.PATIENT, name="pat-other", patient_id="other")
    url = f"/api/v1/patients/{PATIENT}/refused-commands"
    mine = client.get(url, headers=bearer(sign_in(client, own)["access_token"]))
    assert mine.status_code == 200
    assert len(mine.json()["items"]) == 4
    theirs = client.get(url, headers=bearer(sign_in(client, other)["access_token"]))
    assert theirs.status_code == 403
    assert not _leaks(theirs.text)
