"""`isotrack import` names every fact the rules read that the record cannot hold (issue 12:
"what cannot be held is reported, not silently lost")."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from isotrack.clinical.codes import RXNORM, SNOMED
from isotrack.fhir.import_record import plan_import
from isotrack.knowledge import KnowledgeBase
from tests.fhir.builders import (
    bundle,
    concept,
    medication_request,
    patient,
    procedure,
    read,
)

NAMED = patient(name=[{"family": "Doe", "given": ["Jo"]}])
ACTIVE = {"coding": [{"code": "active"}]}


def notes_of(kb: KnowledgeBase, *resources: dict[str, Any]) -> tuple[str, ...]:
    plan = plan_import(
        read(bundle(NAMED, *resources, with_patient=False)), kb=kb, on=date(2026, 3, 1)
    )
    return plan.notes


@pytest.mark.parametrize(
    ("resource", "words"),
    [
        (
            medication_request(
                concept(RXNORM, "1652673", "Doxycycline Monohydrate 50 MG Oral Tablet"),
                id="doxy",
                status="active",
                authored="2026-02-01",
            ),
            "is a medication the rules read (tetracyclines)",
        ),
        (
            {
                "resourceType": "Condition",
                "id": "liver",
                "clinicalStatus": ACTIVE,
                "code": concept(SNOMED, "19943007", "Cirrhosis of liver"),
            },
            "is a condition the rules read (hepatic-disease)",
        ),
        (
            {
                "resourceType": "AllergyIntolerance",
                "id": "soy",
                "clinicalStatus": ACTIVE,
                "code": concept(SNOMED, "782594005", "Allergy to soy protein"),
            },
            "is an allergy the rules read",
        ),
        (
            procedure("236886002", "Hysterectomy", "2015-04-01", id="hyst"),
            "is a procedure the rules read (hysterectomy-oophorectomy)",
        ),
    ],
)
def test_a_fact_the_rules_read_and_the_record_cannot_hold_is_named_in_the_notes(
    kb: KnowledgeBase, resource: dict[str, Any], words: str
) -> None:
    notes = notes_of(kb, resource)
    assert any(words in note and "not imported" in note for note in notes), notes


def test_facts_no_rule_reads_and_contraceptives_the_record_holds_are_not_listed(
    kb: KnowledgeBase,
) -> None:
    amoxicillin = medication_request(
        concept(RXNORM, "308182", "Amoxicillin 250 MG Oral Capsule"),
        id="amox",
        status="active",
        authored="2026-02-01",
    )
    implant = medication_request(
        concept(RXNORM, "389221", "etonogestrel 68 MG Drug Implant"),
        id="implant",
        status="active",
        authored="2026-02-01",
    )
    notes = notes_of(kb, amoxicillin, implant)
    assert not [note for note in notes if "not imported" in note]
