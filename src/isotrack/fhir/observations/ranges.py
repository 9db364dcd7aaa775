"""The upper limit of normal (ULN) of a laboratory result, from its own reference ranges.

A result can carry several ``referenceRange`` entries: a normal range and a
recommended one, one per sex or age band. The ULN is the ``high`` of the normal
range (``type`` normal, or no type: FHIR assumes normal) that applies to this
patient: its ``appliesTo`` (female, male: knowledge-base value sets) and ``age``
are checked against the patient's sex and age on the result's date. A range that
applies to the patient by sex or age comes before a range for everyone. When only
ranges whose fit cannot be checked remain (sex unknown, an ``appliesTo`` isotrack
does not know, no birth date), the lowest of their upper limits is used, with a
note: a lower ULN raises LFT-HIGH sooner, never later.

The ``high`` is converted from its own unit (else the result's unit) to the
analyte's canonical unit, so a µkat/L range works for a U/L result and the other
way round. A range written only as text is never parsed: a note says so, and the
rule's default ULN applies.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import Enum

from isotrack.clinical.codes import match
from isotrack.clinical.units import to_canonical
from isotrack.errors import InvalidInputError
from isotrack.fhir.datatypes import CodeableConcept, Quantity
from isotrack.fhir.observations.model import PatientFacts
from isotrack.fhir.resources import ReferenceRange
from isotrack.fhir.values import concept, quantity_unit
from isotrack.knowledge.base import KnowledgeBase

SEX_VALUESETS = {"female": "reference-range-female", "male": "reference-range-male"}
_NORMAL = "normal"
"""Code of a normal range in referencerange-meaning (both its R4 and older system URIs)."""
_YEARS = frozenset({"a", "yr", "yrs", "year", "years"})
_MONTHS = frozenset({"mo", "month", "months"})


class Fit(Enum):
    """Whether a reference range applies to the patient."""

    SPECIFIC = "applies to the patient by sex or age"
    GENERAL = "applies to everyone"
    UNKNOWN = "cannot be checked"
    OTHER = "applies to someone else"


def upper_limit(
    ranges: Iterable[ReferenceRange],
    analyte: str,
    value_unit: str,
    on: date,
    patient: PatientFacts,
    kb: KnowledgeBase,
    notes: list[str],
    label: str,
) -> float | None:
    """The ULN of one result in the canonical unit of ``analyte``, or None."""
    found: dict[Fit, list[float]] = {Fit.SPECIFIC: [], Fit.GENERAL: [], Fit.UNKNOWN: []}
    texts: list[str] = []
    other_types: list[str] = []
    for_others = 0
    for reference in ranges:
        if not _is_normal(reference.type):
            other_types.append(concept(reference.type).label)
            continue
        high = reference.high
        if high is None or high.value is None:
            if reference.text and reference.low is None:
                texts.append(reference.text)
            continue
        fit = _fit(reference, on, patient, kb)
        if fit is Fit.OTHER:
            for_others += 1
            continue
        converted = _canonical(high, analyte, value_unit, kb, notes, label)
        if converted is not None:
            found[fit].append(converted)
    for fit in (Fit.SPECIFIC, Fit.GENERAL):
        if found[fit]:
            return found[fit][0]
    if found[Fit.UNKNOWN]:
        lowest = min(found[Fit.UNKNOWN])
        notes.append(
            f"{label}: {analyte} reference ranges apply to patients isotrack cannot match "
            f"(sex, age or another group); the lowest upper limit, {lowest:g}, is used"
        )
        return lowest
    if for_others:
        notes.append(
            f"{label}: {analyte} reference ranges are for other patients (sex or age); "
            "the default upper limit of normal applies"
        )
    elif texts:
        notes.append(
            f"{label}: {analyte} reference range given only as text ({texts[0]!r}); "
            "not read, so the default upper limit of normal applies"
        )
    elif other_types:
        notes.append(
            f"{label}: {analyte} reference range is not a normal range "
            f"({', '.join(other_types)}); not used as the upper limit of normal"
        )
    return None


def _is_normal(kind: CodeableConcept | None) -> bool:
    if kind is None:
        return True
    if any(coding.code == _NORMAL for coding in kind.coding):
        return True
    return not kind.coding and (kind.text or "").strip().casefold() in ("normal", "normal range")


def _fit(reference: ReferenceRange, on: date, patient: PatientFacts, kb: KnowledgeBase) -> Fit:
    fits = [_sex_fit(applies, patient, kb) for applies in reference.applies_to]
    if reference.age is not None:
        fits.append(_age_fit(reference.age.low, reference.age.high, on, patient))
    if not fits:
        return Fit.GENERAL
    if Fit.OTHER in fits:
        return Fit.OTHER
    return Fit.UNKNOWN if Fit.UNKNOWN in fits else Fit.SPECIFIC


def _sex_fit(applies: CodeableConcept, patient: PatientFacts, kb: KnowledgeBase) -> Fit:
    as_concept = concept(applies)
    sexes = {
        sex
        for sex, valueset in SEX_VALUESETS.items()
        if match(as_concept, kb.valueset(valueset)).matched
    }
    if not sexes or patient.sex not in SEX_VALUESETS:
        return Fit.UNKNOWN if sexes != set(SEX_VALUESETS) else Fit.GENERAL
    return Fit.SPECIFIC if patient.sex in sexes else Fit.OTHER


def _age_fit(low: Quantity | None, high: Quantity | None, on: date, patient: PatientFacts) -> Fit:
    if patient.birth_date is None:
        return Fit.UNKNOWN
    months = (on.year - patient.birth_date.year) * 12 + on.month - patient.birth_date.month
    months -= on.day < patient.birth_date.day
    for bound, is_low in ((low, True), (high, False)):
        if bound is None or bound.value is None:
            continue
        unit = (quantity_unit(bound) or "a").casefold()
        if unit in _YEARS:
            age = months // 12
        elif unit in _MONTHS:
            age = months
        else:
            return Fit.UNKNOWN
        if (is_low and age < bound.value) or (not is_low and age > bound.value):
            return Fit.OTHER
    return Fit.SPECIFIC


def _canonical(
    high: Quantity,
    analyte: str,
    value_unit: str,
    kb: KnowledgeBase,
    notes: list[str],
    label: str,
) -> float | None:
    assert high.value is not None  # checked by the caller
    unit = quantity_unit(high) or value_unit
    try:
        converted = to_canonical(analyte, high.value, unit, kb)
    except InvalidInputError:
        notes.append(
            f"{label}: {analyte} reference range unit {unit!r} cannot be converted; "
            "its upper limit is not used"
        )
        return None
    if not converted > 0:
        notes.append(f"{label}: {analyte} reference range upper limit {high.value:g} is not used")
        return None
    return converted
