"""What an hCG result says: positive, negative or indeterminate, from every way a FHIR
result writes it.

- a coded value (SNOMED CT qualifier, LOINC answer), a ``valueString`` that is exactly
  one of the knowledge base's phrases ("Negative", "not detected", "+"), ``valueBoolean``;
- an interpretation (HL7 v3 ObservationInterpretation: POS, NEG, IND, E, H, N ...);
- a quantity in any unit isotrack converts to m[IU]/mL (mIU/mL, IU/L, [iU]/L ...), or a
  numeric string with its unit ("<2 mIU/mL"): judged against the result's own reference
  range and interpretation, else the knowledge base's negative cut-off
  (``hcg.negative_below_miu_ml``); a value at or above the programme's required test
  sensitivity (``ppp.test_sensitivity_miu_ml``) is positive; one above the lab's range or
  the cut-off but below that sensitivity is indeterminate, never negative;
- ``dataAbsentReason``: indeterminate (there is no result to call negative).

A result that reads positive anywhere (value, interpretation, amount) is positive: the
safe reading when a lab's flags disagree. Every code list and number is knowledge-base
data (``hcg-result-*`` and ``hcg-interpretation-*`` value sets, the two parameters),
looked up once per knowledge base (:class:`HcgVocabulary`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from isotrack.clinical.codes import SYSTEMS
from isotrack.clinical.snapshot import TestResult
from isotrack.clinical.units import to_canonical
from isotrack.errors import FhirDecodeError, InvalidInputError
from isotrack.fhir.datatypes import CodeableConcept, Quantity
from isotrack.fhir.resources import Observation, ObservationComponent
from isotrack.fhir.values import quantity_unit
from isotrack.knowledge.base import KnowledgeBase

HCG_ANALYTE = "hcg"
_NUMBER = re.compile(r"\s*(<=|>=|<|>)?\s*(\d+(?:\.\d+)?)\s*(\S.*)?\Z")
_SPACES = re.compile(r"\s+")


class Reading(Enum):
    """What one element of a result says."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    INDETERMINATE = "indeterminate"
    ABOVE_RANGE = "above the lab's reference range"
    WITHIN_RANGE = "within the lab's reference range"


_VALUESETS = {
    "hcg-result-positive": Reading.POSITIVE,
    "hcg-result-negative": Reading.NEGATIVE,
    "hcg-result-indeterminate": Reading.INDETERMINATE,
    "hcg-interpretation-above-range": Reading.ABOVE_RANGE,
    "hcg-interpretation-within-range": Reading.WITHIN_RANGE,
}
_AS_RESULT = {
    Reading.POSITIVE: TestResult.POSITIVE,
    Reading.NEGATIVE: TestResult.NEGATIVE,
    Reading.INDETERMINATE: TestResult.INDETERMINATE,
}


def phrase(text: str) -> str:
    """A result string as compared with the knowledge base's phrases: case-folded, spaces
    collapsed, a final full stop dropped ("Not  Detected." → "not detected")."""
    return _SPACES.sub(" ", text.strip().casefold()).rstrip(".").strip()


class HcgVocabulary:
    """The knowledge base's hCG result codes, phrases and cut-offs (built once per
    knowledge base: ``kb.derived("fhir.hcg-vocabulary", HcgVocabulary)``)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.codes: dict[tuple[str, str], Reading] = {}
        self.phrases: dict[str, Reading] = {}
        for valueset_id, reading in _VALUESETS.items():
            valueset = kb.valueset(valueset_id)
            for code in valueset.codes:
                self.codes.setdefault((SYSTEMS[code.system], code.code), reading)
            for text in valueset.text:
                self.phrases.setdefault(phrase(text), reading)
        self.negative_below = kb.number("hcg.negative_below_miu_ml")
        self.sensitivity = kb.number("ppp.test_sensitivity_miu_ml")

    def coded(self, codeable: CodeableConcept) -> Reading | None:
        for coding in codeable.coding:
            found = self.codes.get((coding.system or "", coding.code or ""))
            if found is not None:
                return found
        return self.phrases.get(phrase(codeable.text)) if codeable.text else None

    def miu_ml(self, value: float, unit: str | None) -> float | None:
        """``value`` in m[IU]/mL, or None when the unit is missing or not convertible."""
        if not unit:
            return None
        try:
            return to_canonical(HCG_ANALYTE, value, unit, self.kb)
        except InvalidInputError:
            return None


@dataclass(frozen=True, slots=True)
class Amount:
    """A quantitative result as written: the number, its comparator and unit."""

    value: float
    comparator: str | None
    unit: str | None

    def describe(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.comparator or ''}{self.value:g}{unit}"

    def upper(self) -> float | None:
        """The largest the true value can be (None: no bound, e.g. '>1000')."""
        return None if self.comparator in (">", ">=") else self.value

    def lower(self) -> float:
        return self.value if self.comparator in (None, ">", ">=", "ad") else 0.0


@dataclass
class HcgVerdict:
    """The result of one hCG observation (or component), why, and what the reader noted."""

    result: TestResult | None = None
    detail: str = ""
    notes: list[str] = field(default_factory=list)


def read_hcg(
    holder: Observation | ObservationComponent, label: str, vocab: HcgVocabulary
) -> HcgVerdict:
    """Positive, negative or indeterminate (``result`` None: no result at all)."""
    verdict = HcgVerdict()
    readings = _coded_readings(holder, vocab)
    amount = _amount(holder, label)
    interpretations = [vocab.coded(c) for c in holder.interpretation]
    lab_says = {r for r in interpretations if r is not None}
    if amount is not None:
        readings.append(_quantitative(holder, amount, lab_says, vocab, verdict))
    readings.extend(r for r in lab_says if amount is None)
    found = {r for r in readings if r is not None}
    if Reading.POSITIVE in found:
        verdict.result = TestResult.POSITIVE
        if (found | lab_says) - {Reading.POSITIVE, Reading.ABOVE_RANGE}:
            verdict.notes.append(
                f"{label}: hCG result and interpretation disagree; read as positive"
            )
    elif Reading.INDETERMINATE in found or Reading.ABOVE_RANGE in found:
        verdict.result = TestResult.INDETERMINATE
        verdict.detail = verdict.detail or _indeterminate_detail(found)
    elif found:
        verdict.result = TestResult.NEGATIVE
    elif holder.data_absent_reason is not None:
        verdict.result = TestResult.INDETERMINATE
        verdict.detail = f"no result: data absent ({_describe(holder.data_absent_reason)})"
    elif _has_value(holder):
        verdict.result = TestResult.INDETERMINATE
        verdict.detail = "the result is not readable as positive or negative"
        verdict.notes.append(f"{label}: hCG result is not readable as positive or negative")
    return verdict


def _coded_readings(
    holder: Observation | ObservationComponent, vocab: HcgVocabulary
) -> list[Reading | None]:
    readings: list[Reading | None] = []
    if holder.value_codeable_concept is not None:
        readings.append(vocab.coded(holder.value_codeable_concept))
    if holder.value_string is not None and _NUMBER.match(holder.value_string) is None:
        readings.append(vocab.phrases.get(phrase(holder.value_string)))
    boolean = getattr(holder, "value_boolean", None)
    if boolean is not None:
        readings.append(Reading.POSITIVE if boolean else Reading.NEGATIVE)
    return readings


def _amount(holder: Observation | ObservationComponent, label: str) -> Amount | None:
    quantity = holder.value_quantity
    if quantity is not None and quantity.value is not None:
        amount = Amount(quantity.value, quantity.comparator, quantity_unit(quantity))
    elif holder.value_string is not None and (found := _NUMBER.match(holder.value_string)):
        comparator, number, unit = found.groups()
        amount = Amount(float(number), comparator, unit.strip() if unit else None)
    else:
        return None
    if amount.value < 0:
        raise FhirDecodeError(
            f"{label} value", f"an hCG concentration cannot be negative ({amount.value:g})"
        )
    return amount


def _quantitative(
    holder: Observation | ObservationComponent,
    amount: Amount,
    lab_says: set[Reading],
    vocab: HcgVocabulary,
    verdict: HcgVerdict,
) -> Reading:
    """An amount judged by the lab's own interpretation, else its reference range, else
    the knowledge base's cut-off; at or above the required sensitivity it is positive."""
    sensitivity, cut_off = vocab.sensitivity, vocab.negative_below
    lower = vocab.miu_ml(amount.lower(), amount.unit)
    bound = amount.upper()
    upper = None if bound is None else vocab.miu_ml(bound, amount.unit)
    if Reading.POSITIVE in lab_says or (lower is not None and lower >= sensitivity):
        return Reading.POSITIVE
    if Reading.INDETERMINATE in lab_says:
        return Reading.INDETERMINATE
    within = _within_lab_range(holder, amount, lab_says, vocab)
    basis = "the lab's reference range"
    if within is None:
        basis = f"the negative cut-off {cut_off:g} m[IU]/mL"
        if upper is not None:
            within = upper < cut_off or (amount.comparator == "<" and upper <= cut_off)
        elif bound is None and lower is not None and lower >= cut_off:
            within = False
    if within is None:
        why = "it has no upper bound" if bound is None else "its unit is not convertible"
        verdict.detail = (
            f"{amount.describe()} cannot be compared with {basis} ({why}) and carries "
            "no reference range or interpretation"
        )
        return Reading.INDETERMINATE
    if within:
        return Reading.NEGATIVE
    verdict.detail = (
        f"{amount.describe()} is above {basis} but not at or above the required test "
        f"sensitivity {sensitivity:g} m[IU]/mL"
    )
    return Reading.INDETERMINATE


def _within_lab_range(
    holder: Observation | ObservationComponent,
    amount: Amount,
    lab_says: set[Reading],
    vocab: HcgVocabulary,
) -> bool | None:
    """True within (or below) the lab's range for people who are not pregnant, False
    above it, None when the lab says nothing. Its flags come first, then the lowest upper
    limit among its reference ranges (several ranges, e.g. by age: the strictest)."""
    if Reading.NEGATIVE in lab_says or Reading.WITHIN_RANGE in lab_says:
        return Reading.ABOVE_RANGE not in lab_says
    if Reading.ABOVE_RANGE in lab_says:
        return False
    highs = [_high(r.high, amount.unit) for r in holder.reference_range]
    usable = [h for h in highs if h is not None]
    if not usable:
        return None
    upper = amount.upper()
    if upper is None:
        return False
    same_unit = all(unit == amount.unit for _, unit in usable)
    if same_unit:
        return upper <= min(value for value, _ in usable)
    value = vocab.miu_ml(upper, amount.unit)
    limits = [vocab.miu_ml(v, u) for v, u in usable]
    if value is None or any(limit is None for limit in limits):
        return None
    return value <= min(limit for limit in limits if limit is not None)


def _high(high: Quantity | None, value_unit: str | None) -> tuple[float, str | None] | None:
    if high is None or high.value is None:
        return None
    return high.value, quantity_unit(high) or value_unit


def _indeterminate_detail(found: set[Reading]) -> str:
    if Reading.INDETERMINATE in found:
        return "the result or its interpretation is indeterminate or equivocal"
    return "above the lab's reference range, without a positive result"


def _has_value(holder: Observation | ObservationComponent) -> bool:
    return any(
        v is not None
        for v in (holder.value_codeable_concept, holder.value_string, holder.value_integer)
    )


def _describe(codeable: CodeableConcept) -> str:
    for coding in codeable.coding:
        if coding.code:
            return coding.display or coding.code
    return codeable.text or "no reason given"
