"""Whether the order's doses can be taken with real capsules (facts.md §1–2).

Each administration of the order (``doses_mg``, or ``dose_mg`` taken
``times_per_day`` times) must be a whole number of capsules: of the order's
strength when it names one (an order for 10 mg capsules), else of the product's
strengths. An order that holds its regimen (the capsules of each
administration) must use only the product's strengths. When a dose cannot be
made, DOSE-NOT-TAKEABLE gives the nearest takeable regimens
(:func:`isotrack.clinical.order.regimen.nearest_for_product`) for the recent
weight.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from isotrack.clinical.findings import Finding, make_finding
from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.order.regimen import Regimen, nearest_for_product, regimen_of
from isotrack.clinical.screening.context import ScreeningContext, order_rule
from isotrack.clinical.screening.rules.dosing import oral_dosing
from isotrack.clinical.units import exact
from isotrack.knowledge.model import Product


@dataclass(frozen=True, slots=True)
class UntakeableDose:
    """An order whose doses the capsules cannot make, with the nearest that they can."""

    order: IsotretinoinOrder
    product: Product
    doses_mg: tuple[float, ...]
    strengths_mg: tuple[float, ...]
    """The strengths the doses were tried with."""
    nearest: tuple[Regimen, ...]

    @property
    def daily_mg(self) -> float:
        return float(sum(exact(d) for d in self.doses_mg))

    def doses_text(self) -> str:
        if len(set(self.doses_mg)) == 1:
            times = len(self.doses_mg)
            return f"{self.doses_mg[0]:g} mg × {times}/day"
        return " + ".join(f"{d:g} mg" for d in self.doses_mg) + " a day"

    def strengths_text(self) -> str:
        return ", ".join(f"{s:g}" for s in self.strengths_mg) + " mg capsules"


def order_doses(order: IsotretinoinOrder) -> tuple[float, ...]:
    """The dose of each administration of one day; () when the order does not say."""
    if order.regimen is not None:
        return order.regimen.doses_mg
    if order.doses_mg:
        return order.doses_mg
    if order.dose_mg is None or order.times_per_day is None:
        return ()
    return (order.dose_mg,) * order.times_per_day


def untakeable_dose(ctx: ScreeningContext) -> UntakeableDose | None:
    """The order's doses when its capsules cannot make them (see the module docstring);
    None when they can, or when the order gives no product or dose to check."""
    found = oral_dosing(ctx)
    if found is None:
        return None
    order, product = found
    doses = order_doses(order)
    if product is None or not product.strengths_mg or not doses:
        return None
    if order.regimen is not None:
        strengths = tuple(sorted(order.regimen.strengths_used, reverse=True))
        if order.regimen.strengths_used <= set(product.strengths_mg):
            return None
    else:
        strengths = (order.strength_mg,) if order.strength_mg else tuple(product.strengths_mg)
        if regimen_of(doses, strengths) is not None:
            return None
    weight = ctx.recent_weight
    nearest = nearest_for_product(
        sum(doses), len(doses), strengths, product, weight.kg if weight is not None else None
    )
    return UntakeableDose(order, product, doses, strengths, nearest)


@order_rule("DOSE-NOT-TAKEABLE")
def dose_not_takeable(ctx: ScreeningContext) -> Iterator[Finding]:
    untakeable = untakeable_dose(ctx)
    if untakeable is None:
        return
    nearest = untakeable.nearest
    short = " or ".join(
        " + ".join(f"{d:g}" for d in regimen.doses_mg) + " mg" for regimen in nearest[:2]
    )
    offer = f"; nearest takeable: {short} a day" if nearest else ""
    listed = (
        "Nearest takeable regimens: "
        + "; ".join(f"{r.describe()} = {r.total_mg:g} mg/day" for r in nearest)
        + "."
        if nearest
        else "No capsule combination of the product comes near this dose."
    )
    yield make_finding(
        ctx.kb,
        "DOSE-NOT-TAKEABLE",
        f"{untakeable.doses_text()} cannot be made from {untakeable.strengths_text()}{offer}",
        f"The order asks for {untakeable.doses_text()} ({untakeable.daily_mg:g} mg/day) of "
        f"{untakeable.product.name}; each administration must be a whole number of capsules "
        f"and {untakeable.strengths_text()} cannot make it, so the patient cannot take the "
        f"dose as written and the supply would not match it. {listed}",
        data=[
            ("product", untakeable.product.id),
            ("doses", untakeable.doses_text()),
            ("strengths", untakeable.strengths_text()),
            *(
                (f"takeable {i + 1}", f"{r.describe()} = {r.total_mg:g} mg/day")
                for i, r in enumerate(nearest)
            ),
        ],
    )
