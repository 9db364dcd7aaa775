"""Observations to snapshot values: weights, labs, hCG tests, PHQ-9, pregnancy status.

Which observation is which comes from knowledge-base value sets (LOINC). An
observation that carries a LOINC code is recognised by its codes only: a
different LOINC code is a different test (urine glucose is not blood glucose),
so text is consulted only for observations with no LOINC code, and a note says
so. Values enter in canonical units (:func:`isotrack.clinical.units.to_canonical`);
a unit that cannot be converted drops that one observation with a note. An
impossible value (a negative result, a weight of 0) is refused with a
:class:`~isotrack.errors.FhirDecodeError` naming the observation.

The result vocabulary below is FHIR/HL7 and SNOMED CT qualifier values, i.e.
how a FHIR result says "positive" or "negative"; which tests count is in the
knowledge base.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from isotrack.clinical.codes import LOINC, SNOMED, SYSTEMS, match
from isotrack.clinical.snapshot import LabResult, MoodScreen, PregnancyTest, TestResult, TestSetting
from isotrack.clinical.snapshot import Weight as WeightRecord
from isotrack.clinical.units import canonical_unit, to_canonical
from isotrack.errors import InvalidInputError
from isotrack.fhir.resources import CodeableConcept, Observation, ObservationComponent
from isotrack.fhir.values import (
    concept,
    describe_quantity,
    fhir_date,
    quantity_unit,
    refusing_impossible,
)
from isotrack.knowledge.base import KnowledgeBase

LAB_VALUESETS = {
    "lab-triglycerides": "triglycerides",
    "lab-cholesterol": "cholesterol",
    "lab-hdl": "hdl",
    "lab-ldl": "ldl",
    "lab-alt": "alt",
    "lab-ast": "ast",
    "lab-glucose": "glucose",
}
WEIGHT = "body-weight"
HCG = "pregnancy-test-hcg"
PHQ9_TOTAL = "phq9-total"
PHQ9_ITEM9 = "phq9-item9"
PREGNANCY_STATUS = "pregnancy-status-observation"
KINDS = (WEIGHT, *LAB_VALUESETS, HCG, PHQ9_TOTAL, PHQ9_ITEM9, PREGNANCY_STATUS)
"""Value sets that make an observation relevant, in the order they are tried."""

SKIPPED_STATUSES = frozenset({"entered-in-error", "cancelled"})

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
_PHQ_ANSWERS = {"LA6568-5": 0, "LA6569-3": 1, "LA6570-1": 2, "LA6571-9": 3}
"""LOINC answers (LL358-3): not at all, several days, more than half the days, nearly every day."""


@dataclass
class ObservationValues:
    """What the observations of one patient contribute to the snapshot."""

    weights: list[WeightRecord] = field(default_factory=list)
    labs: list[LabResult] = field(default_factory=list)
    pregnancy_tests: list[PregnancyTest] = field(default_factory=list)
    mood_screens: list[MoodScreen] = field(default_factory=list)
    pregnant: bool | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Part:
    """An observation, or one component of it, with the value set it matched."""

    kind: str
    code: str
    holder: Observation | ObservationComponent


class ObservationKinds:
    """Recognises observation codes against the knowledge base's value sets (built once
    per knowledge base)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.by_code: dict[tuple[str, str], str] = {}
        for valueset_id in KINDS:
            for code in kb.valueset(valueset_id).codes:
                key = (SYSTEMS[code.system], code.code)
                self.by_code.setdefault(key, valueset_id)

    def kind_of(self, code: CodeableConcept | None) -> tuple[str, str, bool] | None:
        """(value set id, matched code, by text) for a relevant code, else None."""
        if code is None:
            return None
        has_loinc = False
        for coding in code.coding:
            if coding.system and coding.code:
                found = self.by_code.get((coding.system, coding.code))
                if found is not None:
                    return found, coding.code, False
                has_loinc = has_loinc or coding.system == LOINC
        if has_loinc:
            return None
        as_concept = concept(code)
        for valueset_id in KINDS:
            if match(as_concept, self.kb.valueset(valueset_id)).matched:
                return valueset_id, "", True
        return None


def read_observations(observations: Iterable[Observation], kb: KnowledgeBase) -> ObservationValues:
    """Weights, labs, hCG tests, PHQ-9 screens and pregnancy status from observations."""
    kinds = kb.derived("fhir.observation-kinds", ObservationKinds)
    values = ObservationValues()
    totals: dict[date, tuple[int, str]] = {}
    item9s: dict[date, tuple[int, str]] = {}
    status_on: date | None = None
    for observation in observations:
        if observation.status in SKIPPED_STATUSES:
            continue
        parts = list(_relevant_parts(observation, kinds, values.notes))
        if not parts:
            continue
        label = f"Observation/{observation.id}" if observation.id else "Observation (no id)"
        on = _effective(observation, label)
        if on is None:
            values.notes.append(f"{label}: no effective date; ignored")
            continue
        for part in parts:
            if part.kind == WEIGHT:
                _weight(part, on, label, kb, values)
            elif part.kind in LAB_VALUESETS:
                _lab(part, LAB_VALUESETS[part.kind], on, label, kb, values)
            elif part.kind == HCG:
                _hcg(part, observation, on, label, values)
            elif part.kind in (PHQ9_TOTAL, PHQ9_ITEM9):
                score = _score(part, label, values.notes)
                if score is not None:
                    target = totals if part.kind == PHQ9_TOTAL else item9s
                    target[on] = (score, label)
            elif part.kind == PREGNANCY_STATUS and (status_on is None or on >= status_on):
                pregnant = _pregnancy_status(part, kb)
                if pregnant is not None:
                    status_on, values.pregnant = on, pregnant
    values.mood_screens.extend(_mood_screens(totals, item9s, values.notes))
    return values


def _relevant_parts(
    observation: Observation, kinds: ObservationKinds, notes: list[str]
) -> Iterator[_Part]:
    holders: list[Observation | ObservationComponent] = [observation, *observation.component]
    for holder in holders:
        found = kinds.kind_of(holder.code)
        if found is None:
            continue
        kind, code, by_text = found
        if by_text:
            what = concept(holder.code).label
            notes.append(
                f"Observation/{observation.id}: {what!r} read as {kind} by its name only "
                "(no matching code)"
            )
        yield _Part(kind, code, holder)


def _effective(observation: Observation, label: str) -> date | None:
    if observation.effective_date_time is not None:
        return fhir_date(observation.effective_date_time, f"{label} effectiveDateTime")
    if observation.effective_period is not None:
        period = observation.effective_period
        return fhir_date(period.start or period.end, f"{label} effectivePeriod")
    return fhir_date(observation.effective_instant, f"{label} effectiveInstant")


def _quantity(part: _Part, what: str, label: str, notes: list[str]) -> tuple[float, str] | None:
    quantity = part.holder.value_quantity
    if quantity is None or quantity.value is None:
        notes.append(f"{label}: {what} without a numeric value; ignored")
        return None
    unit = quantity_unit(quantity)
    if not unit:
        notes.append(f"{label}: {what} {quantity.value:g} has no unit; ignored")
        return None
    return quantity.value, unit


def _convert(analyte: str, value: float, unit: str, kb: KnowledgeBase) -> float | None:
    try:
        return to_canonical(analyte, value, unit, kb)
    except InvalidInputError:
        return None


def _weight(
    part: _Part, on: date, label: str, kb: KnowledgeBase, values: ObservationValues
) -> None:
    read = _quantity(part, "body weight", label, values.notes)
    if read is None:
        return
    kg = _convert("weight", *read, kb)
    if kg is None:
        values.notes.append(
            f"{label}: unit {read[1]!r} for body weight cannot be converted to kg; ignored"
        )
        return
    with refusing_impossible(label, "valueQuantity"):
        values.weights.append(WeightRecord(kg, on, label))


def _lab(
    part: _Part, analyte: str, on: date, label: str, kb: KnowledgeBase, values: ObservationValues
) -> None:
    read = _quantity(part, analyte, label, values.notes)
    if read is None:
        return
    value, unit = read
    converted = _convert(analyte, value, unit, kb)
    if converted is None:
        values.notes.append(
            f"{label}: unit {unit!r} for {analyte} cannot be converted to "
            f"{canonical_unit(analyte)}; ignored"
        )
        return
    high = _reference_high(part, analyte, unit, kb)
    with refusing_impossible(label, "valueQuantity"):
        values.labs.append(
            LabResult(analyte, converted, canonical_unit(analyte), on, high, part.code, label)
        )


def _reference_high(part: _Part, analyte: str, value_unit: str, kb: KnowledgeBase) -> float | None:
    holder = part.holder
    if not isinstance(holder, Observation):
        return None
    for reference in holder.reference_range:
        high = reference.high
        if high is not None and high.value is not None:
            unit = quantity_unit(high) or value_unit
            return _convert(analyte, high.value, unit, kb)
    return None


def _hcg(
    part: _Part, observation: Observation, on: date, label: str, values: ObservationValues
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


def _score(part: _Part, label: str, notes: list[str]) -> int | None:
    holder = part.holder
    what = "PHQ-9 total" if part.kind == PHQ9_TOTAL else "PHQ-9 item 9"
    number: float | None = holder.value_integer
    if number is None and holder.value_quantity is not None:
        number = holder.value_quantity.value
    if number is None and holder.value_codeable_concept is not None:
        answers = [_PHQ_ANSWERS.get(c.code or "") for c in holder.value_codeable_concept.coding]
        number = next((a for a in answers if a is not None), None)
    if number is None or number != int(number):
        notes.append(f"{label}: {what} is not a whole-number score; ignored")
        return None
    return int(number)


def _mood_screens(
    totals: dict[date, tuple[int, str]], item9s: dict[date, tuple[int, str]], notes: list[str]
) -> Iterator[MoodScreen]:
    for on, (total, source) in sorted(totals.items()):
        item9 = item9s.get(on)
        with refusing_impossible(source, "PHQ-9 score"):
            yield MoodScreen(on, total, None if item9 is None else item9[0], source)
    for on, (score, source) in sorted(item9s.items()):
        if on not in totals:
            notes.append(
                f"{source}: PHQ-9 item 9 = {score} on {on} without a total score on that day; "
                "not counted as a mood screen"
            )


def _pregnancy_status(part: _Part, kb: KnowledgeBase) -> bool | None:
    value = part.holder.value_codeable_concept
    if value is None:
        return None
    as_concept = concept(value)
    if match(as_concept, kb.valueset("pregnancy-status-pregnant")).matched:
        return True
    if match(as_concept, kb.valueset("pregnancy-status-not-pregnant")).matched:
        return False
    return None
