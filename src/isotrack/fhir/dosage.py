"""An order's dosage as the rules need it: dose, doses a day, route, dispense
quantity and supply length, from every way R4 EHRs write them.

- Dose: ``doseQuantity`` or ``doseRange`` (read at its top: the high end is what
  the patient may take; the low end is kept for the supply length), in mg or a
  mass unit UCUM converts, or in capsules, tablets, pills or "each" (UCUM
  annotations such as ``{pill}``, ``{Capsule}``, ``{tbl}``; words such as
  ``cap``, ``tbl``; SNOMED CT, EDQM and HL7 v3 units of presentation) times the
  capsule strength.
- Doses a day: ``repeat.frequency`` per ``period`` ``periodUnit`` (1 per 12 h is
  2 a day), ``frequencyMax`` and ``periodMax`` (read at the top), ``when`` and
  ``timeOfDay`` (one dose each), or ``Timing.code`` (GTSAbbreviation, SNOMED CT).
  A timing that is not a whole number of doses a day is not read.
- Several dosage instructions are doses of the same day (a split dose, e.g.
  40 mg in the morning and 40 mg in the evening, or 30 mg and 25 mg): their
  doses add up. Issue 13 will model regimens that change over time.
- Route: SNOMED CT, HL7 v3, NCI and EDQM codes, else words; a route no
  vocabulary knows is kept as written and marked as not read.

Every vocabulary is knowledge data (``fhir-vocabulary.toml``). Whatever cannot
be read stays ``None`` and the reason goes to the notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from isotrack.clinical.units import to_canonical
from isotrack.errors import InvalidInputError
from isotrack.fhir.datatypes import Dosage, Quantity, Timing
from isotrack.fhir.values import describe_quantity, quantity_unit
from isotrack.fhir.vocabulary import Vocabulary, vocabulary
from isotrack.knowledge.base import KnowledgeBase


@dataclass(frozen=True, slots=True)
class Route:
    """The route of an order's dosage: the route word (``oral``) when read, else the
    route as written and ``recognised`` False; None when no dosage states one."""

    word: str | None
    recognised: bool = True


@dataclass(frozen=True, slots=True)
class DailyDose:
    """What the dosage instructions say about one day (None: not read)."""

    dose_mg: float | None = None
    times_per_day: int | None = None
    doses_mg: tuple[float, ...] = ()
    lowest_daily_mg: float | None = None


@dataclass(frozen=True, slots=True)
class _Span:
    """A low and a high value (equal when the order gives no range)."""

    low: Fraction
    high: Fraction


def route_of(dosages: tuple[Dosage, ...], kb: KnowledgeBase) -> Route:
    """The route of the first dosage that states one."""
    route = next((d.route for d in dosages if d.route is not None), None)
    if route is None:
        return Route(None)
    read = vocabulary(kb).concept("route", route)
    if read.entry is not None:
        return Route(read.entry.meaning)
    return Route(read.written.strip().casefold() or None, recognised=False)


def daily_dose(
    dosages: tuple[Dosage, ...],
    strength: float | None,
    kb: KnowledgeBase,
    notes: list[str],
    label: str,
) -> DailyDose:
    """Dose per administration, doses a day and the doses of one day."""
    if not dosages:
        notes.append(f"{label}: no dosageInstruction; dose and frequency not read")
        return DailyDose()
    words = vocabulary(kb)
    doses = [_dose(d, strength, kb, words, notes, label) for d in dosages]
    times = [_times_per_day(d.timing, words, notes, label) for d in dosages]
    several = len(dosages) > 1
    if None in times:
        what = "of one of the dosage instructions " if several else ""
        notes.append(f"{label}: dose frequency {what}not readable as doses per day")
    if None in doses or None in times:
        if several:
            notes.append(f"{label}: {len(dosages)} dosage instructions; not all read")
            return DailyDose()
        dose = doses[0]
        return DailyDose(dose_mg=float(dose.high) if dose is not None else None)
    read = [(d, t) for d, t in zip(doses, times, strict=True) if d is not None and t is not None]
    return _combine(read, notes, label)


def _combine(read: list[tuple[_Span, _Span]], notes: list[str], label: str) -> DailyDose:
    """One day of the dosage instructions: the top for the checks, the bottom kept."""
    top = [dose.high for dose, times in read for _ in range(int(times.high))]
    daily_high = sum(top, Fraction(0))
    daily_low = sum((dose.low * times.low for dose, times in read), Fraction(0))
    ranged = daily_low != daily_high
    if len(read) > 1:
        written = " + ".join(f"{float(d.high):g} mg × {int(t.high)}" for d, t in read)
        notes.append(f"{label}: {len(read)} dosage instructions read as one day: {written}")
    if ranged:
        notes.append(
            f"{label}: the order allows {float(daily_low):g}–{float(daily_high):g} mg a day; "
            "checked at the top (what the patient may take)"
        )
    equal = len(set(top)) == 1
    return DailyDose(
        dose_mg=float(top[0]) if equal else float(daily_high / len(top)),
        times_per_day=len(top),
        doses_mg=() if equal else tuple(float(d) for d in top),
        lowest_daily_mg=float(daily_low) if ranged else None,
    )


def _dose(
    dosage: Dosage,
    strength: float | None,
    kb: KnowledgeBase,
    words: Vocabulary,
    notes: list[str],
    label: str,
) -> _Span | None:
    """The dose per administration in mg (a range: its ends)."""
    for rate in dosage.dose_and_rate:
        if rate.dose_quantity is not None and rate.dose_quantity.value is not None:
            mg = _mg(rate.dose_quantity, strength, kb, words, notes, label, "dose")
            return None if mg is None else _Span(mg, mg)
        span = rate.dose_range
        if span is not None and span.high is not None and span.high.value is not None:
            high = _mg(span.high, strength, kb, words, notes, label, "dose range high")
            low_quantity = span.low if span.low is not None and span.low.value else span.high
            low = _mg(low_quantity, strength, kb, words, notes, label, "dose range low")
            if high is None or low is None or low > high:
                notes.append(f"{label}: dose range not read")
                return None
            return _Span(low, high)
    ranged = any(r.dose_range is not None for r in dosage.dose_and_rate)
    why = "given as a range without a high end" if ranged else "not given"
    notes.append(f"{label}: dose {why}; not read")
    return None


def _mg(
    amount: Quantity,
    strength: float | None,
    kb: KnowledgeBase,
    words: Vocabulary,
    notes: list[str],
    label: str,
    what: str,
) -> Fraction | None:
    """A dose quantity in mg: a mass converted to mg, or units of presentation times
    the capsule strength. Never a guess: a unit not known is not read."""
    assert amount.value is not None
    value = Fraction(amount.value)
    if not value > 0:
        notes.append(f"{label}: {what} {describe_quantity(amount)} is not above 0; not read")
        return None
    presentation = words.unit(amount)
    if presentation.entry is not None:
        if strength is None:
            notes.append(
                f"{label}: {what} in {presentation.written} but the capsule strength is unknown"
            )
            return None
        if presentation.entry.meaning == "tablet":
            notes.append(
                f"{label}: {what} unit {presentation.written!r} read as capsules "
                "(isotretinoin comes as capsules)"
            )
        return value * Fraction(strength)
    unit = quantity_unit(amount)
    if not unit:
        notes.append(f"{label}: {what} {amount.value:g} has no unit; not read")
        return None
    try:
        return Fraction(to_canonical("dose", float(value), unit, kb))
    except InvalidInputError:
        notes.append(f"{label}: {what} unit {unit!r} cannot be converted to mg; not read")
        return None


def _times_per_day(
    timing: Timing | None, words: Vocabulary, notes: list[str], label: str
) -> _Span | None:
    """Doses a day: the repeat if it states a frequency, else the timing code."""
    if timing is None:
        return None
    repeat = timing.repeat
    if repeat is not None and (repeat.period is not None or repeat.when or repeat.time_of_day):
        return _from_repeat(timing, words, notes, label)
    if timing.code is not None:
        return _from_code(timing, words, notes, label)
    if repeat is not None and repeat.frequency is not None:
        notes.append(f"{label}: timing frequency {repeat.frequency} has no period; not read")
    return None


def _from_repeat(timing: Timing, words: Vocabulary, notes: list[str], label: str) -> _Span | None:
    repeat = timing.repeat
    assert repeat is not None
    if repeat.period is None:
        count = len(repeat.when) + len(repeat.time_of_day)
        return _Span(Fraction(count), Fraction(count))
    unit = words.word("time-unit", repeat.period_unit)
    if unit is None or unit.number is None or not repeat.period > 0:
        notes.append(
            f"{label}: timing period {repeat.period:g} {repeat.period_unit or '(no unit)'} "
            "is not a whole number of days; not read"
        )
        return None
    if repeat.frequency_max is not None and repeat.frequency_max < (repeat.frequency or 1):
        notes.append(f"{label}: timing frequencyMax below its frequency; not read")
        return None
    per_day = _day_length(words) / Fraction(unit.number)
    frequency = Fraction(repeat.frequency or 1)
    longest = Fraction(repeat.period_max) if repeat.period_max else Fraction(repeat.period)
    high = Fraction(repeat.frequency_max or frequency) * per_day / Fraction(repeat.period)
    low = frequency * per_day / max(longest, Fraction(repeat.period))
    if high.denominator != 1 or high < 1:
        most = repeat.frequency_max or repeat.frequency or 1
        notes.append(
            f"{label}: timing {most} per {repeat.period:g} {repeat.period_unit} is "
            f"{float(high):g} doses a day, not a whole number; not read"
        )
        return None
    return _Span(low, high)


def _from_code(timing: Timing, words: Vocabulary, notes: list[str], label: str) -> _Span | None:
    read = words.concept("timing", timing.code)
    entry = read.entry
    if entry is None:
        notes.append(f"{label}: timing code {read.written!r} not known; not read")
        return None
    if entry.number is None:
        notes.append(
            f"{label}: timing {read.written!r} ({entry.meaning}) is not a whole number of "
            "doses a day; not read"
        )
        return None
    high = Fraction(entry.number_max or entry.number)
    return _Span(Fraction(entry.number), high)


def dispensed_capsules(
    quantity: Quantity | None,
    strength: float | None,
    kb: KnowledgeBase,
    notes: list[str],
    label: str,
) -> float | None:
    """The dispense quantity in capsules (units of the capsule strength)."""
    if quantity is None or quantity.value is None:
        return None
    words = vocabulary(kb)
    unit = quantity_unit(quantity)
    if words.unit(quantity).entry is not None or not unit:
        return quantity.value
    try:
        total_mg = to_canonical("dose", quantity.value, unit, kb)
    except InvalidInputError:
        notes.append(f"{label}: dispense quantity unit {unit!r} not understood; not read")
        return None
    if strength is None:
        notes.append(f"{label}: dispense quantity in {unit} but the capsule strength is unknown")
        return None
    return total_mg / strength


def supply_days(
    duration: Quantity | None, kb: KnowledgeBase, notes: list[str], label: str
) -> float | None:
    """The expected supply duration in days."""
    if duration is None or duration.value is None:
        return None
    written = (quantity_unit(duration) or "").strip()
    unit = vocabulary(kb).word("time-unit", written)
    if unit is None or unit.number is None:
        notes.append(
            f"{label}: expected supply duration in {written or 'no unit'!r} not read "
            "(give it in days or weeks)"
        )
        return None
    return float(Fraction(duration.value) * Fraction(unit.number) / _day_length(vocabulary(kb)))


def _day_length(words: Vocabulary) -> Fraction:
    """A day in the time units' measure (seconds), from the vocabulary."""
    day = words.word("time-unit", "d")
    seconds = day.number if day is not None else None
    assert seconds is not None, "fhir-vocabulary.toml defines the day"
    return Fraction(seconds)
