"""Unit normalisation at the door: every value enters the snapshot in the
canonical unit of its analyte (kg, mg, mg/dL, U/L, m[IU]/mL for hCG). :func:`exact`
reads a float as the decimal it was written as, so that doses add up without rounding.

>>> from isotrack.knowledge import default_knowledge
>>> round(to_canonical("weight", 154, "[lb_av]", default_knowledge()), 2)
69.85
>>> round(to_canonical("triglycerides", 5.65, "mmol/L", default_knowledge()))
500
"""

from __future__ import annotations

from fractions import Fraction

from isotrack.errors import InvalidInputError
from isotrack.knowledge.base import KnowledgeBase

CANONICAL = {
    "weight": "kg",
    "dose": "mg",
    "triglycerides": "mg/dL",
    "cholesterol": "mg/dL",
    "hdl": "mg/dL",
    "ldl": "mg/dL",
    "glucose": "mg/dL",
    "alt": "U/L",
    "ast": "U/L",
    "hcg": "m[IU]/mL",
}

# Spellings EHRs send for the same UCUM unit (compared case-folded): UCUM codes,
# their case-insensitive forms ([IU]/L, [LB_AV]) and the unit texts of
# Quantity.unit. "IU" and "U" are the same enzyme unit (1 µmol/min); µ is written
# as the micro sign (U+00B5), the Greek mu (U+03BC), "u" or "mc".
_SPELLINGS = {
    "kg": "kg",
    "kgs": "kg",
    "kilogram": "kg",
    "kilograms": "kg",
    "lb": "[lb_av]",
    "lbs": "[lb_av]",
    "[lb_av]": "[lb_av]",
    "pound": "[lb_av]",
    "pounds": "[lb_av]",
    "oz": "[oz_av]",
    "[oz_av]": "[oz_av]",
    "ounce": "[oz_av]",
    "ounces": "[oz_av]",
    "g": "g",
    "gm": "g",
    "gram": "g",
    "grams": "g",
    "mg": "mg",
    "milligram": "mg",
    "ug": "ug",
    "mcg": "ug",
    "µg": "ug",
    "μg": "ug",
    "mg/dl": "mg/dL",
    "mmol/l": "mmol/L",
    "g/l": "g/L",
    "u/l": "U/L",
    "iu/l": "U/L",
    "[iu]/l": "U/L",
    "units/l": "U/L",
    "ukat/l": "ukat/L",
    "µkat/l": "ukat/L",
    "μkat/l": "ukat/L",
    "mckat/l": "ukat/L",
    "miu/ml": "m[IU]/mL",
    "m[iu]/ml": "m[IU]/mL",
    "mu/ml": "mU/mL",
    "iu/ml": "[IU]/mL",
    "[iu]/ml": "[IU]/mL",
}


def canonical_unit(analyte: str) -> str:
    try:
        return CANONICAL[analyte]
    except KeyError:
        raise InvalidInputError("analyte", f"unknown analyte {analyte!r}") from None


def normalise_unit(unit: str) -> str:
    """Map a unit as written ("lbs", "mg/dl") to its UCUM spelling."""
    return _SPELLINGS.get(unit.strip().casefold(), unit.strip())


def to_canonical(analyte: str, value: float, unit: str, kb: KnowledgeBase) -> float:
    """Convert ``value`` in ``unit`` to the canonical unit of ``analyte``.

    An unknown unit is refused with an error naming the analyte and the unit:
    guessing a unit is how a 10-fold dosing error starts.
    """
    target = canonical_unit(analyte)
    source = normalise_unit(unit)
    if source == target:
        return float(value)
    factor = kb.derived("units.conversion-factors", _factors).get((analyte, source, target))
    if factor is not None:
        return float(value) * factor
    raise InvalidInputError(
        analyte,
        f"unit {unit!r} cannot be converted to {target} (known: {target}, "
        + ", ".join(c.from_unit for c in kb.unit_conversions if c.analyte == analyte)
        + ")",
    )


def _factors(kb: KnowledgeBase) -> dict[tuple[str, str, str], float]:
    """(analyte, from unit, to unit) → factor, built once per knowledge base: every
    weight and lab result of every record is converted."""
    return {(c.analyte, c.from_unit, c.to_unit): c.factor for c in kb.unit_conversions}


def exact(value: float) -> Fraction:
    """A float as the decimal it was written as (70.3 -> 703/10), for exact sums."""
    return Fraction(repr(float(value)))
