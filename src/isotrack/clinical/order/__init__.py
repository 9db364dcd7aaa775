"""The isotretinoin order under review: what screening reads besides the
patient's snapshot (product, route, dose, frequency, strength, quantity,
supply, repeats), each ``None`` when it was not given or could not be read.

:mod:`.regimen` is the regimen an order prescribes (each daily administration
with its capsules), kept beside the order so that the record and screening,
which sit below dosing, hold the same value; :mod:`isotrack.clinical.dosing` is
its public face."""

from __future__ import annotations

from dataclasses import dataclass

from isotrack.clinical.order.regimen import Regimen
from isotrack.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class IsotretinoinOrder:
    """The isotretinoin order under review. ``None`` means "not given or unreadable"."""

    product: str | None = None
    """Knowledge-base product id; None when the product could not be identified."""
    route: str | None = "oral"
    route_recognised: bool = True
    """False when the order states a route the reader could not read (``route`` is then
    the route as written): the order is screened as oral and DOSE-UNPARSEABLE says so."""
    dose_mg: float | None = None
    """Amount per administration, in mg (the mean when ``doses_mg`` differ)."""
    times_per_day: int | None = None
    doses_mg: tuple[float, ...] = ()
    """The doses of one day when they differ (e.g. 30 mg in the morning and 25 mg in
    the evening): the daily dose is their sum, ``times_per_day`` their number."""
    lowest_daily_mg: float | None = None
    """When the order allows a range (a dose range, ``frequencyMax``, ``periodMax``):
    the lowest daily dose it allows. ``dose_mg`` and ``times_per_day`` are the top of
    the range, what the patient may take; the supply lasts longest at this end."""
    strength_mg: float | None = None
    quantity: float | None = None
    """Dispense quantity in capsules (units of ``strength_mg``)."""
    supply_days: float | None = None
    repeats: int | None = None
    regimen: Regimen | None = None
    """The capsules of each administration when the order gives them (a prescription
    recorded with its regimen); its doses are then ``doses_mg`` (or ``dose_mg`` ×
    ``times_per_day``)."""
    text: str | None = None
    product_by_text: bool = False
    source: str = ""

    def __post_init__(self) -> None:
        for name in ("dose_mg", "strength_mg", "quantity", "supply_days"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise InvalidInputError(f"order {name}", f"must be above 0, got {value}")
        if self.times_per_day is not None and self.times_per_day < 1:
            raise InvalidInputError(
                "order times_per_day", f"must be at least 1, got {self.times_per_day}"
            )
        if self.repeats is not None and self.repeats < 0:
            raise InvalidInputError("order repeats", f"cannot be negative, got {self.repeats}")
        if self.doses_mg and (len(self.doses_mg) != self.times_per_day or min(self.doses_mg) <= 0):
            raise InvalidInputError(
                "order doses_mg", "needs one dose above 0 mg for each of times_per_day"
            )
        daily = self.daily_dose_mg
        if self.lowest_daily_mg is not None and (
            self.lowest_daily_mg <= 0 or daily is None or self.lowest_daily_mg > daily
        ):
            raise InvalidInputError(
                "order lowest_daily_mg", "must be above 0 and not above the daily dose"
            )

    @property
    def daily_dose_mg(self) -> float | None:
        """The daily dose (at the top of a range)."""
        if self.doses_mg:
            return sum(self.doses_mg)
        if self.dose_mg is None or self.times_per_day is None:
            return None
        return self.dose_mg * self.times_per_day


def times_a_day(times: int) -> str:
    """How often a dose is taken, in words: 'once a day', 'twice a day', '3 times a day'.

    >>> times_a_day(2)
    'twice a day'
    """
    return {1: "once a day", 2: "twice a day"}.get(times, f"{times} times a day")
