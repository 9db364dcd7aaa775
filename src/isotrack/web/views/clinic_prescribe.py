"""The prescribe form: the planner's suggestion, and the draft order screened
as the prescriber fills it in.

A :class:`Draft` is what the form holds. :func:`evaluate` reads it against the
record on one day, with no side effect: it starts the course in memory when
there is none (``StartCourse`` of the form's product and target), asks the
planner for the dose at the weight in force (:func:`suggest`), screens the
order (:func:`~isotrack.clinical.screening.screen_order`), lists the
programme's prescribing requirements, and tries the commands on the record in
memory (:func:`~isotrack.clinical.record.apply`) so that a refusal is shown
next to its field before anything is stored. :func:`commands_to_store` gives
the commands the submit stores in one transaction: the course (if new), one
``RecordOverride`` per overridden warning, and the prescription.

A critical finding blocks the order; every warning needs a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from isotrack.clinical.dosing import CoursePlan, default_mg_per_kg_day, plan_course
from isotrack.clinical.findings import Assessment, Finding, Severity
from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.programme import Requirement, prescribing_requirements
from isotrack.clinical.record import PatientRecord, apply, to_snapshot
from isotrack.clinical.screening import screen_order
from isotrack.clinical.state import AnyCommand, Prescribe, RecordOverride, StartCourse
from isotrack.errors import CommandRejected, InvalidInputError, IsotrackError
from isotrack.knowledge.base import KnowledgeBase

DOSE_RULES = ("DOSE-ABOVE-RANGE", "DOSE-BELOW-RANGE")


@dataclass(frozen=True, slots=True)
class Draft:
    """The prescribe form's fields (None: left empty)."""

    prescription_id: str
    product: str | None = None
    target_mg_per_kg: float | None = None
    mg_per_kg_day: float | None = None
    dose_mg: float | None = None
    times_per_day: int | None = None
    strength_mg: float | None = None
    quantity: int | None = None
    supply_days: int | None = None
    override_reason: str = ""
    """For a dose outside the product's usual range (Prescribe.override_reason)."""
    overrides: dict[str, str] = field(default_factory=dict)
    """Rule id → the reason a warning is overridden."""


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The planner's first prescription at the weight in force."""

    plan: CoursePlan
    dose_mg: float
    times_per_day: int
    strength_mg: float
    quantity: int
    supply_days: int


@dataclass(frozen=True, slots=True)
class Evaluation:
    draft: Draft
    new_course: bool
    product: str | None
    target_mg_per_kg: float | None
    weight_kg: float | None
    suggestion: Suggestion | None
    assessment: Assessment | None
    requirements: tuple[Requirement, ...]
    errors: dict[str, str]
    """Field name → what is wrong (shown next to the field)."""

    @property
    def blocking(self) -> tuple[Finding, ...]:
        if self.assessment is None:
            return ()
        return tuple(f for f in self.assessment.findings if f.severity is Severity.CRITICAL)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        if self.assessment is None:
            return ()
        return tuple(f for f in self.assessment.findings if f.severity is Severity.WARNING)

    @property
    def unmet(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if not r.met)

    @property
    def missing_reasons(self) -> tuple[str, ...]:
        """The warnings without a reason to override them."""
        return tuple(
            f.rule_id for f in self.warnings if not self.draft.overrides.get(f.rule_id, "").strip()
        )

    @property
    def ready(self) -> bool:
        """True when the order may be stored: complete, no critical finding, every
        warning overridden with a reason, the programme satisfied, nothing refused."""
        return (
            self.assessment is not None
            and not self.blocking
            and not self.missing_reasons
            and not self.unmet
            and not self.errors
        )


def suggest(
    kb: KnowledgeBase,
    product: str,
    weight_kg: float,
    target: float,
    mg_per_kg_day: float | None,
    *,
    on: date,
) -> Suggestion:
    """The planner's plan and the first prescription it implies (one capsule strength
    per administration, the programme's longest supply)."""
    per_kg = mg_per_kg_day if mg_per_kg_day is not None else default_mg_per_kg_day(kb, product)
    plan = plan_course(weight_kg, product, target, per_kg, start=on, kb=kb)
    times = len(plan.capsules.doses)
    dose = Fraction(str(plan.daily_mg)) / times
    strengths = sorted(kb.product(product).strengths_mg, reverse=True)
    strength = next(
        (s for s in strengths if (dose / Fraction(str(s))).denominator == 1), strengths[-1]
    )
    supply = int(kb.number("ppp.max_supply_days"))
    per_dose = dose / Fraction(str(strength))
    return Suggestion(
        plan=plan,
        dose_mg=float(dose),
        times_per_day=times,
        strength_mg=strength,
        quantity=int(per_dose * times * supply),
        supply_days=supply,
    )


def evaluate(record: PatientRecord, draft: Draft, *, on: date, kb: KnowledgeBase) -> Evaluation:
    """The draft read against ``record`` on ``on`` (see the module docstring)."""
    errors: dict[str, str] = {}
    course = record.current_course
    new_course = course is None
    product = draft.product if new_course else course.product if course else None
    target = draft.target_mg_per_kg if new_course else course.target_mg_per_kg if course else None
    if target is None:
        target = kb.number("course.cumulative_target_mg_per_kg")
    working = record
    if new_course:
        if not product:
            errors["product"] = "choose a product to start the course"
        else:
            try:
                working = apply(record, _start(draft, product, on), today=on, kb=kb)
            except CommandRejected as error:
                errors[error.field] = error.message.removeprefix(f"{error.field}: ")
    weight = record.weight_on(on)
    suggestion = None
    if product and weight is not None and not errors:
        try:
            suggestion = suggest(kb, product, weight.kg, target, draft.mg_per_kg_day, on=on)
        except IsotrackError as error:
            errors["mg_per_kg_day"] = _message(error)
    elif weight is None:
        errors["weight"] = "no weight recorded: record a weight first, then plan the dose"
    order = _order(draft, product, errors)
    assessment = None
    requirements: tuple[Requirement, ...] = ()
    if order is not None and not errors:
        try:
            assessment = screen_order(to_snapshot(working, on=on, kb=kb), order, on=on, kb=kb)
        except InvalidInputError as error:
            errors[error.field] = _message(error)
        requirements = prescribing_requirements(
            working, on=on, kb=kb, supply_days=draft.supply_days
        )
        _try_prescribe(working, draft, on, kb, errors)
    return Evaluation(
        draft=draft,
        new_course=new_course,
        product=product,
        target_mg_per_kg=target,
        weight_kg=weight.kg if weight is not None else None,
        suggestion=suggestion,
        assessment=assessment,
        requirements=requirements,
        errors=errors,
    )


def commands_to_store(evaluation: Evaluation, *, on: date) -> list[AnyCommand]:
    """StartCourse (for a new course), the overrides, then Prescribe. Only for a ready
    evaluation (InvalidInputError otherwise: nothing is stored)."""
    if not evaluation.ready or evaluation.product is None:
        raise InvalidInputError("prescription", "the order is not ready: see the findings")
    draft = evaluation.draft
    commands: list[AnyCommand] = []
    if evaluation.new_course:
        commands.append(_start(draft, evaluation.product, on))
    for finding in evaluation.warnings:
        reason = draft.overrides[finding.rule_id].strip()
        commands.append(RecordOverride(on=on, rule_id=finding.rule_id, reason=reason))
    commands.append(_prescribe(draft, on))
    return commands


def _start(draft: Draft, product: str, on: date) -> StartCourse:
    return StartCourse(
        on=on,
        course_id=f"{draft.prescription_id}-course",
        product=product,
        target_mg_per_kg=draft.target_mg_per_kg,
    )


def _prescribe(draft: Draft, on: date) -> Prescribe:
    assert draft.dose_mg is not None
    assert draft.times_per_day is not None
    assert draft.strength_mg is not None
    assert draft.quantity is not None
    assert draft.supply_days is not None
    return Prescribe(
        on=on,
        prescription_id=draft.prescription_id,
        dose_mg=draft.dose_mg,
        times_per_day=draft.times_per_day,
        strength_mg=draft.strength_mg,
        quantity=draft.quantity,
        supply_days=draft.supply_days,
        override_reason=_dose_reason(draft),
    )


def _dose_reason(draft: Draft) -> str:
    reasons = [draft.overrides.get(rule, "").strip() for rule in DOSE_RULES]
    return draft.override_reason.strip() or next((r for r in reasons if r), "")


def _order(draft: Draft, product: str | None, errors: dict[str, str]) -> IsotretinoinOrder | None:
    needed = {
        "dose_mg": draft.dose_mg,
        "times_per_day": draft.times_per_day,
        "strength_mg": draft.strength_mg,
        "quantity": draft.quantity,
        "supply_days": draft.supply_days,
    }
    for name, value in needed.items():
        if value is None:
            errors.setdefault(name, "fill this in (the planner's suggestion is above)")
        elif value <= 0:
            errors.setdefault(name, "must be above 0")
    if any(name in errors for name in needed):
        return None
    return IsotretinoinOrder(
        product=product,
        dose_mg=draft.dose_mg,
        times_per_day=draft.times_per_day,
        strength_mg=draft.strength_mg,
        quantity=draft.quantity,
        supply_days=draft.supply_days,
        repeats=0,
        source="web prescribe form",
    )


def _try_prescribe(
    record: PatientRecord, draft: Draft, on: date, kb: KnowledgeBase, errors: dict[str, str]
) -> None:
    """Apply the prescription in memory; a refusal that is not the programme's (shown
    as the requirements) nor the supply on hand's (the SUPPLY-ON-HAND warning, whose
    reason is stored before the prescription) goes next to its field."""
    try:
        apply(record, _prescribe(draft, on), today=on, kb=kb)
    except CommandRejected as error:
        if error.field not in ("programme", "supply"):
            errors.setdefault(error.field, _message(error))


def _message(error: IsotrackError) -> str:
    if isinstance(error, InvalidInputError):
        return error.message.removeprefix(f"{error.field}: ")
    return error.message
