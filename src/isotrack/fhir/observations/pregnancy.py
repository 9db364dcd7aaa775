"""hCG pregnancy tests and recorded pregnancy status.

The result vocabulary below is FHIR/HL7 and SNOMED CT qualifier values, i.e.
how a FHIR result says "positive" or "negative"; which tests count is in the
knowledge base.
"""

from __future__ import annotations

from datetime import date

from isotrack.clinical.codes import SNOMED, match
from isotrack.clinical.snapshot import PregnancyTest, TestResult, TestSetting
from isotrack.fhir.observations.model import ObservationValues, Part
from isotrack.fhir.resources import CodeableConcept, Observation, ObservationComponent
from isotrack.fhir.values import concept, describe_quantity
from isotrack.knowledge.base import KnowledgeBase

_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
_POSITIVE = frozenset(
    {(SNOMED, "10828004"), (SNOMED, "52101004"), (SNOMED, "260373001")}
    | {(_INTERPRETATION, "POS"), (_INTERPRETATION, "DET")}
)  # Positive, Present, Detected
_NEGATIVE = frozenset(
    {(SNOMED, "260385009"), (SNOMED, "2667000"), (SNOMED, "260415000")}
    | {(_INTERPRETATION, "NEG"), (_INTERPRETATION, "ND")}
)  # Negative, Absent, Not detected
_POSITIVE_WORDS = frozenset({"positive", "pos", "detected", "present", "+"})
_NEGATIVE_WORDS = frozenset({"negative", "neg", "not detected", "absent", "-"})


def hcg(
    part: Part, observation: Observation, on: date, label: str, values: ObservationValues
) -> None:
    holder = part.holder
    coded = [*holder.interpretation, *filter(None, [holder.value_codeable_concept])]
    read = [*map(_coded_result, coded), _word_result(holder.value_string or "")]
    verdicts = {verdict for verdict in read if verdict is not None}
    if TestResult.POSITIVE in verdicts:
        result = TestResult.POSITIVE
    elif TestResult.NEGATIVE in verdicts:
        result = TestResult.NEGATIVE
    elif holder.value_quantity is not None:
        result = TestResult.INDETERMINATE
        values.notes.append(
            f"{label}: quantitative hCG {describe_quantity(holder.value_quantity)} on {on} "
            "has no positive/negative interpretation; recorded as indeterminate "
            "(isotrack has no sourced cut-off for quantitative results)"
        )
    elif _has_value(holder):
        result = TestResult.INDETERMINATE
        values.notes.append(f"{label}: hCG result on {on} is not readable as positive or negative")
    else:
        values.notes.append(f"{label}: hCG test on {on} has no result; not counted as a test")
        return
    if len(verdicts) > 1:
        values.notes.append(f"{label}: hCG result and interpretation disagree; read as positive")
    setting = TestSetting.MEDICAL if _is_laboratory(observation) else TestSetting.UNKNOWN
    values.pregnancy_tests.append(PregnancyTest(on, result, setting, label))


def _has_value(holder: Observation | ObservationComponent) -> bool:
    return any(
        v is not None
        for v in (holder.value_codeable_concept, holder.value_string, holder.value_integer)
    )


def _coded_result(codeable: CodeableConcept) -> TestResult | None:
    codes = {(c.system, c.code) for c in codeable.coding}
    if codes & _POSITIVE:
        return TestResult.POSITIVE
    if codes & _NEGATIVE:
        return TestResult.NEGATIVE
    return _word_result(codeable.text) if codeable.text else None


def _word_result(text: str) -> TestResult | None:
    word = text.strip().rstrip(".").casefold()
    if word in _POSITIVE_WORDS:
        return TestResult.POSITIVE
    if word in _NEGATIVE_WORDS:
        return TestResult.NEGATIVE
    return None


def _is_laboratory(observation: Observation) -> bool:
    return any(c.code == "laboratory" for cc in observation.category for c in cc.coding)


def pregnancy_status(part: Part, kb: KnowledgeBase) -> bool | None:
    value = part.holder.value_codeable_concept
    if value is None:
        return None
    as_concept = concept(value)
    if match(as_concept, kb.valueset("pregnancy-status-pregnant")).matched:
        return True
    if match(as_concept, kb.valueset("pregnancy-status-not-pregnant")).matched:
        return False
    return None
