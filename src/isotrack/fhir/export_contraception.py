"""A use of a contraceptive method as FHIR R4: a ``MedicationStatement``, or a
``Procedure`` (with a removal ``Procedure`` once it ended) for a device or
sterilisation known only by a SNOMED CT procedure code.

The codes come from the knowledge base's contraception value sets (else the
method's name as text, which the FHIR reader knows); the isotrack method id is
one more coding (``urn:isotrack:contraception-method``), so an import gets the
very method back.
"""

from __future__ import annotations

from datetime import date

from isotrack.clinical.snapshot import ContraceptionUse
from isotrack.fhir.export_values import (
    ISOTRACK_METHOD,
    Resource,
    coding,
    method_codes,
    method_text,
    removal_code,
)
from isotrack.knowledge.base import KnowledgeBase


def contraception_resources(
    use: ContraceptionUse, kb: KnowledgeBase, on: date, subject: Resource
) -> list[tuple[str, Resource]]:
    """The resources of one use, the one that says it started first (and the one
    that says it stopped last). ``on`` is the export day."""
    method = kb.contraception_method(use.method)
    ended = use.end is not None and use.end <= on
    rxnorm, snomed = method_codes(method, kb, "rxnorm"), None
    if rxnorm is None:
        snomed = method_codes(method, kb, "snomed")
    removal = removal_code(method, kb)
    isotrack = coding(ISOTRACK_METHOD, method.id, method.name)
    if rxnorm is None and snomed is not None and use.start and (not ended or removal):
        made = [("Procedure", _procedure(_with(snomed, isotrack), use.start, subject))]
        if ended and removal is not None and use.end is not None:
            made.append(("Procedure", _procedure(_with(removal, isotrack), use.end, subject)))
        return made
    medication = _with(rxnorm or {"text": method_text(method, kb)}, isotrack)
    period: Resource = {}
    if use.start is not None:
        period["start"] = use.start.isoformat()
    if use.end is not None:
        period["end"] = use.end.isoformat()
    statement = {
        "status": "completed" if ended else "active",
        "medicationCodeableConcept": medication,
        "subject": subject,
        "effectivePeriod": period,
        "note": [{"text": f"Contraception: {method.name}"}],
    }
    return [("MedicationStatement", statement)]


def _with(concept: Resource, extra: Resource) -> Resource:
    return {**concept, "coding": [*concept.get("coding", ()), extra]}


def _procedure(code: Resource, on: date, subject: Resource) -> Resource:
    return {
        "status": "completed",
        "code": code,
        "subject": subject,
        "performedDateTime": on.isoformat(),
    }
