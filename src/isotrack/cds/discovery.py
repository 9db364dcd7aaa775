"""The three services of the CDS Hooks contract and their prefetch templates.

Service ids, hooks and prefetch keys are a contract (contracts/cds-hooks.md):
extend them, never rename one. Each service's ``usageRequirements`` says which
data it cannot answer without (the knowledge base's ``cds_required_data``). The
``observations`` template asks only for the observations isotrack reads, by the
LOINC codes of the knowledge base's value sets (weight, lipids, liver enzymes,
glucose, hCG, pregnancy status, PHQ-9), and isotrack's own lesion-count code
(``urn:isotrack:observation|lesion-count``: there is no LOINC code for acne lesion
counts, and isotrack's export writes them so).

>>> from isotrack.knowledge import default_knowledge
>>> templates = prefetch_templates(default_knowledge())
>>> list(templates)
['patient', 'medications', 'conditions', 'observations', 'allergies', 'procedures']
>>> templates["observations"].startswith("Observation?patient={{context.patientId}}&code=")
True
"""

from __future__ import annotations

from dataclasses import dataclass

from isotrack.cds.models import Discovery, ServiceEntry
from isotrack.clinical.codes import SYSTEMS
from isotrack.fhir.export_values import ISOTRACK_OBSERVATION, LESION_COUNT
from isotrack.fhir.observations import KINDS as OBSERVATION_VALUESETS
from isotrack.knowledge.base import KnowledgeBase

PATIENT_KEY = "patient"
PATIENT_ID = "{{context.patientId}}"
SEARCHES: dict[str, str] = {
    "medications": "MedicationRequest",
    "conditions": "Condition",
    "observations": "Observation",
    "allergies": "AllergyIntolerance",
    "procedures": "Procedure",
}
"""Prefetch keys answered by a searchset Bundle, and the resource type each searches."""
PREFETCH_KEYS = (PATIENT_KEY, *SEARCHES)


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    hook: str
    title: str
    description: str

    @property
    def orders(self) -> bool:
        """True for the order hooks (order-select, order-sign)."""
        return self.hook != "patient-view"


SERVICES: dict[str, Service] = {
    s.id: s
    for s in (
        Service(
            "isotretinoin-order-select",
            "order-select",
            "isotrack: isotretinoin order check",
            "Screens an isotretinoin order as it is picked: pregnancy prevention, "
            "interactions, contraindications, labs, dose and supply.",
        ),
        Service(
            "isotretinoin-order-sign",
            "order-sign",
            "isotrack: isotretinoin order check before signing",
            "Screens an isotretinoin order before it is signed: pregnancy prevention, "
            "interactions, contraindications, labs, dose and supply.",
        ),
        Service(
            "isotretinoin-patient-view",
            "patient-view",
            "isotrack: isotretinoin course monitoring",
            "For a patient on, or recently off, isotretinoin: tests and screens due, "
            "and precautions during and after the course.",
        ),
    )
}


def prefetch_templates(kb: KnowledgeBase) -> dict[str, str]:
    """The contract's prefetch templates, the same for every service."""
    templates = {PATIENT_KEY: f"Patient/{PATIENT_ID}"}
    for key, resource_type in SEARCHES.items():
        template = f"{resource_type}?patient={PATIENT_ID}"
        if key == "observations":
            template += "&code=" + ",".join(observation_codes(kb))
        templates[key] = template
    return templates


def observation_codes(kb: KnowledgeBase) -> list[str]:
    """``system|code`` tokens of every LOINC code isotrack reads from observations, and
    of isotrack's own lesion-count code."""
    codes: dict[str, None] = {}
    for valueset_id in OBSERVATION_VALUESETS:
        for code in kb.valueset(valueset_id).codes:
            if code.system == "loinc":
                codes[f"{SYSTEMS[code.system]}|{code.code}"] = None
    codes[f"{ISOTRACK_OBSERVATION}|{LESION_COUNT}"] = None
    return list(codes)


def discovery(kb: KnowledgeBase) -> Discovery:
    templates = prefetch_templates(kb)
    return Discovery(
        tuple(
            ServiceEntry(
                hook=s.hook,
                title=s.title,
                description=s.description,
                id=s.id,
                prefetch=dict(templates),
                usage_requirements=kb.cds_required_data(s.hook).usage,
            )
            for s in SERVICES.values()
        )
    )
