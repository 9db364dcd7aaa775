"""FHIR R4 data types as isotrack decodes them (msgspec Structs, frozen, FHIR
camelCase names, unknown elements ignored): codings and concepts, quantities,
periods, references, extensions and the dosage elements.
:mod:`isotrack.fhir.resources` builds the resources from them."""

from __future__ import annotations

import msgspec


class Element(msgspec.Struct, frozen=True, kw_only=True, rename="camel", gc=False):
    """Base of every decoded element: FHIR camelCase names, unknown fields ignored."""


# --- data types ---------------------------------------------------------------------
class Coding(Element, frozen=True, kw_only=True):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class CodeableConcept(Element, frozen=True, kw_only=True):
    coding: tuple[Coding, ...] = ()
    text: str | None = None


class Quantity(Element, frozen=True, kw_only=True):
    """Quantity, and its profiles Duration and SimpleQuantity."""

    value: float | None = None
    comparator: str | None = None
    """``<``, ``<=``, ``>=``, ``>`` (the true value is beyond the number), or ``ad``."""
    unit: str | None = None
    system: str | None = None
    code: str | None = None


class Range(Element, frozen=True, kw_only=True):
    low: Quantity | None = None
    high: Quantity | None = None


class Ratio(Element, frozen=True, kw_only=True):
    numerator: Quantity | None = None
    denominator: Quantity | None = None


class Period(Element, frozen=True, kw_only=True):
    start: str | None = None
    end: str | None = None


class Extension(Element, frozen=True, kw_only=True):
    """An extension, with only the value types the sex and gender extensions use
    (every other value type is skipped while decoding)."""

    url: str | None = None
    value_code: str | None = None
    value_coding: Coding | None = None
    value_codeable_concept: CodeableConcept | None = None
    value_period: Period | None = None
    extension: tuple[Extension, ...] = ()


class Identifier(Element, frozen=True, kw_only=True):
    system: str | None = None
    value: str | None = None


class Reference(Element, frozen=True, kw_only=True):
    reference: str | None = None
    type: str | None = None
    """The type of the target resource (e.g. ``Patient``), when the reference says it."""
    display: str | None = None


class CodeableReference(Element, frozen=True, kw_only=True):
    """R5 CodeableReference: a concept, a reference, or both (R5 ``medication``)."""

    concept: CodeableConcept | None = None
    reference: Reference | None = None


class Meta(Element, frozen=True, kw_only=True):
    profile: tuple[str, ...] = ()


# --- dosage ----------------------------------------------------------------------------
class TimingRepeat(Element, frozen=True, kw_only=True):
    frequency: int | None = None
    frequency_max: int | None = None
    period: float | None = None
    period_max: float | None = None
    period_unit: str | None = None
    when: tuple[str, ...] = ()
    time_of_day: tuple[str, ...] = ()


class Timing(Element, frozen=True, kw_only=True):
    repeat: TimingRepeat | None = None
    code: CodeableConcept | None = None


class DoseAndRate(Element, frozen=True, kw_only=True):
    dose_quantity: Quantity | None = None
    dose_range: Range | None = None


class Dosage(Element, frozen=True, kw_only=True):
    timing: Timing | None = None
    route: CodeableConcept | None = None
    dose_and_rate: tuple[DoseAndRate, ...] = ()


class DispenseRequest(Element, frozen=True, kw_only=True):
    validity_period: Period | None = None
    number_of_repeats_allowed: int | None = None
    quantity: Quantity | None = None
    expected_supply_duration: Quantity | None = None
