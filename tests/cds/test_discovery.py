"""Discovery lists exactly the contract's services and prefetch templates."""

from __future__ import annotations

from fastapi.testclient import TestClient

from isotrack.clinical.codes import LOINC
from isotrack.fhir.observations import KINDS
from isotrack.knowledge import KnowledgeBase

CONTRACT_SERVICES = {
    "isotretinoin-order-select": "order-select",
    "isotretinoin-order-sign": "order-sign",
    "isotretinoin-patient-view": "patient-view",
}
P = "{{context.patientId}}"
CONTRACT_SEARCHES = {
    "patient": f"Patient/{P}",
    "medications": f"MedicationRequest?patient={P}",
    "conditions": f"Condition?patient={P}",
    "allergies": f"AllergyIntolerance?patient={P}",
    "procedures": f"Procedure?patient={P}",
}


def test_discovery_lists_the_three_services_of_the_contract(
    cds_client: TestClient, kb: KnowledgeBase
) -> None:
    response = cds_client.get("/cds-services")
    assert response.status_code == 200
    services = response.json()["services"]
    assert {s["id"]: s["hook"] for s in services} == CONTRACT_SERVICES
    for service in services:
        assert service["title"]
        assert service["description"]
        prefetch = service["prefetch"]
        assert set(prefetch) == {*CONTRACT_SEARCHES, "observations"}
        assert {k: v for k, v in prefetch.items() if k != "observations"} == CONTRACT_SEARCHES


def test_the_observation_template_asks_for_every_code_isotrack_reads(
    cds_client: TestClient, kb: KnowledgeBase
) -> None:
    template = cds_client.get("/cds-services").json()["services"][0]["prefetch"]["observations"]
    query, _, codes = template.partition("&code=")
    assert query == f"Observation?patient={P}"
    wanted = {
        f"{LOINC}|{c.code}" for v in KINDS for c in kb.valueset(v).codes if c.system == "loinc"
    }
    # and isotrack's own lesion-count code: acne lesion counts have no LOINC code
    assert set(codes.split(",")) == wanted | {"urn:isotrack:observation|lesion-count"}
    for must in ("29463-7", "2571-8", "1742-6", "2345-7", "2106-3", "82810-3", "44261-6"):
        assert f"{LOINC}|{must}" in wanted  # weight, TG, ALT, glucose, hCG, pregnancy, PHQ-9


def test_each_service_says_which_data_it_cannot_answer_without(
    cds_client: TestClient, kb: KnowledgeBase
) -> None:
    services = cds_client.get("/cds-services").json()["services"]
    for service in services:
        required = kb.cds_required_data(service["hook"])
        assert service["usageRequirements"] == required.usage
        assert "412 Precondition Failed" in required.usage
        for key in (*required.to_decide, *required.to_screen):
            assert key in service["prefetch"], f"{service['hook']} requires unknown key {key}"
            assert f"prefetch key {key}" in required.usage
        assert "cds-hooks-2.0.1" in required.sources
