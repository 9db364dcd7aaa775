"""FHIR data types turned into clinical values: dates, concepts, units.

>>> fhir_date("2012-06-02T10:37:03+00:00", "Observation.effectiveDateTime")
datetime.date(2012, 6, 2)
>>> fhir_date("1990-05", "Patient.birthDate")
datetime.date(1990, 5, 1)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from types import TracebackType
from typing import TypeVar

import msgspec

from isotrack.clinical.codes import UCUM, Coding, Concept
from isotrack.errors import FhirDecodeError, InvalidInputError
from isotrack.fhir.datatypes import CodeableConcept, Period, Quantity
from isotrack.fhir.resources import Resource

R = TypeVar("R", bound=Resource)

_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:T.*)?\Z")


def fhir_date(value: str | None, field: str) -> date | None:
    """The calendar date of a FHIR date, dateTime or instant, as written.

    A dateTime keeps its own calendar day (its time zone is not applied); a
    partial date ("1990", "1990-05") becomes the first day of its period.
    """
    if value is None:
        return None
    if len(value) >= 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    found = _PARTIAL_DATE.match(value)
    if found is not None:
        year, month, day = found.groups()
        try:
            return date(int(year), int(month or 1), int(day or 1))
        except ValueError:
            pass
    raise FhirDecodeError(field, f"{value!r} is not a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)")


def is_partial_date(value: str | None) -> bool:
    return value is not None and len(value) < 10


def period_start(period: Period | None, field: str) -> date | None:
    return None if period is None else fhir_date(period.start, f"{field}.start")


def period_end(period: Period | None, field: str) -> date | None:
    return None if period is None else fhir_date(period.end, f"{field}.end")


def concept(codeable: CodeableConcept | None) -> Concept:
    """A CodeableConcept as a clinical :class:`Concept` (codings without a
    system or code cannot be matched and are dropped; their display is kept
    as text when there is no other text).

    Equal CodeableConcepts give the same Concept object (kept, bounded): records
    repeat a few thousand concepts, and the knowledge base's concept memory finds
    a concept it has seen by identity.
    """
    if codeable is None:
        return _NO_CONCEPT
    found = _CONCEPTS.get(codeable)
    if found is None:
        if len(_CONCEPTS) >= _KEPT_CONCEPTS:
            _CONCEPTS.clear()
        found = _CONCEPTS[codeable] = _concept(codeable)
    return found


_NO_CONCEPT = Concept()
_KEPT_CONCEPTS = 1 << 14
_CONCEPTS: dict[CodeableConcept, Concept] = {}


def _concept(codeable: CodeableConcept) -> Concept:
    codings = tuple(
        Coding(c.system, c.code, c.display) for c in codeable.coding if c.system and c.code
    )
    text = codeable.text
    if not text and len(codings) < len(codeable.coding):
        text = next((c.display for c in codeable.coding if c.display), None)
    return Concept(codings, text)


def status_code(codeable: CodeableConcept | None) -> str | None:
    """The code of a status CodeableConcept (clinicalStatus, verificationStatus)."""
    if codeable is None:
        return None
    for coding in codeable.coding:
        if coding.code:
            return coding.code
    return codeable.text.strip().casefold() if codeable.text else None


def contained(raws: Iterable[msgspec.Raw], reference: str, cls: type[R]) -> R | None:
    """The contained resource a ``#id`` reference names, decoded as ``cls`` (contained
    resources are kept raw until a reference needs one)."""
    wanted = reference[1:]
    for raw in raws:
        try:
            found = msgspec.json.decode(raw, type=cls)
        except msgspec.MsgspecError:
            continue
        if found.id == wanted:
            return found
    return None


def quantity_unit(quantity: Quantity) -> str | None:
    """The unit of a Quantity: its UCUM code when coded in UCUM, else the unit text."""
    if quantity.code and quantity.system in (UCUM, None):
        return quantity.code
    return quantity.unit or quantity.code


def describe_quantity(quantity: Quantity) -> str:
    unit = quantity_unit(quantity)
    value = "?" if quantity.value is None else f"{quantity.value:g}"
    return f"{value} {unit}" if unit else value


class refusing_impossible:  # noqa: N801  # used as a function: ``with refusing_impossible(...)``
    """Re-raise a value the snapshot refuses (a weight of 0, an end before its
    start) as a :class:`FhirDecodeError` naming the resource it came from.

    A class rather than a generator-based context manager: the reader enters one for
    nearly every record it makes, and this costs a fraction of a generator's set-up.

    >>> with refusing_impossible("Observation/o1", "valueQuantity"):
    ...     raise InvalidInputError("weight", "must be above 0 kg, got 0")
    Traceback (most recent call last):
    ...
    isotrack.errors.FhirDecodeError: Observation/o1 valueQuantity: weight: must be above 0 kg, got 0
    """

    __slots__ = ("element", "label")

    def __init__(self, label: str, element: str) -> None:
        self.label = label
        self.element = element

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(error, InvalidInputError) and not isinstance(error, FhirDecodeError):
            raise FhirDecodeError(f"{self.label} {self.element}", error.message) from None
