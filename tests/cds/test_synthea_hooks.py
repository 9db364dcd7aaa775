"""Acceptance: every Synthea R4 bundle, split into the contract's prefetch, gets valid cards.

Each bundle becomes the prefetch an EHR would send (the Patient and one
searchset Bundle per key, observations restricted to the template's LOINC
codes) with the draft order of tests/fhir/test_synthea.py (Isotretinoin 40 MG,
twice a day, 60 capsules, 30 days) dated on the last encounter, which is also
the evaluation date (extension ``isotrack-evaluation-date``). The order goes to
order-sign and order-select; then, as an active order in the medications, the
patient goes to patient-view. The order hooks find exactly what screening the
whole bundle finds (tests/fhir/test_synthea.py): the prefetch loses nothing the
rules read.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from isotrack.fhir import decode_bundle
from isotrack.knowledge import KnowledgeBase, default_knowledge
from tests.cds.hooks import (
    ORDER_SELECT,
    ORDER_SIGN,
    PATIENT_VIEW,
    Json,
    hook_request,
    prefetch_of,
    read_record,
    synthea_order,
)
from tests.fhir.test_synthea import FILES, last_encounter_day, screened

INDICATORS = {"info", "warning", "critical"}


@cache
def patient_request(path: Path) -> tuple[str, date, Json]:
    """(patient id, last encounter, prefetch) of one bundle."""
    record = read_record(path)
    on = last_encounter_day(decode_bundle(record))
    prefetch = prefetch_of(record, default_knowledge())
    return prefetch["patient"]["id"], on, prefetch


def check_cards(cards: list[Any], kb: KnowledgeBase) -> None:
    catalogue = {rule.id for rule in kb.rules}
    for card in cards:
        assert card["source"]["label"] == "isotrack"
        assert card["source"]["topic"]["system"] == "urn:isotrack:rule"
        assert card["source"]["topic"]["code"] in catalogue
        assert len(card["summary"]) <= 140
        assert card["indicator"] in INDICATORS
        assert card["detail"]
        if card["indicator"] in ("warning", "critical"):
            assert card["overrideReasons"], card["source"]["topic"]["code"]
        for suggestion in card.get("suggestions", []):
            assert suggestion["uuid"]
            assert suggestion["actions"]


@pytest.mark.parametrize("name", FILES)
def test_every_synthea_patient_gets_valid_cards_from_every_hook(
    synthea_dir: Path, cds_client: TestClient, kb: KnowledgeBase, name: str
) -> None:
    patient_id, on, prefetch = patient_request(synthea_dir / name)
    order = synthea_order(patient_id, on)
    for service in (ORDER_SIGN, ORDER_SELECT):
        request = hook_request(service, patient_id, prefetch=prefetch, orders=[order], on=on)
        response = cds_client.post(f"/cds-services/{service}", json=request)
        assert response.status_code == 200, response.text
        cards = response.json()["cards"]
        check_cards(cards, kb)
        direct = screened(synthea_dir / name).assessment.rule_ids
        assert [card["source"]["topic"]["code"] for card in cards] == list(direct)
    active = synthea_order(patient_id, on, status="active")
    on_course = dict(prefetch)
    on_course["medications"] = dict(prefetch["medications"])
    on_course["medications"]["entry"] = [*prefetch["medications"]["entry"], {"resource": active}]
    request = hook_request(PATIENT_VIEW, patient_id, prefetch=on_course, on=on)
    response = cds_client.post(f"/cds-services/{PATIENT_VIEW}", json=request)
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    assert cards, "a patient starting a course has reminders"
    check_cards(cards, kb)


def test_no_synthea_patient_is_on_isotretinoin_so_patient_view_stays_silent(
    synthea_dir: Path, cds_client: TestClient
) -> None:
    for name in FILES[:10]:
        patient_id, on, prefetch = patient_request(synthea_dir / name)
        request = hook_request(PATIENT_VIEW, patient_id, prefetch=prefetch, on=on)
        response = cds_client.post(f"/cds-services/{PATIENT_VIEW}", json=request)
        assert response.json() == {"cards": []}
