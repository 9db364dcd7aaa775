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

The dose is a regimen (:class:`~isotrack.clinical.dosing.Regimen`): the form
asks for the morning and the evening dose, the planner fills them with its own
regimen (morning 30 mg, evening 25 mg), and the capsules of each strength for
the days of supply follow from it. A dose the product's strengths cannot make
is DOSE-NOT-TAKEABLE (critical), shown with the nearest takeable regimens. A
draft in the older single-dose fields (dose, times a day, strength, capsules)
is still read.

A critical finding blocks the order; every warning needs a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from isotrack.clinical.dosing import (
    CoursePlan,
    Regimen,
    default_mg_per_kg_day,
    plan_course,
    regimen_of,
)
from isotrack.clinical.findings import Assessment, Finding, Severity
from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.programme import Requirement, prescribing_requirements
from isotrack.clinical.record import PatientRecord, apply, to_snapshot
from isotrack.clinical.screening import screen_order
from isotrack.clinical.state import (
    AnyCommand,
    Prescribe,
    RecordOverride,
    StartCourse,
    prescription_of,
)
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
    morning_mg: float | None = None
    """The first (or only) administration of the day."""
    evening_mg: float | None = None
    """The second administration; None: once a day."""
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
    """The planner's first prescription at the weight in force: its regimen (the
    capsules of each administration) and the single-dose fields derived from it."""

    plan: CoursePlan
    regimen: Regimen
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
    regimen: Regimen | None = None
    """The draft's regimen, when the product's capsules make it."""

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
    regimen = plan.capsules
    supply = int(kb.number("ppp.max_supply_days"))
    return Suggestion(
        plan=plan,
        regimen=regimen,
        dose_mg=float(Fraction(str(plan.daily_mg)) / regimen.times_per_day),
        times_per_day=regimen.times_per_day,
        strength_mg=max(regimen.strengths_used),
        quantity=regimen.capsule_count * supply,
        supply_days=supply,
    )


def draft_doses(draft: Draft) -> tuple[float, ...]:
    """The dose of each administration the draft asks for; () when incomplete."""
    if draft.morning_mg is not None:
        evening = () if draft.evening_mg is None else (draft.evening_mg,)
        return (draft.morning_mg, *evening)
    if draft.dose_mg is None or draft.times_per_day is None or draft.times_per_day < 1:
        return ()
    return (draft.dose_mg,) * draft.times_per_day


def draft_regimen(draft: Draft, strengths: tuple[float, ...]) -> Regimen | None:
    """The draft's regimen: its morning (and evening) dose made of the product's
    ``strengths``, or its single dose of its capsule strength; None when the
    capsules cannot make it or a dose is missing."""
    doses = draft_doses(draft)
    if draft.morning_mg is None and draft.strength_mg is not None:
        strengths = (draft.strength_mg,)
    if not doses or not strengths or min(doses) <= 0 or min(strengths) <= 0:
        return None
    return regimen_of(doses, strengths)


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
    strengths = tuple(kb.product(product).strengths_mg) if product else ()
    regimen = draft_regimen(draft, strengths)
    order = _order(draft, product, regimen, errors)
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
        _try_prescribe(working, draft, regimen, on, kb, errors)
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
        regimen=regimen,
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
    commands.append(_prescribe(draft, evaluation.regimen, on))
    return commands


def _start(draft: Draft, product: str, on: date) -> StartCourse:
    return StartCourse(
        on=on,
        course_id=f"{draft.prescription_id}-course",
        product=product,
        target_mg_per_kg=draft.target_mg_per_kg,
    )


def _prescribe(draft: Draft, regimen: Regimen | None, on: date) -> Prescribe:
    assert draft.supply_days is not None
    if draft.morning_mg is not None:  # the regimen form; refused below when untakeable
        if regimen is None:
            raise InvalidInputError("morning_mg", "the capsules cannot make this dose")
        return prescription_of(
            on=on, prescription_id=draft.prescription_id, regimen=regimen,
            supply_days=draft.supply_days, override_reason=_dose_reason(draft),
        )  # fmt: skip
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


def _order(
    draft: Draft, product: str | None, regimen: Regimen | None, errors: dict[str, str]
) -> IsotretinoinOrder | None:
    if draft.morning_mg is not None:
        return _regimen_order(draft, product, regimen, errors)
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


def _regimen_order(
    draft: Draft, product: str | None, regimen: Regimen | None, errors: dict[str, str]
) -> IsotretinoinOrder | None:
    """The order of the regimen form: the doses as asked (screened, DOSE-NOT-TAKEABLE
    when the capsules cannot make them), the capsules of the regimen when they can."""
    for name, value in (("morning_mg", draft.morning_mg), ("evening_mg", draft.evening_mg),
                        ("supply_days", draft.supply_days)):  # fmt: skip
        if name != "evening_mg" and value is None:
            errors.setdefault(name, "fill this in (the planner's suggestion is above)")
        elif value is not None and value <= 0:
            errors.setdefault(name, "must be above 0")
    if any(name in errors for name in ("morning_mg", "evening_mg", "supply_days")):
        return None
    doses = draft_doses(draft)
    return IsotretinoinOrder(
        product=product,
        dose_mg=sum(doses) / len(doses),
        times_per_day=len(doses),
        doses_mg=doses,
        regimen=regimen,
        quantity=None if regimen is None else regimen.capsule_count * (draft.supply_days or 0),
        supply_days=draft.supply_days,
        repeats=0,
        source="web prescribe form",
    )


def _try_prescribe(
    record: PatientRecord,
    draft: Draft,
    regimen: Regimen | None,
    on: date,
    kb: KnowledgeBase,
    errors: dict[str, str],
) -> None:
    """Apply the prescription in memory; a refusal that is not the programme's (shown
    as the requirements) nor the supply on hand's (the SUPPLY-ON-HAND warning, whose
    reason is stored before the prescription) goes next to its field. An untakeable
    regimen is left to its finding (DOSE-NOT-TAKEABLE, with the nearest takeable
    regimens)."""
    if draft.morning_mg is not None and regimen is None:
        return
    try:
        apply(record, _prescribe(draft, regimen, on), today=on, kb=kb)
    except CommandRejected as error:
        if error.field not in ("programme", "supply"):
            errors.setdefault(error.field, _message(error))


def _message(error: IsotrackError) -> str:
    if isinstance(error, InvalidInputError):
        return error.message.removeprefix(f"{error.field}: ")
    return error.message
