"""Builders of CDS Hooks requests for the tests: plain dicts, as an EHR sends them."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from isotrack.cds.discovery import SEARCHES, observation_codes
from isotrack.knowledge import KnowledgeBase
from tests.fhir.builders import isotretinoin_order

Json = dict[str, Any]
ORDER_SIGN = "isotretinoin-order-sign"
ORDER_SELECT = "isotretinoin-order-select"
PATIENT_VIEW = "isotretinoin-patient-view"
HOOKS = {ORDER_SIGN: "order-sign", ORDER_SELECT: "order-select", PATIENT_VIEW: "patient-view"}
EVALUATION_DATE = "isotrack-evaluation-date"


def searchset(resources: list[Json], full_urls: list[str | None] | None = None) -> Json:
    urls = full_urls or [None] * len(resources)
    entries = []
    for resource, url in zip(resources, urls, strict=True):
        entry: Json = {"resource": resource, "search": {"mode": "match"}}
        if url is not None:
            entry["fullUrl"] = url
        entries.append(entry)
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


def draft_orders(*orders: Json) -> Json:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": order} for order in orders],
    }


def hook_request(
    service_id: str,
    patient_id: str,
    *,
    prefetch: Json | None = None,
    orders: list[Json] | None = None,
    on: date | None = None,
    **extra: Any,
) -> Json:
    """A request to ``service_id``; order hooks get ``orders`` as draftOrders."""
    context: Json = {"userId": "Practitioner/example", "patientId": patient_id}
    if HOOKS[service_id] != "patient-view":
        context["draftOrders"] = draft_orders(*(orders or []))
    request: Json = {
        "hook": HOOKS[service_id],
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": context,
        "prefetch": prefetch or {},
    }
    if on is not None:
        request["extension"] = {EVALUATION_DATE: on.isoformat()}
    request.update(extra)
    return request


def prefetch_of(record: Json, kb: KnowledgeBase) -> Json:
    """A patient's transaction Bundle split into the contract's prefetch keys, the way an
    EHR answers the templates (observations only with the template's LOINC codes)."""
    wanted_codes = {token.split("|", 1)[1] for token in observation_codes(kb)}
    by_type: dict[str, tuple[list[Json], list[str | None]]] = {}
    patient: Json | None = None
    for entry in record.get("entry", []):
        resource = entry.get("resource", {})
        kind = resource.get("resourceType")
        if kind == "Patient":
            patient = resource
            continue
        if kind == "Observation":
            codes = {c.get("code") for c in resource.get("code", {}).get("coding", [])}
            if not codes & wanted_codes:
                continue
        resources, urls = by_type.setdefault(kind, ([], []))
        resources.append(resource)
        urls.append(entry.get("fullUrl"))
    prefetch: Json = {"patient": patient}
    for key, kind in SEARCHES.items():
        resources, urls = by_type.get(kind, ([], []))
        prefetch[key] = searchset(resources, urls)
    return prefetch


def read_record(path: Path) -> Json:
    document: Json = json.loads(gzip.decompress(path.read_bytes()))
    return document


def synthea_order(patient_id: str, on: date, **changes: Any) -> Json:
    """The acceptance order of tests/fhir/test_synthea.py, as a draft of ``patient_id``."""
    order = isotretinoin_order(id="isotrack-test-order", authored=on.isoformat(), **changes)
    order["subject"] = {"reference": f"Patient/{patient_id}"}
    return order


def cards_of(response: httpx.Response) -> list[Json]:
    """The cards of a 200 answer (the test fails on any other status, showing the body)."""
    assert response.status_code == 200, response.text
    cards: list[Json] = response.json()["cards"]
    return cards


def codes(cards: list[Json]) -> list[str]:
    """The rule id of each card, in order."""
    return [card["source"]["topic"]["code"] for card in cards]


def data_missing(cards: list[Json]) -> Json:
    return next(card for card in cards if card["source"]["topic"]["code"] == "DATA-MISSING")
