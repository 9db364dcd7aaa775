"""A product's doses at one weight: the allowed range, the label table and the
capsules for a dose (facts.md §1–2).

The allowed range of a daily dose is (0, absolute maximum] mg/kg/day: below the
usual minimum is a low-dose regimen (allowed, noted by the planner); above the
absolute maximum is refused.

>>> from isotrack.knowledge import default_knowledge
>>> [d.daily_mg for d in label_doses(default_knowledge(), "absorica", 70)]
[35.0, 70.0, 140.0]
>>> [d.daily_mg for d in label_doses(default_knowledge(), "absorica-ld", 70)]
[28.0, 56.0, 112.0]
"""

from __future__ import annotations

from dataclasses import dataclass

from isotrack.clinical.order.regimen import Regimen, choose_capsules
from isotrack.clinical.units import exact
from isotrack.errors import InvalidInputError, KnowledgeError
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.model import Product

ORAL = "oral"
LABEL_LEVELS = ("usual_min", "usual_max", "absolute_max")
"""The three label doses of a product (e.g. Absorica 0.5 / 1 / 2 mg/kg/day)."""


@dataclass(frozen=True, slots=True)
class LabelDose:
    """One of the product's label doses at one weight, as real capsules."""

    level: str
    mg_per_kg_day: float
    weight_kg: float
    capsules: Regimen

    @property
    def daily_mg(self) -> float:
        return self.capsules.total_mg

    @property
    def achieved_mg_per_kg_day(self) -> float:
        return self.daily_mg / self.weight_kg


def oral_product(kb: KnowledgeBase, product_id: str) -> Product:
    """The product, if the planner can dose it (available, oral, with strengths)."""
    product = kb.product(product_id)
    if not product.available:
        raise InvalidInputError("product", f"{product.name}: no such product exists")
    if (
        product.route != ORAL
        or not product.strengths_mg
        or product.absolute_max_mg_per_kg_day is None
    ):
        raise InvalidInputError(
            "product", f"{product.name} is {product.route}: it has no oral dose to plan"
        )
    return product


def absolute_max(product: Product) -> float:
    if product.absolute_max_mg_per_kg_day is None:  # oral_product refuses these
        raise InvalidInputError("product", f"{product.name} has no maximum dose")
    return product.absolute_max_mg_per_kg_day


def check_weight(kb: KnowledgeBase, weight_kg: float, field_name: str = "weight_kg") -> None:
    low, high = kb.number("valid.weight_min_kg"), kb.number("valid.weight_max_kg")
    if not low <= weight_kg <= high:
        raise InvalidInputError(field_name, f"{weight_kg:g} kg is outside {low:g}–{high:g} kg")


def check_mg_per_kg(product: Product, mg_per_kg_day: float, field_name: str) -> None:
    """The allowed range is (0, absolute maximum]; below the usual minimum is allowed
    (a low-dose regimen) and noted in the plan."""
    highest = absolute_max(product)
    if not mg_per_kg_day > 0:
        raise InvalidInputError(field_name, f"must be above 0 mg/kg/day, got {mg_per_kg_day:g}")
    if not mg_per_kg_day <= highest:
        raise InvalidInputError(
            field_name,
            f"{mg_per_kg_day:g} mg/kg/day is above the absolute maximum of {highest:g} "
            f"mg/kg/day for {product.name}",
        )


def check_target(kb: KnowledgeBase, target: float) -> None:
    highest = kb.number("course.max_target_mg_per_kg")
    if not 0 < target <= highest:
        raise InvalidInputError(
            "target_mg_per_kg", f"must be above 0 and at most {highest:g} mg/kg, got {target:g}"
        )


def daily_capsules(product: Product, weight_kg: float, mg_per_kg_day: float) -> Regimen:
    """The capsules closest to ``weight × mg/kg/day``, never above the absolute maximum.

    A dose asked for within the usual range also stays within it (so the plan never
    proposes what order screening would flag as above the usual maximum); only when
    no capsule combination fits below the usual maximum does the absolute maximum
    bound it.
    """
    weight = exact(weight_kg)
    wanted = weight * exact(mg_per_kg_day)
    ceilings = [weight * exact(absolute_max(product))]
    usual_max = product.usual_max_mg_per_kg_day
    if usual_max is not None and exact(mg_per_kg_day) <= exact(usual_max):
        ceilings.insert(0, weight * exact(usual_max))
    chosen = None
    for ceiling in ceilings:
        chosen = choose_capsules(wanted, ceiling, product.strengths_mg, product.divided_doses or 1)
        if chosen is not None:
            break
    if chosen is None:
        raise InvalidInputError(
            "weight_kg",
            f"at {weight_kg:g} kg even the smallest {product.name} capsule "
            f"({min(product.strengths_mg):g} mg) is above the absolute maximum of "
            f"{absolute_max(product):g} mg/kg/day",
        )
    return chosen


def label_doses(kb: KnowledgeBase, product_id: str, weight_kg: float) -> tuple[LabelDose, ...]:
    """The label table of a product at one weight (usual minimum, usual maximum and
    absolute maximum mg/kg/day), each as real capsules."""
    product = oral_product(kb, product_id)
    check_weight(kb, weight_kg)
    levels = []
    for level in LABEL_LEVELS:
        mg_per_kg = getattr(product, f"{level}_mg_per_kg_day")
        if mg_per_kg is not None:
            capsules = daily_capsules(product, weight_kg, mg_per_kg)
            levels.append(LabelDose(level, mg_per_kg, weight_kg, capsules))
    return tuple(levels)


def default_mg_per_kg_day(kb: KnowledgeBase, product_id: str) -> float:
    """The dose the planner uses when none is given (``planner.default_dose_level``)."""
    product = oral_product(kb, product_id)
    level = kb.text("planner.default_dose_level")
    value = (
        getattr(product, f"{level}_mg_per_kg_day") if level in ("usual_min", "usual_max") else None
    )
    if not isinstance(value, float | int):
        raise KnowledgeError(
            f"must be 'usual_min' or 'usual_max' (a level the product {product.id} has), "
            f"not {level!r}",
            file=kb.policy_file or "knowledge/data/parameters-planner.toml",
            entry="planner.default_dose_level",
            field="value",
        )
    return float(value)
