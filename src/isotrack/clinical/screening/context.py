"""Order screening: run every order rule over one snapshot and one order.

A rule is a function ``(ctx: ScreeningContext) -> Iterable[Finding]``
registered under its catalogue id with :func:`order_rule` (or
:func:`course_rule` for the "during the course" table). Rules live in
:mod:`isotrack.clinical.screening.rules`; each reads only the context.

>>> from datetime import date
>>> from isotrack.knowledge import default_knowledge
>>> from isotrack.clinical.snapshot import PatientSnapshot, Sex
>>> from isotrack.clinical.order import IsotretinoinOrder
>>> snap = PatientSnapshot("p1", birth_date=date(1990, 1, 1), sex=Sex.MALE)
>>> order = IsotretinoinOrder(product="conventional", dose_mg=40, times_per_day=2)
>>> result = screen_order(snap, order, on=date(2026, 3, 1), kb=default_knowledge())
>>> "WEIGHT-MISSING" in result.rule_ids
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Any, TypeVar

from isotrack.clinical.codes import Concept, ConceptMatches, ConceptMemory, Match, matches_in
from isotrack.clinical.findings import Assessment, Finding
from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.screening.validation import validate
from isotrack.clinical.snapshot import (
    AllergyRecord,
    ConditionRecord,
    IsotretinoinCourse,
    LabResult,
    MedicationRecord,
    PatientSnapshot,
    ProcedureRecord,
    Weight,
)
from isotrack.knowledge.base import KnowledgeBase

RuleFunction = Callable[["ScreeningContext"], Iterable[Finding]]
T = TypeVar("T")

ORDER_RULES: dict[str, RuleFunction] = {}
COURSE_RULES: dict[str, RuleFunction] = {}


def order_rule(rule_id: str) -> Callable[[RuleFunction], RuleFunction]:
    """Register an order-screening rule under its catalogue id."""
    return _register(ORDER_RULES, rule_id)


def course_rule(rule_id: str) -> Callable[[RuleFunction], RuleFunction]:
    """Register a during-the-course rule under its catalogue id."""
    return _register(COURSE_RULES, rule_id)


def _register(
    registry: dict[str, RuleFunction], rule_id: str
) -> Callable[[RuleFunction], RuleFunction]:
    def decorate(function: RuleFunction) -> RuleFunction:
        if rule_id in registry:
            raise ValueError(f"rule {rule_id} registered twice")
        registry[rule_id] = function
        return function

    return decorate


@dataclass(frozen=True, slots=True)
class Hit:
    """A record that matched a value set, and how."""

    label: str
    on: date | None
    by_text: bool


@dataclass
class ScreeningContext:
    """Everything a rule may read, with derived facts computed once."""

    snapshot: PatientSnapshot
    on: date
    kb: KnowledgeBase
    order: IsotretinoinOrder | None = None
    assumptions: list[str] = field(default_factory=list)
    _derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def derived(self, key: str, build: Callable[[], T]) -> T:
        """``build()`` computed once per screening and kept under ``key``: facts that
        several rules read (pregnancy capability, the contraception status)."""
        if key not in self._derived:
            self._derived[key] = build()
        return self._derived[key]  # type: ignore[no-any-return]  # stored just above

    # --- dates and people -----------------------------------------------------
    def days_ago(self, days: float) -> date:
        return self.on - timedelta(days=days)

    @cached_property
    def age_years(self) -> int | None:
        birth = self.snapshot.birth_date
        if birth is None:
            return None
        before_birthday = (self.on.month, self.on.day) < (birth.month, birth.day)
        return self.on.year - birth.year - before_birthday

    @cached_property
    def latest_weight(self) -> Weight | None:
        """The most recent weight on or before the evaluation date."""
        weights = [w for w in self.snapshot.weights if w.on <= self.on]
        return max(weights, key=lambda w: w.on, default=None)

    @cached_property
    def recent_weight(self) -> Weight | None:
        """The latest weight if it is recent enough to check mg/kg (clinic policy)."""
        weight = self.latest_weight
        limit = self.kb.number("dose.weight_max_age_days")
        if weight is None or weight.on < self.days_ago(limit):
            return None
        return weight

    # --- courses ----------------------------------------------------------------
    @cached_property
    def current_course(self) -> IsotretinoinCourse | None:
        active = [c for c in self.snapshot.courses if c.active_on(self.on)]
        return max(active, key=lambda c: c.start, default=None)

    @cached_property
    def previous_course(self) -> IsotretinoinCourse | None:
        """The most recent course that ended before the evaluation date."""
        ended = [c for c in self.snapshot.courses if c.end is not None and c.end < self.on]
        return max(ended, key=lambda c: c.end or c.start, default=None)

    @property
    def first_prescription(self) -> bool:
        """True when the order under review starts a course (no prescription yet)."""
        course = self.current_course
        return course is None or course.prescriptions == 0

    # --- coded data ---------------------------------------------------------------
    # The records a rule may count, each with its concept's answers in the knowledge
    # base's concept memory (looked up once per screening; the answers are kept).
    @cached_property
    def memory(self) -> ConceptMemory:
        return matches_in(self.kb)

    def matches(self, concept: Concept, valueset_id: str) -> Match:
        return self.memory.of(concept).match(valueset_id)

    @cached_property
    def active_medication_records(self) -> list[tuple[MedicationRecord, ConceptMatches]]:
        of = self.memory.of
        return [(m, of(m.concept)) for m in self.snapshot.medications if m.active_on(self.on)]

    @cached_property
    def active_condition_records(self) -> list[tuple[ConditionRecord, ConceptMatches]]:
        of = self.memory.of
        return [(c, of(c.concept)) for c in self.snapshot.conditions if c.active_on(self.on)]

    @cached_property
    def condition_records_ever(self) -> list[tuple[ConditionRecord, ConceptMatches]]:
        of = self.memory.of
        return [(c, of(c.concept)) for c in self.snapshot.conditions if c.ever_on(self.on)]

    @cached_property
    def active_allergy_records(self) -> list[tuple[AllergyRecord, ConceptMatches]]:
        of = self.memory.of
        return [(a, of(a.concept)) for a in self.snapshot.allergies if a.active]

    @cached_property
    def procedure_records_done(self) -> list[tuple[ProcedureRecord, ConceptMatches]]:
        of = self.memory.of
        return [(p, of(p.concept)) for p in self.snapshot.procedures if p.done_by(self.on)]

    def active_medications(self, valueset_id: str) -> list[Hit]:
        self.kb.valueset(valueset_id)  # an unknown id fails even when no record is there
        return [
            Hit(m.concept.label, m.start, found.by_text)
            for m, memo in self.active_medication_records
            if (found := memo.match(valueset_id)).matched
        ]

    def active_conditions(self, valueset_id: str) -> list[Hit]:
        self.kb.valueset(valueset_id)  # an unknown id fails even when no record is there
        return [
            Hit(c.concept.label, c.onset, found.by_text)
            for c, memo in self.active_condition_records
            if (found := memo.match(valueset_id)).matched
        ]

    def conditions_ever(self, valueset_id: str) -> list[Hit]:
        self.kb.valueset(valueset_id)  # an unknown id fails even when no record is there
        return [
            Hit(c.concept.label, c.onset, found.by_text)
            for c, memo in self.condition_records_ever
            if (found := memo.match(valueset_id)).matched
        ]

    def active_allergies(self, valueset_id: str) -> list[Hit]:
        self.kb.valueset(valueset_id)  # an unknown id fails even when no record is there
        return [
            Hit(a.concept.label, a.recorded, found.by_text)
            for a, memo in self.active_allergy_records
            if (found := memo.match(valueset_id)).matched
        ]

    def procedures_done(self, valueset_id: str) -> list[Hit]:
        self.kb.valueset(valueset_id)  # an unknown id fails even when no record is there
        return [
            Hit(p.concept.label, p.performed, found.by_text)
            for p, memo in self.procedure_records_done
            if (found := memo.match(valueset_id)).matched
        ]

    def labs(self, analyte: str) -> list[LabResult]:
        """Results of ``analyte`` up to the evaluation date, newest first."""
        found = [lab for lab in self.snapshot.labs if lab.analyte == analyte and lab.on <= self.on]
        return sorted(found, key=lambda lab: lab.on, reverse=True)

    def latest_lab(self, analyte: str) -> LabResult | None:
        results = self.labs(analyte)
        return results[0] if results else None

    def medications(self) -> Iterator[MedicationRecord]:
        return iter(self.snapshot.medications)


def describe_hits(hits: Iterable[Hit]) -> str:
    """'Doxycycline 50 MG (since 2019-03-01), ...' with a text-match note."""
    parts = []
    for hit in hits:
        text = hit.label
        if hit.on is not None:
            text += f" (since {hit.on.isoformat()})"
        if hit.by_text:
            text += " [recognised by name only, no matching code]"
        parts.append(text)
    return "; ".join(parts)


def _run(registry: dict[str, RuleFunction], ctx: ScreeningContext) -> list[Finding]:
    findings: list[Finding] = []
    for rule_id in sorted(registry):
        for finding in registry[rule_id](ctx):
            if finding.rule_id != rule_id:
                raise ValueError(f"rule {rule_id} returned a finding for {finding.rule_id}")
            findings.append(finding)
    return findings


def _load_rules() -> None:
    # Rules register themselves on import; importing here keeps callers simple.
    import isotrack.clinical.screening.rules  # noqa: F401


def _context(ctx: ScreeningContext) -> list[tuple[str, str]]:
    # Imported here: pregnancy.py builds on this module.
    from isotrack.clinical.screening.pregnancy import pregnancy_context

    return pregnancy_context(ctx)


def screen_order(
    snapshot: PatientSnapshot, order: IsotretinoinOrder, *, on: date, kb: KnowledgeBase
) -> Assessment:
    """Screen an isotretinoin order for one patient on one day.

    Invalid input (an impossible weight, a result dated after ``on``) raises
    :class:`~isotrack.errors.InvalidInputError` naming the field.
    """
    _load_rules()
    validate(snapshot, order, on=on, kb=kb)
    ctx = ScreeningContext(snapshot=snapshot, on=on, kb=kb, order=order)
    findings = _run(ORDER_RULES, ctx)
    context = _context(ctx)
    return Assessment.collect(on, findings, [*snapshot.notes, *ctx.assumptions], context)


def assess_course(snapshot: PatientSnapshot, *, on: date, kb: KnowledgeBase) -> Assessment:
    """The "during the course" findings for a patient on one day: the course rules and
    the order rules marked ``during_course`` in the catalogue (they read only the
    record, e.g. triglycerides above the clinic threshold)."""
    _load_rules()
    validate(snapshot, None, on=on, kb=kb)
    ctx = ScreeningContext(snapshot=snapshot, on=on, kb=kb)
    also = {r.id: ORDER_RULES[r.id] for r in kb.rules if r.during_course and r.id in ORDER_RULES}
    findings = _run({**COURSE_RULES, **also}, ctx)
    context = _context(ctx)
    return Assessment.collect(on, findings, [*snapshot.notes, *ctx.assumptions], context)
