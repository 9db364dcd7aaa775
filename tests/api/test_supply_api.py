"""SUPPLY-ON-HAND through the REST API: a prescription while the last supply still
covers 20 days is refused (422, naming the rule) until a clinician records why an
early supply is needed; then it is stored."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.api.conftest import API_NOW
from tests.api.route_helpers import post, sign_in
from tests.clinical.builders_record import (
    authorize,
    counsel,
    day,
    dispense,
    enrol_man,
    prescribe,
    start_course,
    weight,
)

from isotrack.knowledge import KnowledgeBase
from isotrack.store import execute

REPEAT = {"dose_mg": 35, "times_per_day": 2, "strength_mg": 35, "quantity": 60, "supply_days": 30}


def dispensed_ten_days_ago(engine: Engine, kb: KnowledgeBase) -> str:
    commands = [
        enrol_man(on=day(-20)),
        counsel(-20),
        weight(-10),
        start_course(-10),
        prescribe(-10),
        authorize(-10),
        dispense(-10),
    ]
    for command in commands:
        assert day(0) == API_NOW.date()  # the builders' day 0 is the API's today
        at = datetime.combine(command.on, API_NOW.timetz())
        execute(engine, "m1", command, actor="test", now=at, kb=kb)
    return "m1"


def test_an_early_prescription_is_refused_until_the_reason_is_recorded(
    client: TestClient, api_engine: Engine, kb: KnowledgeBase
) -> None:
    patient_id = dispensed_ten_days_ago(api_engine, kb)
    doctor = sign_in(client, api_engine, "prescriber")
    refused = post(client, doctor, patient_id, "prescribe", REPEAT)
    assert refused.status_code == 422, refused.text
    assert "SUPPLY-ON-HAND" in refused.text
    assert "20 days" in refused.text
    reason = {"reason": "capsules lost: seen today"}
    override = post(client, doctor, patient_id, "findings/SUPPLY-ON-HAND/override", reason)
    assert override.status_code in (200, 201), override.text
    stored = post(client, doctor, patient_id, "prescribe", REPEAT)
    assert stored.status_code in (200, 201), stored.text
