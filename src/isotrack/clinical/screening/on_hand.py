"""The isotretinoin supply a patient still has on a day, from the dispenses
(:class:`~isotrack.clinical.snapshot.SupplyRecord`: the day handed over and the
days it supplies); SUPPLY-ON-HAND reads it (facts.md §7).

A dispense on day ``d`` of ``n`` days covers the days ``d`` … ``d + n - 1``: on
day ``d + n`` nothing is left. A dispense while an earlier one still covers
days starts where that one ends (the capsules add up: an early refill builds a
stock). On day ``on`` the supply on hand is the number of covered days from
``on`` on, ``on`` included (the day's dose not yet taken).

A dispense whose days supplied are not recorded is never counted as nothing:
it is listed as *unknown* when, at the programme's longest supply
(``ppp.max_supply_days``), it could still cover more than the clinic's limit.

>>> from datetime import date
>>> from isotrack.clinical.snapshot import SupplyRecord
>>> first = SupplyRecord(date(2026, 3, 1), 30.0)
>>> supply_on_hand((first,), date(2026, 3, 11)).days
20.0
>>> supply_on_hand((first,), date(2026, 3, 31)).days
0.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from isotrack.clinical.snapshot import SupplyRecord


@dataclass(frozen=True, slots=True)
class SupplyOnHand:
    """What is left on ``on`` of the dispenses counted."""

    on: date
    days: float
    """Covered days from ``on`` on (0 when none is left)."""
    counted: tuple[SupplyRecord, ...]
    """The dispenses with days supplied, on or before ``on``, oldest first."""
    unknown: tuple[SupplyRecord, ...] = ()
    """Dispenses without days supplied that could still cover more than the limit."""

    @property
    def last_covered_day(self) -> date | None:
        """The last day the supply covers, or None when nothing is left."""
        if self.days <= 0:
            return None
        return self.on + timedelta(days=math.ceil(self.days) - 1)

    def over(self, limit: float) -> bool:
        """True when more than ``limit`` days are on hand."""
        return self.days > limit

    def due_on(self, limit: float) -> date:
        """The first day on which no more than ``limit`` days are on hand."""
        if self.days <= limit:
            return self.on
        return self.on + timedelta(days=math.ceil(self.days - limit))


def supply_on_hand(
    supplies: Iterable[SupplyRecord],
    on: date,
    *,
    longest_days: float | None = None,
    limit: float = 0.0,
    exclude_prescription: str | None = None,
) -> SupplyOnHand:
    """The supply on hand on ``on`` from the dispenses dated on or before it.

    ``exclude_prescription``: leave out the dispenses of this prescription (when a
    dispense continues it: the rest of one prescription is not an early refill).
    ``longest_days``: the longest supply one dispense may be (``ppp.max_supply_days``);
    with it, a dispense without days supplied that could still cover more than
    ``limit`` days is listed in ``unknown``."""
    skip = exclude_prescription
    before = sorted(
        (s for s in supplies if s.on <= on and (skip is None or s.prescription != skip)),
        key=lambda s: s.on,
    )
    counted = tuple(s for s in before if s.days is not None)
    end: float | None = None  # first day (ordinal, may be fractional) not covered
    for supply in counted:
        assert supply.days is not None  # filtered above
        start = float(supply.on.toordinal())
        if end is not None and end > start:
            start = end
        end = start + supply.days
    days = max(0.0, end - on.toordinal()) if end is not None else 0.0
    unknown: tuple[SupplyRecord, ...] = ()
    if longest_days is not None:
        unknown = tuple(
            s
            for s in before
            if s.days is None and s.on.toordinal() + longest_days - on.toordinal() > limit
        )
    return SupplyOnHand(on, days, counted, unknown)
