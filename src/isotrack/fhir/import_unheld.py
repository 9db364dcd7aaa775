"""What an import cannot hold: every fact of the EHR's record that the rules read and the
isotrack record has no command for, named in the import's notes (never dropped in silence).

The isotrack record holds weights, lab results, pregnancy tests and statuses, PHQ-9
screens, contraception and the course itself (:mod:`isotrack.fhir.import_observations`).
It holds no conditions, medication lists, allergies or procedures: the EHR keeps those, and
CDS Hooks screens every order against them. An import still reads them, and each one that
a rule reads (it belongs to a value set a rule names, e.g. ``tetracyclines`` for
TETRACYCLINE or ``hepatic-disease`` for HEPATIC-DISEASE) gets one line saying it was not
imported and what to do. A contraceptive medication or procedure is held (as
contraception) and an isotretinoin order is the course's own business, so neither is
listed here.

>>> from isotrack.knowledge import default_knowledge
>>> from isotrack.clinical.codes import RXNORM, Coding, Concept
>>> from isotrack.clinical.snapshot import MedicationRecord, PatientSnapshot
>>> doxy = Concept((Coding(RXNORM, "1652673", "Doxycycline Monohydrate 50 MG Oral Tablet"),))
>>> snapshot = PatientSnapshot("p1", medications=(MedicationRecord(doxy, "active", source="m1"),))
>>> note = unheld_notes(snapshot, default_knowledge())[0]
>>> note.partition(" (")[2].partition(": the isotrack record")[0]
'Doxycycline Monohydrate 50 MG Oral Tablet, active) is a medication the rules read (tetracyclines)'
"""

from __future__ import annotations

from collections.abc import Iterator

from isotrack.clinical.codes import Concept, ConceptMemory, matches_in
from isotrack.clinical.screening import method_for
from isotrack.clinical.snapshot import PatientSnapshot
from isotrack.knowledge.base import KnowledgeBase

PREGNANCY_CONDITIONS = {
    "pregnancy": "a pregnancy",
    "pregnancy-complication": "a pregnancy",
    "pregnancy-ended": "the end of a pregnancy",
    "lactation": "lactation",
}
"""Conditions the record holds in another form: a pregnancy status, the category."""
CONDITION_SETS = (
    "hepatic-disease",
    "hepatic-disease-icd10cm-categories",
    "hypertriglyceridaemia-conditions",
    "pancreatitis",
    "pancreatitis-icd10cm-categories",
    "psychiatric-history",
    "psychiatric-history-icd10cm-categories",
    "inflammatory-bowel-disease",
    "inflammatory-bowel-disease-icd10cm-categories",
    "diabetes",
    "diabetes-icd10cm-categories",
    "menopause",
    "hysterectomy-oophorectomy",
)
"""The condition value sets of the screening rules (HEPATIC-DISEASE, LIPIDS-HIGH,
PANCREATITIS-HISTORY, PSYCH-HISTORY, IBD-HISTORY, DIABETES, and whether the patient can
get pregnant)."""
MEDICATION_SETS = (
    "tetracyclines",
    "vitamin-a",
    "retinoids-systemic",
    "topical-irritants",
    "phenytoin",
    "corticosteroids-systemic",
    "st-johns-wort",
    "testosterone-therapy",
)
"""The drug value sets of the interaction rules (and testosterone, which the category
decision mentions)."""
ALLERGY_SETS = (
    "allergy-isotretinoin-retinoids-vitamin-a",
    "excipient-allergy-soy",
    "excipient-allergy-peanut",
    "excipient-allergy-parabens",
    "excipient-allergy-tartrazine",
)
PROCEDURE_SETS = ("hysterectomy-oophorectomy",)
_ADVICE = "screen orders against the EHR's record (CDS Hooks) or record the decision in isotrack"


def unheld_notes(snapshot: PatientSnapshot, kb: KnowledgeBase) -> list[str]:
    """One line for each fact the rules read that the record cannot hold."""
    memory = matches_in(kb)
    return [
        *_pregnancy_conditions(snapshot, memory),
        *_others(snapshot, memory, kb),
    ]


def _pregnancy_conditions(snapshot: PatientSnapshot, memory: ConceptMemory) -> Iterator[str]:
    for condition in snapshot.conditions:
        answers = memory.of(condition.concept)
        found = next((w for v, w in PREGNANCY_CONDITIONS.items() if answers.match(v).matched), None)
        if found is None or condition.refuted:
            continue
        when = f", onset {condition.onset}" if condition.onset else ""
        status = f", {condition.clinical_status}" if condition.clinical_status else ""
        yield (
            f"{condition.source or 'Condition'} ({condition.concept.label}{when}{status}) records "
            f"{found} as a condition, which the isotrack record does not hold: it is not "
            "imported; record a pregnancy status (RecordPregnancyStatus) or the programme "
            "category if it is current"
        )


def _others(snapshot: PatientSnapshot, memory: ConceptMemory, kb: KnowledgeBase) -> Iterator[str]:
    for condition in snapshot.conditions:
        if not condition.refuted:
            yield from _note(
                memory, condition.concept, condition.source, condition.clinical_status,
                "condition", "conditions", CONDITION_SETS,
            )  # fmt: skip
    for medication in snapshot.medications:
        if method_for(medication.concept, kb) is None:
            yield from _note(
                memory, medication.concept, medication.source, medication.status,
                "medication", "medication list", MEDICATION_SETS,
            )  # fmt: skip
    for allergy in snapshot.allergies:
        yield from _note(
            memory, allergy.concept, allergy.source, allergy.status,
            "allergy", "allergies", ALLERGY_SETS,
        )  # fmt: skip
    for procedure in snapshot.procedures:
        yield from _note(
            memory, procedure.concept, procedure.source, procedure.status,
            "procedure", "procedures", PROCEDURE_SETS,
        )  # fmt: skip


def _note(
    memory: ConceptMemory,
    concept: Concept,
    source: str,
    status: str | None,
    kind: str,
    held_as: str,
    valuesets: tuple[str, ...],
) -> Iterator[str]:
    answers = memory.of(concept)
    matched = [v for v in valuesets if answers.match(v).matched]
    if not matched:
        return
    shown = f"{concept.label}, {status}" if status else concept.label
    yield (
        f"{source or kind.capitalize()} ({shown}) is {'an' if kind[0] in 'aeiou' else 'a'} "
        f"{kind} the rules read "
        f"({', '.join(dict.fromkeys(m.removesuffix('-icd10cm-categories') for m in matched))}): "
        f"the isotrack record holds no {held_as}, so it is not imported; {_ADVICE}"
    )
