"""The course planner: from weight, product and dose to capsules, days to the
cumulative target, end date and a weekly table (facts.md §2).

Pure: the start date and the knowledge base are arguments. The plan is
simulated one calendar day at a time, so that a history of events can change
it:

- :class:`WeightChange` — a new weight from a date. Cumulative mg/kg always uses
  the weight in force that day. In a weight-based plan (``weight_based=True``,
  the default) the daily dose is recalculated for the new weight at the mg/kg/day
  in force; in a fixed-dose plan (``weight_based=False``) the daily mg stays as it
  was, unless it would exceed the product's absolute maximum for the new weight,
  in which case it is recalculated (and a note says so).
- :class:`DoseChange` — a new mg/kg/day from a date (replaces a start-low phase).
- :class:`MissedDose` — no dose that day; the calendar runs on.

Every daily dose is a combination of the product's real capsule strengths
(:mod:`isotrack.clinical.order.regimen`), never above ``absolute_max × weight``.
Days to target count dosing days until the cumulative mg/kg reaches the target;
the end date is the last dosing day. A plan longer than ``course.max_plan_days``
calendar days is refused.

>>> from datetime import date
>>> from isotrack.knowledge import default_knowledge
>>> plan = plan_course(70, "absorica", 150, 1.0, start=date(2026, 3, 2), kb=default_knowledge())
>>> plan.daily_mg, plan.dosing_days, plan.end.isoformat()
(70.0, 150, '2026-07-29')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

from isotrack.clinical.dosing.products import (
    absolute_max,
    check_mg_per_kg,
    check_target,
    check_weight,
    daily_capsules,
    oral_product,
)
from isotrack.clinical.order.regimen import Regimen
from isotrack.clinical.units import exact
from isotrack.errors import InvalidInputError
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.model import Product

DAYS_PER_WEEK = 7


@dataclass(frozen=True, slots=True)
class WeightChange:
    on: date
    weight_kg: float


@dataclass(frozen=True, slots=True)
class DoseChange:
    on: date
    mg_per_kg_day: float


@dataclass(frozen=True, slots=True)
class MissedDose:
    on: date


HistoryEvent = WeightChange | DoseChange | MissedDose


@dataclass(frozen=True, slots=True)
class DosePeriod:
    """A stretch of the course with one daily dose, from ``start``."""

    start: date
    weight_kg: float
    mg_per_kg_day: float
    """The mg/kg/day asked for in this period."""
    capsules: Regimen
    reason: str

    @property
    def daily_mg(self) -> float:
        return self.capsules.total_mg

    @property
    def achieved_mg_per_kg_day(self) -> float:
        return self.daily_mg / self.weight_kg


@dataclass(frozen=True, slots=True)
class WeekRow:
    """The course at the end of a week (or on the last dosing day)."""

    week: int
    on: date
    cumulative_mg: float
    cumulative_mg_per_kg: float
    daily_mg: float
    """The daily dose in force on ``on``."""


@dataclass(frozen=True, slots=True)
class CoursePlan:
    product: str
    start: date
    weight_kg: float
    target_mg_per_kg: float
    mg_per_kg_day: float
    """The chosen daily dose in mg/kg/day (after any start-low phase)."""
    capsules: Regimen
    """The capsules of the chosen dose at the starting weight."""
    dosing_days: int
    end: date
    """The last dosing day."""
    cumulative_mg: float
    cumulative_mg_per_kg: float
    periods: tuple[DosePeriod, ...]
    weeks: tuple[WeekRow, ...]
    missed: tuple[date, ...] = ()
    """Missed days that fell inside the course."""
    weight_based: bool = True
    notes: tuple[str, ...] = field(default=())

    @property
    def daily_mg(self) -> float:
        return self.capsules.total_mg

    @property
    def achieved_mg_per_kg_day(self) -> float:
        return self.daily_mg / self.weight_kg


# --- the plan ---------------------------------------------------------------------------


def plan_course(
    weight_kg: float,
    product: str,
    target_mg_per_kg: float,
    daily_mg_per_kg: float,
    *,
    start: date,
    kb: KnowledgeBase,
    start_low: bool = False,
    history: Sequence[HistoryEvent] = (),
    weight_based: bool = True,
) -> CoursePlan:
    """Plan a course; see the module docstring for the rules.

    ``product`` is a knowledge-base product id; ``daily_mg_per_kg`` the chosen
    dose. ``start_low`` gives the first ``course.start_low_weeks`` weeks at
    ``course.start_low_mg_per_kg_day`` when that is lower than the chosen dose.
    Bad input raises :class:`~isotrack.errors.InvalidInputError` naming the field.
    """
    chosen_product = oral_product(kb, product)
    check_weight(kb, weight_kg)
    check_target(kb, target_mg_per_kg)
    check_mg_per_kg(chosen_product, daily_mg_per_kg, "daily_mg_per_kg")
    for event in history:
        if event.on < start:
            raise InvalidInputError(
                "history", f"{type(event).__name__} on {event.on} is before the start {start}"
            )
        if isinstance(event, WeightChange):
            check_weight(kb, event.weight_kg, "history weight")
        elif isinstance(event, DoseChange):
            check_mg_per_kg(chosen_product, event.mg_per_kg_day, "history dose")
    notes = _dose_notes(kb, chosen_product, weight_kg, daily_mg_per_kg)
    low_until: date | None = None
    first_level = daily_mg_per_kg
    if start_low:
        low_level = kb.number("course.start_low_mg_per_kg_day")
        weeks = kb.number("course.start_low_weeks")
        if low_level < daily_mg_per_kg:
            first_level = low_level
            low_until = start + timedelta(days=round(weeks * DAYS_PER_WEEK))
            notes.append(
                f"Start low: {low_level:g} mg/kg/day for the first {weeks:g} weeks, then "
                f"{daily_mg_per_kg:g} mg/kg/day from {low_until.isoformat()}."
            )
        else:
            notes.append(
                f"Start-low not applied: the chosen {daily_mg_per_kg:g} mg/kg/day is not above "
                f"the start-low dose of {low_level:g} mg/kg/day."
            )
    simulation = _Simulation(
        kb=kb,
        product=chosen_product,
        start=start,
        target=exact(target_mg_per_kg),
        weight_based=weight_based,
        history=history,
        notes=notes,
    )
    simulation.run(weight_kg, first_level, daily_mg_per_kg, low_until)
    notes.extend(_split_notes(chosen_product, simulation.periods))
    return CoursePlan(
        product=chosen_product.id,
        start=start,
        weight_kg=weight_kg,
        target_mg_per_kg=target_mg_per_kg,
        mg_per_kg_day=daily_mg_per_kg,
        capsules=daily_capsules(chosen_product, weight_kg, daily_mg_per_kg),
        dosing_days=simulation.dosing_days,
        end=simulation.end,
        cumulative_mg=float(simulation.cumulative_mg),
        cumulative_mg_per_kg=float(simulation.cumulative_mg_per_kg),
        periods=tuple(simulation.periods),
        weeks=tuple(simulation.weeks),
        missed=tuple(sorted(d for d in simulation.missed if start <= d <= simulation.end)),
        weight_based=weight_based,
        notes=tuple(notes),
    )


def _dose_notes(
    kb: KnowledgeBase, product: Product, weight_kg: float, mg_per_kg_day: float
) -> list[str]:
    notes = []
    tolerance = kb.number("dose.tolerance_mg_per_kg_day")
    low, high = product.usual_min_mg_per_kg_day, product.usual_max_mg_per_kg_day
    if low is not None and mg_per_kg_day < low - tolerance:
        notes.append(
            f"{mg_per_kg_day:g} mg/kg/day is below the usual minimum of {low:g} for "
            f"{product.name}: a low-dose regimen, with a longer course to the target."
        )
    if high is not None and mg_per_kg_day > high + tolerance:
        notes.append(
            f"{mg_per_kg_day:g} mg/kg/day is above the usual maximum of {high:g} for "
            f"{product.name}: the label keeps this for very severe or mainly truncal disease."
        )
    capsules = daily_capsules(product, weight_kg, mg_per_kg_day)
    wanted = weight_kg * mg_per_kg_day
    if abs(capsules.total_mg / weight_kg - mg_per_kg_day) > tolerance:
        notes.append(
            f"The closest capsule combination gives {capsules.total_mg:g} mg/day "
            f"({capsules.total_mg / weight_kg:.2f} mg/kg/day) for the {wanted:g} mg/day asked."
        )
    return notes


def _split_notes(product: Product, periods: Sequence[DosePeriod]) -> list[str]:
    """A note for each daily dose that cannot be split into the label's doses."""
    divided = product.divided_doses or 1
    strengths = ", ".join(f"{s:g}" for s in product.strengths_mg)
    notes = []
    for capsules in dict.fromkeys(p.capsules for p in periods):
        count = len(capsules.doses)
        if count < divided:
            given = "once a day" if count == 1 else f"in {count} doses a day"
            notes.append(
                f"No split of {capsules.total_mg:g} mg/day into {divided} doses exists with "
                f"{product.name} strengths ({strengths} mg): given {given} (the label "
                f"gives {divided} doses)."
            )
    return notes


@dataclass
class _Simulation:
    """The day-by-day course; mutable while it runs, read once it has finished."""

    kb: KnowledgeBase
    product: Product
    start: date
    target: Fraction
    weight_based: bool
    history: Sequence[HistoryEvent]
    notes: list[str]
    dosing_days: int = 0
    cumulative_mg: Fraction = Fraction(0)
    cumulative_mg_per_kg: Fraction = Fraction(0)
    end: date = date.min
    periods: list[DosePeriod] = field(default_factory=list)
    weeks: list[WeekRow] = field(default_factory=list)
    missed: set[date] = field(default_factory=set)

    def run(self, weight_kg: float, level: float, chosen: float, low_until: date | None) -> None:
        weights = {e.on: e.weight_kg for e in self.history if isinstance(e, WeightChange)}
        doses = {e.on: e.mg_per_kg_day for e in self.history if isinstance(e, DoseChange)}
        self.missed = {e.on for e in self.history if isinstance(e, MissedDose)}
        limit = round(self.kb.number("course.max_plan_days"))
        weight = weight_kg
        capsules = daily_capsules(self.product, weight, level)
        self.periods.append(DosePeriod(self.start, weight, level, capsules, "start"))
        for offset in range(limit):
            day = self.start + timedelta(days=offset)
            reasons: list[str] = []
            dose_changed = False
            if day in weights and weights[day] != weight:
                weight = weights[day]
                reasons.append(f"weight {weight:g} kg")
            if day in doses:
                level, low_until, dose_changed = doses[day], None, True
                reasons.append(f"dose change to {level:g} mg/kg/day")
            if day == low_until:
                level, low_until, dose_changed = chosen, None, True
                reasons.append("end of the start-low phase")
            if reasons:
                capsules = self._recalculate(day, weight, level, capsules, dose_changed)
                self.periods.append(DosePeriod(day, weight, level, capsules, "; ".join(reasons)))
            if day not in self.missed:
                daily = exact(capsules.total_mg)
                self.dosing_days += 1
                self.cumulative_mg += daily
                self.cumulative_mg_per_kg += daily / exact(weight)
                self.end = day
            reached = self.cumulative_mg_per_kg >= self.target
            if reached or (offset + 1) % DAYS_PER_WEEK == 0:
                self.weeks.append(
                    WeekRow(
                        week=offset // DAYS_PER_WEEK + 1,
                        on=day,
                        cumulative_mg=float(self.cumulative_mg),
                        cumulative_mg_per_kg=float(self.cumulative_mg_per_kg),
                        daily_mg=capsules.total_mg,
                    )
                )
            if reached:
                self._note_unused_events()
                return
        raise InvalidInputError(
            "target_mg_per_kg",
            f"{float(self.target):g} mg/kg is not reached within {limit} days "
            f"(course.max_plan_days) at this dose: raise the dose or lower the target",
        )

    def _recalculate(
        self,
        day: date,
        weight: float,
        level: float,
        capsules: Regimen,
        dose_changed: bool,
    ) -> Regimen:
        """The capsules from ``day``: recalculated for a new dose, and for a new weight
        only in a weight-based plan or when the fixed dose would exceed the maximum."""
        if self.weight_based or dose_changed:
            return daily_capsules(self.product, weight, level)
        if exact(capsules.total_mg) <= exact(weight) * exact(absolute_max(self.product)):
            return capsules
        new = daily_capsules(self.product, weight, level)
        self.notes.append(
            f"On {day.isoformat()} the fixed {capsules.total_mg:g} mg/day would exceed the "
            f"absolute maximum at {weight:g} kg: recalculated to {new.total_mg:g} mg/day."
        )
        return new

    def _note_unused_events(self) -> None:
        late = [e for e in self.history if e.on > self.end]
        if late:
            self.notes.append(
                f"{len(late)} history event(s) dated after the projected end "
                f"({self.end.isoformat()}) were not used."
            )
