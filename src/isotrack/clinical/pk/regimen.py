"""Dose histories: what was taken, when, with or without food, which formulation.

Time is in hours from the start of the history (hour 0 = the first dose of a
regular regimen).

>>> doses = regular_regimen(40, times_per_day=2, days=2, missed_days=(2,))
>>> [(d.time_h, d.mg) for d in doses]
[(0.0, 40.0), (12.0, 40.0)]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from isotrack.clinical.pk.parameters import FORMULATIONS
from isotrack.errors import InvalidInputError

HOURS_PER_DAY = 24.0


@dataclass(frozen=True, slots=True)
class Dose:
    """One dose taken: at ``time_h`` hours, ``mg`` of ``formulation``, fed or fasted."""

    time_h: float
    mg: float
    fed: bool = True
    formulation: str = "conventional"

    def __post_init__(self) -> None:
        if not self.time_h >= 0:
            raise InvalidInputError("dose time", f"must be 0 h or later, got {self.time_h!r}")
        if not 0 < self.mg <= 1000:
            raise InvalidInputError("dose", f"must be more than 0 and at most 1000 mg: {self.mg!r}")
        if self.formulation not in FORMULATIONS:
            raise InvalidInputError(
                "formulation", f"{self.formulation!r}; use one of {', '.join(FORMULATIONS)}"
            )


def regular_regimen(
    dose_mg: float,
    *,
    times_per_day: int,
    days: int,
    fed: bool = True,
    formulation: str = "conventional",
    missed_days: Iterable[int] = (),
) -> tuple[Dose, ...]:
    """``dose_mg`` taken ``times_per_day`` times a day, evenly spaced, for ``days``
    days; ``missed_days`` (1 = the first day) are skipped whole."""
    if not 1 <= times_per_day <= 4:
        raise InvalidInputError("times per day", f"must be 1 to 4, got {times_per_day}")
    if days < 1:
        raise InvalidInputError("days", f"must be at least 1, got {days}")
    missed = set(missed_days)
    outside = sorted(d for d in missed if not 1 <= d <= days)
    if outside:
        raise InvalidInputError("missed", f"day {outside[0]} is outside days 1–{days}")
    spacing = HOURS_PER_DAY / times_per_day
    return tuple(
        Dose(day * HOURS_PER_DAY + i * spacing, float(dose_mg), fed, formulation)
        for day in range(days)
        if day + 1 not in missed
        for i in range(times_per_day)
    )


def last_dose_time(doses: Sequence[Dose]) -> float:
    if not doses:
        raise InvalidInputError("doses", "the history has no dose: every day was missed")
    return max(d.time_h for d in doses)
