"""The CDS Hooks 2.0.1 schema of tests/cds/schema: it accepts the specification's own
examples, refuses what the tables forbid, and the suite-wide check fails a test whose
service answers something the tables forbid."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from tests.cds.hooks import ORDER_SIGN, hook_request
from tests.cds.schema import (
    CdsConformanceError,
    assert_conformant,
    conformance_errors,
    kind_of,
    schema,
)
from tests.fhir.builders import PATIENT_ID, isotretinoin_order, patient

SPEC = Path(__file__).resolve().parents[1] / "data" / "cds-hooks" / "spec-2.0.1"
Json = dict[str, Any]


def example(name: str) -> Any:
    return json.loads((SPEC / name).read_text())


def good_card() -> Json:
    return {
        "uuid": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
        "summary": "Isotretinoin dose above the usual range for the recent weight.",
        "indicator": "warning",
        "detail": "**Dose above range** (warning).",
        "source": {"label": "isotrack", "topic": {"system": "urn:isotrack:rule",
                                                  "code": "DOSE-ABOVE-RANGE"}},
        "suggestions": [{"label": "Change the dose", "uuid": "1", "isRecommended": True,
                         "actions": [{"type": "update", "description": "Change the dose",
                                      "resource": {"resourceType": "MedicationRequest"}}]}],
        "selectionBehavior": "at-most-one",
        "overrideReasons": [{"system": "urn:isotrack:override-reason", "code": "x",
                             "display": "Reason"}],
        "links": [{"label": "Course", "url": "https://isotrack.example.org/launch",
                   "type": "smart", "appContext": "patient=p1"}],
    }  # fmt: skip


def test_the_schema_is_a_valid_2020_12_schema() -> None:
    Draft202012Validator.check_schema(schema())


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("discovery-response.json", "Discovery"),
        ("extension-discovery.json", "Discovery"),
        ("cards-response.json", "CardsResponse"),
        ("cards-empty-response.json", "CardsResponse"),
        ("action-create.json", "Action"),
        ("action-update.json", "Action"),
        ("action-delete.json", "Action"),
    ],
)
def test_the_specifications_own_examples_conform(name: str, kind: str) -> None:
    assert_conformant(example(name), kind)


def test_the_specifications_source_and_override_reason_examples_conform() -> None:
    assert_conformant(example("source.json")["source"], "Source")
    for reason in example("override-reasons.json")["overrideReasons"]:
        assert_conformant(reason, "OverrideReason")


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("system-actions-response.json", "systemActions/0: 'description' is a required property"),
        ("cards-autolaunchable-response.json", "cards/0: 'indicator' is a required property"),
    ],
)
def test_two_examples_of_the_specification_break_its_own_tables_and_only_so(
    name: str, error: str
) -> None:
    """The Action table makes description REQUIRED and the Card table indicator; the
    page's System Action and autolaunchable examples leave them out."""
    assert conformance_errors(example(name), "CardsResponse") == [error]


def test_a_good_card_conforms() -> None:
    assert_conformant({"cards": [good_card()], "systemActions": [
        {"type": "delete", "description": "Remove", "resourceId": "MedicationRequest/1"}]},
        "CardsResponse")  # fmt: skip


def _set(path: str, value: Any) -> Json:
    """A good card with ``value`` at ``path`` (``/``-separated; ``-`` deletes)."""
    card = copy.deepcopy(good_card())
    *parents, last = path.split("/")
    holder: Any = card
    for step in parents:
        holder = holder[int(step) if step.isdigit() else step]
    key: Any = int(last) if last.isdigit() else last
    if value == "-":
        del holder[key]
    else:
        holder[key] = value
    return card


@pytest.mark.parametrize(
    ("path", "value", "why"),
    [
        ("summary", "x" * 140, "is too long"),
        ("summary", "", "should be non-empty"),
        ("summary", "Dose above range. Change it now", "more than one sentence"),
        ("summary", "Dose above range\nChange it", "does not match"),
        ("summary", "-", "'summary' is a required property"),
        ("detail", None, "None is not of type 'string'"),
        ("detail", "", "should be non-empty"),
        ("indicator", "error", "is not one of"),
        ("source/label", "", "should be non-empty"),
        ("source/topic/code", "-", "'code' is a required property"),
        ("source/url", "not a url", "does not match"),
        ("suggestions", [], "should be non-empty"),
        ("selectionBehavior", "-", "'selectionBehavior' is a dependency of 'suggestions'"),
        ("selectionBehavior", "all", "is not one of"),
        ("suggestions/0/actions", [], "should be non-empty"),
        ("suggestions/0/actions/0/resource", "-", "'resource' is a required property"),
        ("suggestions/0/actions/0/resource", {}, "'resourceType' is a required property"),
        ("suggestions/0/actions/0/type", "replace", "is not one of"),
        ("overrideReasons/0/display", "-", "'display' is a required property"),
        ("overrideReasons", [], "should be non-empty"),
        ("links/0/type", "absolute", "'smart' was expected"),
        ("links/0/url", "-", "'url' is a required property"),
        ("links", None, "None is not of type 'array'"),
        ("extension", {}, "should be non-empty"),
        ("summaryText", "typo", "Additional properties are not allowed"),
    ],
)
def test_what_the_tables_forbid_is_refused(path: str, value: Any, why: str) -> None:
    errors = conformance_errors({"cards": [_set(path, value)]}, "CardsResponse")
    assert any(why in error for error in errors), errors


@pytest.mark.parametrize(
    ("document", "kind", "why"),
    [
        ({}, "CardsResponse", "'cards' is a required property"),
        ({"cards": None}, "CardsResponse", "None is not of type 'array'"),
        ({"cards": [], "systemActions": []}, "CardsResponse", "should be non-empty"),
        ({"services": [{"hook": "patient-view", "id": "x"}]}, "Discovery", "'description'"),
        ({"services": [{"hook": "h", "id": "x", "description": "d", "prefetch": {}}]},
         "Discovery", "should be non-empty"),
        ({"services": [{"hook": "h", "id": "x", "description": "d", "prefetch": {"p": ""}}]},
         "Discovery", "should be non-empty"),
        ({}, "FeedbackAnswer", "should be non-empty"),
        ({"extension": {"count": None}}, "FeedbackAnswer", "is not valid under any"),
    ],
)  # fmt: skip
def test_empty_or_null_responses_are_refused(document: Any, kind: str, why: str) -> None:
    errors = conformance_errors(document, kind)
    assert any(why in error for error in errors), errors


@pytest.mark.parametrize(
    ("method", "path", "status", "kind"),
    [
        ("GET", "/cds-services", 200, "Discovery"),
        ("POST", "/cds-services/isotretinoin-order-sign", 200, "CardsResponse"),
        ("POST", "/cds-services/isotretinoin-order-sign/feedback", 200, "FeedbackAnswer"),
        ("POST", "/cds-services/isotretinoin-order-sign", 412, "problem"),
        ("OPTIONS", "/cds-services/isotretinoin-order-sign", 200, None),
        ("GET", "/api/patients", 200, None),
        ("GET", "/cds-services-elsewhere", 200, None),
    ],
)
def test_each_cds_response_is_checked_against_its_definition(
    method: str, path: str, status: int, kind: str | None
) -> None:
    assert kind_of(method, path, status) == kind


def test_a_service_answering_what_the_tables_forbid_fails_the_test_that_called_it(
    cds_app: FastAPI, cds_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The suite-wide check (tests/cds/schema/plugin.py) sees every CDS response: a null
    where the tables allow none fails the call, whatever the test itself asserts."""
    import isotrack.cds.routes as routes

    monkeypatch.setattr(routes, "encode", lambda _: b'{"cards": [{"summary": null}]}')
    request = hook_request(ORDER_SIGN, PATIENT_ID, prefetch={"patient": patient()},
                           orders=[isotretinoin_order()])  # fmt: skip
    with pytest.raises(CdsConformanceError, match="summary: None is not of type 'string'"):
        cds_client.post(f"/cds-services/{ORDER_SIGN}", json=request)
