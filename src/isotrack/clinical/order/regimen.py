"""Regimens: each daily administration of isotretinoin with its capsule combination,
made of a product's real strengths (e.g. morning 30 mg, evening 25 mg; 40 mg as
2 × 20 mg).

:class:`Regimen` is the one regimen value of isotrack: the planner chooses one,
a prescription holds one (:class:`isotrack.clinical.state.Prescribe`), order
screening reads the order's as one (DOSE-NOT-TAKEABLE when the strengths cannot
make it), and the pharmacy check, the dispense quantities per strength, the
cumulative-dose ledger, the PK curve, the FHIR export and the CDS suggestions
all read it. It lives beside the order (a shared module of ``clinical/``, below ``state/``
and ``screening/``, which hold and screen it); :mod:`isotrack.clinical.dosing`
is its public face.

No source gives a rounding rule (facts.md §2, "Weight-based rounding"); the
choice in :func:`choose_capsules` is explicit and deterministic. Among all
combinations of the product's strengths whose total does not exceed the allowed
maximum, the chosen one is, in order of preference:

1. the total closest to the target daily dose;
2. split into the label's number of divided doses (each dose at least one
   capsule); if no such split exists, fewer doses (e.g. Absorica 25 mg/day is
   one 25 mg capsule once a day, since no two Absorica capsules make 25 mg);
3. on a tie in distance, the lower total (never round up on a tie);
4. the fewest capsules in the day;
5. the most even split (smallest difference between the largest and the
   smallest dose); the larger dose comes first (morning);
6. within a dose, the fewest different strengths, then the largest capsules.

>>> from fractions import Fraction
>>> day = choose_capsules(Fraction(35), Fraction(140), (10, 20, 25, 30, 35, 40), 2)
>>> [dose.capsules_mg for dose in day.doses]
[(25.0,), (10.0,)]
>>> choose_capsules(Fraction(140), Fraction(140), (10, 20, 25, 30, 35, 40), 2).doses[0].capsules_mg
(35.0, 35.0)
>>> regimen_of((27.5, 27.5), (10,)) is None
True
>>> regimen_of((30, 25), (10, 20, 25, 30, 35, 40)).describe()
'morning 30 mg (1 × 30 mg), evening 25 mg (1 × 25 mg)'
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from fractions import Fraction

import msgspec

from isotrack.clinical.units import exact
from isotrack.errors import InvalidInputError
from isotrack.knowledge.model import Product

NEAREST_SHOWN = 3
"""How many takeable regimens are offered for a dose that cannot be made (a display
choice, not a clinical number)."""

_DECIMALS_TRIED = 4
"""Strengths are whole mg or have at most this many decimals (a data check, not a
clinical number)."""


class Administration(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The capsules taken at one time of day, largest first."""

    capsules_mg: tuple[float, ...]

    @property
    def total_mg(self) -> float:
        return float(sum(exact(c) for c in self.capsules_mg))

    def counts(self) -> tuple[tuple[float, int], ...]:
        """(strength, capsules) of this administration, largest strength first."""
        return tuple((s, self.capsules_mg.count(s)) for s in sorted(set(self.capsules_mg))[::-1])

    def describe(self) -> str:
        """'30 mg (1 × 30 mg)', '40 mg (2 × 20 mg)'."""
        parts = " + ".join(f"{n} × {s:g} mg" for s, n in self.counts())
        return f"{self.total_mg:g} mg ({parts})"


class Regimen(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A day's administrations (largest first: morning, then evening)."""

    doses: tuple[Administration, ...]

    def __post_init__(self) -> None:
        if not self.doses or any(not d.capsules_mg or min(d.capsules_mg) <= 0 for d in self.doses):
            raise InvalidInputError(
                "regimen", "needs at least one administration, each of capsules above 0 mg"
            )

    @property
    def times_per_day(self) -> int:
        return len(self.doses)

    @property
    def doses_mg(self) -> tuple[float, ...]:
        return tuple(d.total_mg for d in self.doses)

    @property
    def total_mg(self) -> float:
        return float(sum(exact(d.total_mg) for d in self.doses))

    @property
    def capsule_count(self) -> int:
        return sum(len(d.capsules_mg) for d in self.doses)

    @property
    def strengths_used(self) -> frozenset[float]:
        return frozenset(c for d in self.doses for c in d.capsules_mg)

    def capsules_per_day(self) -> tuple[tuple[float, int], ...]:
        """(strength, capsules a day), largest strength first."""
        every = [c for d in self.doses for c in d.capsules_mg]
        return tuple((s, every.count(s)) for s in sorted(set(every))[::-1])

    def quantities(self, days: int) -> tuple[tuple[float, int], ...]:
        """(strength, capsules) for ``days`` days of this regimen."""
        return tuple((s, n * days) for s, n in self.capsules_per_day())

    def describe(self) -> str:
        """'morning 30 mg (1 × 30 mg), evening 25 mg (1 × 25 mg)'."""
        names = administration_names(len(self.doses))
        return ", ".join(f"{n} {d.describe()}" for n, d in zip(names, self.doses, strict=True))


def administration_names(count: int) -> tuple[str, ...]:
    """What each administration of a day is called: morning and evening for two."""
    if count == 1:
        return ("once daily",)
    if count == 2:  # the two divided doses of the labels
        return ("morning", "evening")
    return tuple(f"dose {i + 1}" for i in range(count))


def _scale(strengths: Sequence[float]) -> int:
    for decimals in range(_DECIMALS_TRIED + 1):
        factor: int = 10**decimals
        if all((exact(s) * factor).denominator == 1 for s in strengths):
            return factor
    raise InvalidInputError("strengths_mg", f"cannot use capsule strengths {list(strengths)}")


class _Search:
    """Exact integer search over totals in units of 1/scale mg."""

    def __init__(self, units: tuple[int, ...], most: int) -> None:
        self.units = units
        """Strengths, largest first."""
        self.most = most
        """Highest allowed daily total."""
        fewest = [math.inf] * (most + 1)
        fewest[0] = 0
        for total in range(1, most + 1):
            for unit in units:
                if unit <= total and fewest[total - unit] + 1 < fewest[total]:
                    fewest[total] = fewest[total - unit] + 1
        self.fewest = fewest
        """fewest[u]: fewest capsules that make u units (inf when no combination does)."""
        self._splits: dict[tuple[int, int, int], tuple[float, int, tuple[int, ...]]] = {}

    def reachable(self, total: int) -> bool:
        return 0 < total <= self.most and self.fewest[total] < math.inf

    def split(self, total: int, parts: int, ceiling: int) -> tuple[float, int, tuple[int, ...]]:
        """Best split of ``total`` into ``parts`` non-increasing dose totals, each at most
        ``ceiling``: (capsules, -smallest dose, dose totals); capsules inf when none."""
        key = (total, parts, ceiling)
        if key not in self._splits:
            self._splits[key] = self._best_split(total, parts, ceiling)
        return self._splits[key]

    def _best_split(
        self, total: int, parts: int, ceiling: int
    ) -> tuple[float, int, tuple[int, ...]]:
        if parts == 1:
            if total <= ceiling and self.reachable(total):
                return (self.fewest[total], -total, (total,))
            return (math.inf, 0, ())
        best: tuple[float, int, tuple[int, ...]] = (math.inf, 0, ())
        for first in range(min(total, ceiling), 0, -1):
            if first * parts < total:
                break
            if not self.reachable(first):
                continue
            count, smallest, rest = self.split(total - first, parts - 1, first)
            if count == math.inf:
                continue
            candidate = (self.fewest[first] + count, smallest, (first, *rest))
            if candidate < best:
                best = candidate
        return best

    def compositions(self, total: int, count: int) -> Iterator[tuple[int, ...]]:
        """Every multiset of exactly ``count`` strengths summing to ``total``, largest first."""

        def extend(remaining: int, left: int, start: int) -> Iterator[tuple[int, ...]]:
            if left == 0:
                if remaining == 0:
                    yield ()
                return
            for index in range(start, len(self.units)):
                unit = self.units[index]
                if unit * left < remaining:
                    break
                if unit <= remaining and self.units[-1] * (left - 1) <= remaining - unit:
                    for rest in extend(remaining - unit, left - 1, index):
                        yield (unit, *rest)

        return extend(total, count, 0)

    def dose(self, total: int) -> tuple[int, ...]:
        count = int(self.fewest[total])
        return min(self.compositions(total, count), key=lambda c: (len(set(c)), [-u for u in c]))


def _totals_by_distance(target: Fraction, most: int) -> Iterator[list[int]]:
    """Groups of candidate totals (1..most), nearest to ``target`` first; a group holds
    the totals at the same distance."""
    below = min(math.floor(target), most)
    above = max(math.ceil(target), 1)
    if above == below:
        yield [below]
        below, above = below - 1, above + 1
    while below >= 1 or above <= most:
        down = target - below if below >= 1 else None
        up = above - target if above <= most else None
        if down is not None and (up is None or down < up):
            yield [below]
            below -= 1
        elif up is not None and (down is None or up < down):
            yield [above]
            above += 1
        else:
            yield [below, above]
            below, above = below - 1, above + 1


def choose_capsules(
    target_mg: Fraction, max_mg: Fraction, strengths_mg: Sequence[float], doses_per_day: int
) -> Regimen | None:
    """The capsule combination for ``target_mg`` a day, never above ``max_mg`` (see the
    module docstring for the order of preference); None when even the smallest capsule
    is above ``max_mg``."""
    if not strengths_mg or doses_per_day < 1:
        raise InvalidInputError("strengths_mg", "a product with capsule strengths is needed")
    scale = _scale(strengths_mg)
    units = tuple(sorted({int(exact(s) * scale) for s in strengths_mg}, reverse=True))
    most = math.floor(max_mg * scale)
    if most < units[-1]:
        return None
    search = _Search(units, most)
    target = target_mg * scale
    for group in _totals_by_distance(target, most):
        options = []
        for total in group:
            if not search.reachable(total):
                continue
            for parts in range(doses_per_day, 0, -1):
                count, smallest, doses = search.split(total, parts, total)
                if count < math.inf:
                    key = (doses_per_day - parts, total > target, count, doses[0] + smallest, total)
                    options.append((key, doses))
                    break
        if options:
            _, doses = min(options)
            return Regimen(
                tuple(
                    Administration(tuple(float(Fraction(u, scale)) for u in search.dose(d)))
                    for d in doses
                )
            )
    return None


def _units(strengths_mg: Sequence[float]) -> tuple[int, tuple[int, ...]]:
    if not strengths_mg or min(strengths_mg) <= 0:
        raise InvalidInputError("strengths_mg", "a product with capsule strengths is needed")
    scale = _scale(strengths_mg)
    return scale, tuple(sorted({int(exact(s) * scale) for s in strengths_mg}, reverse=True))


def administration_of(dose_mg: float, strengths_mg: Sequence[float]) -> Administration | None:
    """The fewest capsules of ``strengths_mg`` that make exactly ``dose_mg`` (fewest
    different strengths, then the largest capsules); None when none does.

    >>> administration_of(40, (10, 20)).capsules_mg, administration_of(27.5, (10, 20))
    ((20.0, 20.0), None)
    """
    scale, units = _units(strengths_mg)
    wanted = exact(dose_mg) * scale
    if wanted.denominator != 1 or wanted <= 0:
        return None
    search = _Search(units, int(wanted))
    if not search.reachable(int(wanted)):
        return None
    return Administration(tuple(float(Fraction(u, scale)) for u in search.dose(int(wanted))))


def regimen_of(doses_mg: Sequence[float], strengths_mg: Sequence[float]) -> Regimen | None:
    """The regimen that gives each of ``doses_mg`` (one per administration, in the
    order given) from ``strengths_mg``; None when a dose cannot be made."""
    doses = []
    for dose in doses_mg:
        made = administration_of(dose, strengths_mg)
        if made is None:
            return None
        doses.append(made)
    return Regimen(tuple(doses)) if doses else None


def nearest_regimens(
    daily_mg: float, max_mg: float, strengths_mg: Sequence[float], doses_per_day: int
) -> tuple[Regimen, ...]:
    """The takeable regimens nearest a daily dose that cannot be made: the nearest
    at or below ``daily_mg`` and the nearest above it (never above ``max_mg``), each
    chosen as :func:`choose_capsules` does; the closer one first, the lower on a tie.

    >>> [r.doses_mg for r in nearest_regimens(55, 110, (10,), 2)]
    [(30.0, 20.0), (30.0, 30.0)]
    """
    target = exact(daily_mg)
    found: list[Regimen] = []
    below = choose_capsules(target, min(target, exact(max_mg)), strengths_mg, doses_per_day)
    if below is not None:
        found.append(below)
    scale, units = _units(strengths_mg)
    most = math.floor(exact(max_mg) * scale)
    search = _Search(units, most) if most >= units[-1] else None
    start = math.floor(target * scale) + 1
    above_total = next(
        (t for t in range(start, most + 1) if search is not None and search.reachable(t)), None
    )
    if above_total is not None:
        total = Fraction(above_total, scale)
        above = choose_capsules(total, total, strengths_mg, doses_per_day)
        if above is not None and above not in found:
            found.append(above)
    return tuple(sorted(found, key=lambda r: (abs(exact(r.total_mg) - target), r.total_mg)))


def nearest_for_product(
    daily_mg: float,
    times_per_day: int,
    ordered_strengths: Sequence[float],
    product: Product,
    weight_kg: float | None,
) -> tuple[Regimen, ...]:
    """The takeable regimens of ``product`` nearest a daily dose that cannot be made:
    with the ordered strengths (those the product has) and with all its strengths;
    at ``weight_kg`` never above the usual maximum when the dose is within it (as the
    planner chooses), nor above the absolute maximum. Nearest first, then fewest
    capsules; at most :data:`NEAREST_SHOWN`."""
    daily = exact(daily_mg)
    ceiling = daily + exact(max(*ordered_strengths, *product.strengths_mg)) * times_per_day
    if weight_kg is not None:
        for level in (product.absolute_max_mg_per_kg_day, product.usual_max_mg_per_kg_day):
            highest = None if level is None else exact(weight_kg) * exact(level)
            if highest is not None and daily <= highest:
                ceiling = min(ceiling, highest)
    found: list[Regimen] = []
    owned = tuple(s for s in ordered_strengths if s in product.strengths_mg)
    for tried in (owned, tuple(product.strengths_mg)):
        if not tried:
            continue
        for regimen in nearest_regimens(float(daily), float(ceiling), tried, times_per_day):
            if regimen not in found:
                found.append(regimen)
    found.sort(key=lambda r: (abs(exact(r.total_mg) - daily), r.capsule_count))
    return tuple(found[:NEAREST_SHOWN])
