"""Feedback on cards goes to the audit trail, which still verifies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

import isotrack.cli.audit_cmd  # noqa: F401  # registers `isotrack audit verify`
from isotrack.cds.cards import OVERRIDE_REASON_SYSTEM
from isotrack.cds.feedback import MAX_FEEDBACK_ITEMS, IssuedCard, IssuedCards
from isotrack.cli.app import app
from isotrack.store import UnitOfWork, verify_audit
from tests.cds.hooks import ORDER_SIGN, hook_request, searchset
from tests.fhir.builders import PATIENT_ID, isotretinoin_order, patient, weight

FEEDBACK = f"/cds-services/{ORDER_SIGN}/feedback"
WHEN = "2026-03-02T10:31:00Z"


def issued_cards(client: TestClient) -> list[Any]:
    prefetch = {"patient": patient(gender="male", birth_date="1990-01-01"),
                "observations": searchset([weight(60, "kg")])}  # fmt: skip
    request = hook_request(ORDER_SIGN, PATIENT_ID, prefetch=prefetch, orders=[isotretinoin_order()])
    response = client.post(f"/cds-services/{ORDER_SIGN}", json=request)
    assert response.status_code == 200
    cards: list[Any] = response.json()["cards"]
    return cards


def card(cards: list[Any], rule_id: str) -> Any:
    return next(c for c in cards if c["source"]["topic"]["code"] == rule_id)


def test_accepted_and_overridden_outcomes_are_audited_with_rule_and_patient(
    cds_client: TestClient, cds_engine: Engine
) -> None:
    cards = issued_cards(cds_client)
    dose = card(cards, "DOSE-ABOVE-RANGE")
    missing = card(cards, "DATA-MISSING")
    reason = dose["overrideReasons"][0]
    body = {"feedback": [
        {"card": dose["uuid"], "outcome": "accepted", "outcomeTimestamp": WHEN,
         "acceptedSuggestions": [{"id": dose["suggestions"][0]["uuid"]}]},
        {"card": missing["uuid"], "outcome": "overridden", "outcomeTimestamp": WHEN,
         "overrideReason": {"reason": reason, "userComment": "checked the paper chart"}},
    ]}  # fmt: skip
    response = cds_client.post(FEEDBACK, json=body)
    assert response.status_code == 200
    assert response.json() == {"extension": {"isotrack-feedback-recorded": 2}}
    with UnitOfWork(cds_engine) as uow:
        rows = [row for row in uow.audit.entries() if row.action.startswith("cds-feedback:")]
    assert [row.action for row in rows] == ["cds-feedback:accepted", "cds-feedback:overridden"]
    assert {row.patient_id for row in rows} == {PATIENT_ID}
    assert {row.actor for row in rows} == {"ehr:unsigned"}
    accepted, overridden = (row.detail for row in rows)
    assert accepted["rule"] == "DOSE-ABOVE-RANGE"
    assert accepted["accepted_suggestions"] == [dose["suggestions"][0]["uuid"]]
    assert overridden["rule"] == "DATA-MISSING"
    assert overridden["override_reason"]["system"] == OVERRIDE_REASON_SYSTEM
    assert overridden["comment"] == "checked the paper chart"
    verified = verify_audit(cds_engine)
    assert verified.ok, verified.reason
    database = cds_engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["audit", "verify", "--database", database, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rows"] == 2


def test_feedback_on_an_unknown_card_is_stored_without_rule_or_patient(
    cds_client: TestClient, cds_engine: Engine
) -> None:
    body = {"feedback": [{"card": "issued-before-a-restart", "outcome": "accepted",
                          "outcomeTimestamp": WHEN}]}  # fmt: skip
    assert cds_client.post(FEEDBACK, json=body).status_code == 200
    with UnitOfWork(cds_engine) as uow:
        (row,) = uow.audit.entries()
    assert row.patient_id is None
    assert row.detail["rule"] is None
    assert row.detail["card"] == "issued-before-a-restart"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"nonsense", 400, "body"),
        (b'{"feedback": "yes"}', 422, "feedback"),
        (b'{"feedback": []}', 422, "feedback"),
        (b'{"feedback": [{"card": "c", "outcome": "ignored", "outcomeTimestamp": "t"}]}', 422,
         "feedback[0].outcome"),
        (b'{"feedback": [{"card": "c", "outcome": "accepted"}]}', 422, "feedback[0]"),
        (b'{"feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": "t",'
         b' "overrideReason": {"userComment": "?"}}]}', 422, "feedback[0].overrideReason"),
        (b'{"feedback": [{"card": "' + b"c" * 5000 + b'", "outcome": "accepted",'
         b' "outcomeTimestamp": "t"}]}', 422, "feedback[0].card"),
        (b'{"feedback": [' + b",".join([b'{"card": "c", "outcome": "accepted",'
         b' "outcomeTimestamp": "t"}'] * (MAX_FEEDBACK_ITEMS + 1)) + b"]}", 422, "feedback"),
    ],
    ids=["not-json", "not-a-list", "empty", "bad-outcome", "no-timestamp", "reason-on-accept",
         "long-card", "too-many"],
)  # fmt: skip
def test_a_bad_feedback_body_is_refused_and_writes_nothing(
    cds_client: TestClient, cds_engine: Engine, body: bytes, status: int, field: str
) -> None:
    response = cds_client.post(FEEDBACK, content=body, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["field"].startswith(field)
    with UnitOfWork(cds_engine) as uow:
        assert uow.audit.entries() == []


def test_feedback_to_an_unknown_service_is_a_404(cds_client: TestClient) -> None:
    assert cds_client.post("/cds-services/nope/feedback", json={"feedback": []}).status_code == 404


def test_the_issued_card_memory_keeps_only_the_latest_cards() -> None:
    issued = IssuedCards(size=3)
    issued.remember((f"card-{n}", IssuedCard(ORDER_SIGN, "DATA-MISSING", "p")) for n in range(5))
    assert issued.get("card-0") is None
    assert issued.get("card-1") is None
    assert issued.get("card-4") == IssuedCard(ORDER_SIGN, "DATA-MISSING", "p")
