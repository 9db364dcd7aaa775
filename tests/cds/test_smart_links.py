"""Cards that open the app: with SMART launch set up, every card links to isotrack's
own ``/smart/launch`` (a ``smart`` link) carrying the EHR's patient and the draft
order under review in ``appContext`` (CDS Hooks 2.0.1); the launch reads that
context back (:func:`isotrack.http.smart.launch_context`). Every response here is
checked against the 2.0.1 schema (tests/cds/schema) by the suite-wide plugin."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from isotrack.http.smart import launch_context
from isotrack.knowledge import KnowledgeBase
from tests.cds.conftest import make_app
from tests.cds.hooks import ORDER_SIGN, PATIENT_VIEW, hook_request, searchset
from tests.cds.test_hooks import male_prefetch, post
from tests.fhir.builders import PATIENT_ID, isotretinoin_order, quantity

REGISTERED = json.dumps(
    [{"iss": "https://ehr.example.org/fhir", "client_id": "isotrack", "client_secret": "s",
      "roles": {"Practitioner": "prescriber"}}]
)  # fmt: skip


def links_of(answer: Any) -> list[Any]:
    assert answer["cards"], "the request should give cards"
    return [link for card in answer["cards"] for link in card["links"]]


def test_order_cards_launch_isotrack_at_the_patient_with_the_draft_order(
    cds_engine: Engine, kb: KnowledgeBase
) -> None:
    app = make_app(
        cds_engine, kb, smart_ehrs=REGISTERED, cds_public_url="https://isotrack.example.org"
    )
    order = isotretinoin_order(id="draft-42", dose=quantity(80, "mg"))
    request = hook_request(ORDER_SIGN, PATIENT_ID, prefetch=male_prefetch(), orders=[order])
    with TestClient(app) as client:
        links = links_of(post(client, ORDER_SIGN, request))
    assert {link["type"] for link in links} == {"smart"}
    assert {link["url"] for link in links} == {"https://isotrack.example.org/smart/launch"}
    contexts = {link["appContext"] for link in links}
    assert len(contexts) == 1
    app_context = contexts.pop()
    assert json.loads(app_context) == {
        "patient": PATIENT_ID,
        "order": "MedicationRequest/draft-42",
    }
    # what the launch makes of it when the EHR hands it back with the same patient
    context = launch_context({"patient": PATIENT_ID, "appContext": app_context})
    assert (context.patient, context.order) == (PATIENT_ID, "MedicationRequest/draft-42")


def test_patient_view_cards_carry_the_patient_alone(cds_engine: Engine, kb: KnowledgeBase) -> None:
    app = make_app(cds_engine, kb, cds_smart_app_url="https://isotrack.example.org/smart/launch")
    prefetch = male_prefetch(
        medications=[isotretinoin_order(id="active-1", status="active", intent="order")]
    )
    prefetch["procedures"] = searchset([])
    request = hook_request(PATIENT_VIEW, PATIENT_ID, prefetch=prefetch)
    with TestClient(app) as client:
        answer = post(client, PATIENT_VIEW, request)
    for link in links_of(answer):
        assert link["url"] == "https://isotrack.example.org/smart/launch"
        assert json.loads(link["appContext"]) == {"patient": PATIENT_ID}


def test_without_smart_launch_set_up_cards_have_no_links(
    cds_engine: Engine, kb: KnowledgeBase
) -> None:
    # registered EHRs but no public URL: isotrack cannot say where to launch
    callback = "https://isotrack.example.org/smart/callback"
    app = make_app(cds_engine, kb, smart_ehrs=REGISTERED, smart_redirect_url=callback)
    order = isotretinoin_order(dose=quantity(80, "mg"))
    request = hook_request(ORDER_SIGN, PATIENT_ID, prefetch=male_prefetch(), orders=[order])
    with TestClient(app) as client:
        answer = post(client, ORDER_SIGN, request)
    assert answer["cards"]
    assert all("links" not in card for card in answer["cards"])
