"""Which contraceptive method a coded record is: :func:`method_for` names the
knowledge-base method a medication or procedure concept stands for, and
:func:`removal_for` the methods a removal procedure ends. :func:`protected_until`
says how long one insertion or injection of a long-acting method counts: the
labelled duration of its product (:func:`product_for`), else the method's own
(the shortest of its products).

A method's value sets whose id ends in ``-removal`` list the procedures that end
it; the others identify it. Every procedure and medication of every record is
classified, so the value sets are looked up once per knowledge base and the
answer is kept per concept (bounded).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar

from isotrack.clinical.codes import Concept, match
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.codelists import ValueSet
from isotrack.knowledge.model import ContraceptionMethod, Protection

REMOVAL_SUFFIX = "-removal"
V = TypeVar("V")


def _identifying(method: ContraceptionMethod) -> tuple[str, ...]:
    return tuple(v for v in method.valuesets if not v.endswith(REMOVAL_SUFFIX))


def removals_of(method: ContraceptionMethod) -> tuple[str, ...]:
    return tuple(v for v in method.valuesets if v.endswith(REMOVAL_SUFFIX))


MethodValueSets = tuple[tuple[str, tuple[ValueSet, ...]], ...]
"""(method id, value sets) in knowledge-base order."""


@dataclass(frozen=True, slots=True)
class _MethodIndex:
    """The methods' identifying and removal value sets, looked up once per
    knowledge base: every procedure and medication of every record is classified."""

    identifying: MethodValueSets
    removals: MethodValueSets
    products: tuple[tuple[str, str, ValueSet], ...]
    """(method id, product id, identifying value set) of the long-acting products."""
    removed_by: dict[Concept, tuple[str, ...]] = field(default_factory=dict)
    """:func:`removal_for` by concept, kept up to ``_CACHED_CONCEPTS`` concepts."""
    method_of: dict[Concept, tuple[str, bool] | None] = field(default_factory=dict)
    """:func:`method_for` by concept, kept up to ``_CACHED_CONCEPTS`` concepts."""


_CACHED_CONCEPTS = 1 << 14
"""A population screen meets the same procedures and drugs again and again."""
_UNKNOWN = object()


def _remember(cache: dict[Concept, V], concept: Concept, value: V) -> V:
    if len(cache) >= _CACHED_CONCEPTS:
        cache.clear()
    cache[concept] = value
    return value


def _build_index(kb: KnowledgeBase) -> _MethodIndex:
    methods = kb.contraception_methods
    return _MethodIndex(
        identifying=tuple((m.id, tuple(kb.valueset(v) for v in _identifying(m))) for m in methods),
        removals=tuple(
            (m.id, tuple(kb.valueset(v) for v in removals_of(m))) for m in methods if removals_of(m)
        ),
        products=tuple(
            (p.method, p.id, kb.valueset(p.valueset)) for p in kb.contraception_products
        ),
    )


def _index(kb: KnowledgeBase) -> _MethodIndex:
    return kb.derived("contraception.method-index", _build_index)


def removal_for(concept: Concept, kb: KnowledgeBase) -> tuple[str, ...]:
    """The method ids a removal procedure ends (empty when it is no removal)."""
    index = _index(kb)
    known = index.removed_by.get(concept)
    if known is not None:
        return known
    removed = tuple(
        method_id
        for method_id, valuesets in index.removals
        if any(match(concept, v).matched for v in valuesets)
    )
    return _remember(index.removed_by, concept, removed)


def method_for(concept: Concept, kb: KnowledgeBase) -> tuple[str, bool] | None:
    """The knowledge-base contraception method id a medication or procedure
    concept stands for, and whether only text matched; ``None`` if none.

    A coded match wins over any text match; among text matches the first
    method of the knowledge base wins (specific methods are listed first).
    A removal procedure is never a method (see :func:`removal_for`)."""
    index = _index(kb)
    known = index.method_of.get(concept, _UNKNOWN)  # one lookup: another thread may clear
    if known is not _UNKNOWN:
        return known  # type: ignore[return-value]  # not the sentinel: a stored answer
    return _remember(index.method_of, concept, _method_for(concept, kb, index))


def _method_for(
    concept: Concept, kb: KnowledgeBase, index: _MethodIndex
) -> tuple[str, bool] | None:
    if removal_for(concept, kb):
        return None
    by_text: str | None = None
    for method_id, valuesets in index.identifying:
        for valueset in valuesets:
            found = match(concept, valueset)
            if found.matched and not found.by_text:
                return method_id, False
            if found.matched and by_text is None:
                by_text = method_id
    return (by_text, True) if by_text is not None else None


def product_for(concept: Concept, method_id: str, kb: KnowledgeBase) -> str | None:
    """The long-acting product of ``method_id`` that ``concept`` names by code (a text
    match is not enough to give a product its longer labelled duration)."""
    for method, product_id, valueset in _index(kb).products:
        if method == method_id:
            found = match(concept, valueset)
            if found.matched and not found.by_text:
                return product_id
    return None


def protected_until(
    method_id: str, product_id: str | None, given: date, kb: KnowledgeBase
) -> date | None:
    """The last day one insertion or injection given on ``given`` protects, by the
    product's label (else the method's shortest); ``None`` when the method is not
    given for a period (a pill, a barrier, sterilisation)."""
    protection = (
        kb.contraception_product(product_id).protection
        if product_id is not None
        else kb.contraception_method(method_id).protection
    )
    return None if protection is None else _after(given, protection)


def _after(given: date, protection: Protection) -> date:
    """``given`` plus the protection (a year later is the same day, or the month's
    last day); a date past the calendar's end is its last day."""
    if protection.unit == "wk":
        days = timedelta(weeks=protection.value)
        return given + days if date.max - given > days else date.max
    year = given.year + protection.value
    if year > date.max.year:
        return date.max
    return given.replace(year=year, day=min(given.day, calendar.monthrange(year, given.month)[1]))
