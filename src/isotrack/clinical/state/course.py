"""The state of one isotretinoin course in a patient's record.

A course changes only through the commands of :mod:`isotrack.clinical.state.commands`
(:func:`isotrack.clinical.record.apply`); these classes are its frozen state and
the questions asked of it (is it paused on a day, which daily dose is in force).

Dates are inclusive: ``start`` is the first day of the course, ``end`` its last
(a dose may be taken on it). A pause ``(first, resumed)`` covers the days from
``first`` up to the day before ``resumed``; ``resumed`` is None while the
course is paused (it stays None when a paused course is ended).

The daily dose in force (:meth:`CourseState.dose_on`) comes from the dose
steps (:meth:`CourseState.dose_steps`): a prescription's dose takes effect on
the day it is first dispensed, unless a dose change dated on or after the
prescription and no later than that dispense already set the dose (the change
is the later decision); a dose change takes effect on its date. On one day,
the later step wins (a dose change after a first dispense; between two first
dispenses, the prescription written later).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Literal

from isotrack.clinical.order.regimen import Regimen
from isotrack.clinical.units import exact

CourseStatus = Literal["active", "paused", "ended"]


@dataclass(frozen=True, slots=True)
class PrescriptionState:
    """A prescription of the course and how much of it was dispensed."""

    id: str
    on: date
    dose_mg: float
    """Per administration."""
    times_per_day: int
    strength_mg: float
    quantity: int
    """Capsules prescribed."""
    supply_days: int
    dispensed_capsules: int = 0
    override_reason: str = ""
    programme: str = ""
    """The pregnancy prevention programme (rule set) in force when it was written..."""
    programme_version: str = ""
    """...and its version: a course records which version applied each month."""
    regimen: Regimen | None = None
    """Each daily administration with its capsules; None only for a prescription
    recorded before regimens whose dose no whole number of capsules makes."""

    @property
    def daily_mg(self) -> float:
        if self.regimen is not None:
            return self.regimen.total_mg
        return float(exact(self.dose_mg) * self.times_per_day)

    @property
    def doses_mg(self) -> tuple[float, ...]:
        """The dose of each administration of a day."""
        if self.regimen is not None:
            return self.regimen.doses_mg
        return (self.dose_mg,) * self.times_per_day

    def capsules_by_strength(self, capsules: int) -> tuple[tuple[float, int], ...] | None:
        """``capsules`` of this prescription per strength, largest first: whole days of
        the regimen; None when they are not whole days of a regimen of several
        strengths (a single strength is always ``capsules`` of it)."""
        regimen = self.regimen
        if regimen is None or len(regimen.strengths_used) == 1:
            strength = self.strength_mg if regimen is None else max(regimen.strengths_used)
            return ((strength, capsules),)
        days, rest = divmod(capsules, regimen.capsule_count)
        return None if rest else regimen.quantities(days)

    def mg_of(self, capsules: int) -> Fraction:
        """The mg in ``capsules`` of this prescription (whole days of a regimen of several
        strengths; see :meth:`capsules_by_strength`)."""
        by_strength = self.capsules_by_strength(capsules)
        if by_strength is None:
            regimen = self.regimen
            assert regimen is not None
            return exact(regimen.total_mg) * capsules / regimen.capsule_count
        return sum((exact(s) * n for s, n in by_strength), Fraction(0))

    @property
    def remaining_capsules(self) -> int:
        return self.quantity - self.dispensed_capsules


@dataclass(frozen=True, slots=True)
class AuthorizationState:
    """A dispensing authorisation recorded for a prescription of the course."""

    id: str
    on: date
    """Issued on."""
    prescription_id: str
    not_after: date
    """Do-not-dispense-after date."""
    max_quantity: int
    """Capsules this authorisation allows in all."""
    dispensed_before: int
    """Capsules of the prescription already dispensed when it was issued."""
    programme: str = ""
    programme_version: str = ""


@dataclass(frozen=True, slots=True)
class DispenseState:
    prescription_id: str
    on: date
    quantity: int
    """Capsules handed out."""
    mg: float
    """quantity × the prescription's strength."""
    authorization_id: str = ""
    """The authorisation it used (empty: none was in force, a log from before
    authorisations were used once)."""
    dispensed_by: str = ""
    """Who handed it out and where."""


@dataclass(frozen=True, slots=True)
class DoseChangeState:
    on: date
    dose_mg: float
    times_per_day: int
    override_reason: str = ""

    @property
    def daily_mg(self) -> float:
        return float(exact(self.dose_mg) * self.times_per_day)


@dataclass(frozen=True, slots=True)
class DoseStep:
    """A daily dose in force from ``on`` until the next step (derived, not stored)."""

    on: date
    dose_mg: float
    times_per_day: int
    source: str
    """"prescription P1" or "dose change"."""
    doses_mg: tuple[float, ...] = ()
    """The dose of each administration when the prescription's regimen gives them."""

    @property
    def daily_mg(self) -> Fraction:
        if self.doses_mg:
            return sum((exact(d) for d in self.doses_mg), Fraction(0))
        return exact(self.dose_mg) * self.times_per_day

    @property
    def administrations_mg(self) -> tuple[float, ...]:
        """The dose of each administration of a day, in the order they are taken."""
        return self.doses_mg or (self.dose_mg,) * self.times_per_day


@dataclass(frozen=True, slots=True)
class CourseState:
    course_id: str
    product: str
    start: date
    target_mg_per_kg: float
    status: CourseStatus = "active"
    end: date | None = None
    end_reason: str = ""
    prescriptions: tuple[PrescriptionState, ...] = ()
    dispenses: tuple[DispenseState, ...] = ()
    missed_days: tuple[date, ...] = ()
    """Sorted, no duplicates."""
    pauses: tuple[tuple[date, date | None], ...] = ()
    dose_changes: tuple[DoseChangeState, ...] = ()
    pause_reasons: tuple[str, ...] = ()
    """The reason of each pause, in the order of ``pauses``."""
    authorizations: tuple[AuthorizationState, ...] = ()
    """Dispensing authorisations, in the order they were recorded."""

    # --- questions ------------------------------------------------------------------
    @property
    def ended(self) -> bool:
        return self.status == "ended"

    @property
    def open_pause(self) -> date | None:
        """The first day of the pause in progress, if the course is paused."""
        if self.pauses and self.pauses[-1][1] is None:
            return self.pauses[-1][0]
        return None

    @property
    def status_since(self) -> date:
        """The day the course's ``status`` began: the end of an ended course, the first
        day of the pause in progress, else the last resumption (or the start)."""
        if self.ended and self.end is not None:
            return self.end
        if self.open_pause is not None:
            return self.open_pause
        resumed = [day for _, day in self.pauses if day is not None]
        return max(resumed, default=self.start)

    def paused_on(self, day: date) -> bool:
        return any(
            first <= day and (resumed is None or day < resumed) for first, resumed in self.pauses
        )

    def prescription(self, prescription_id: str) -> PrescriptionState | None:
        return next((p for p in self.prescriptions if p.id == prescription_id), None)

    def first_dispense(self, prescription_id: str) -> date | None:
        return min(
            (d.on for d in self.dispenses if d.prescription_id == prescription_id), default=None
        )

    @property
    def latest_event(self) -> tuple[date, str]:
        """The date of the course's latest recorded event and what it was."""
        events: list[tuple[date, str]] = [(self.start, "start")]
        events += [(p.on, f"prescription {p.id}") for p in self.prescriptions]
        events += [(d.on, f"dispense of {d.prescription_id}") for d in self.dispenses]
        events += [(c.on, "dose change") for c in self.dose_changes]
        events += [(day, "missed dose") for day in self.missed_days]
        for first, resumed in self.pauses:
            events.append((first, "pause"))
            if resumed is not None:
                events.append((resumed, "resume"))
        if self.end is not None:
            events.append((self.end, "end"))
        return max(events, key=lambda event: event[0])

    def dose_steps(self) -> tuple[DoseStep, ...]:
        """The daily doses in force, in date order (see the module docstring)."""
        keyed: list[tuple[tuple[date, int, date, int], DoseStep]] = []
        for index, p in enumerate(self.prescriptions):
            first = self.first_dispense(p.id)
            if first is None:
                continue
            if any(p.on <= c.on <= first for c in self.dose_changes):
                continue
            step = DoseStep(first, p.dose_mg, p.times_per_day, f"prescription {p.id}", p.doses_mg)
            keyed.append(((first, 0, p.on, index), step))
        for index, c in enumerate(self.dose_changes):
            step = DoseStep(c.on, c.dose_mg, c.times_per_day, "dose change")
            keyed.append(((c.on, 1, c.on, index), step))
        return tuple(step for _, step in sorted(keyed, key=lambda item: item[0]))

    def dose_on(self, day: date, steps: tuple[DoseStep, ...] | None = None) -> DoseStep | None:
        """The daily dose in force on ``day`` (None before anything was dispensed)."""
        in_force = None
        for step in self.dose_steps() if steps is None else steps:
            if step.on > day:
                break
            in_force = step
        return in_force

    def last_dose_increase(self, on: date) -> date | None:
        """The latest day up to ``on`` on which the daily dose in force went up."""
        increase = None
        previous: Fraction | None = None
        for step in self.dose_steps():
            if step.on > on:
                break
            if previous is not None and step.daily_mg > previous:
                increase = step.on
            previous = step.daily_mg
        return increase
