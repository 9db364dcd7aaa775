"""The daily dose of the order against the product's label range (facts.md §2).

The dose in mg/kg/day uses the recent weight (``ctx.recent_weight``): without
one, no mg/kg judgement is made and the assessment says so (the missing weight
itself is WEIGHT-MISSING, another rule). Limits are compared with the clinic's
rounding tolerance (``dose.tolerance_mg_per_kg_day``), so 70 mg/day at 70 kg is
exactly 1 mg/kg/day. Topical products have no mg/kg dose rules; an order for a
route with no product, or whose route could not be read, is screened as oral
(ROUTE-UNSUPPORTED, or DOSE-UNPARSEABLE for the unread route, beside these rules).
A daily dose is judged at its top when the order allows a range.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from isotrack.clinical.findings import SUMMARY_MAX, Finding, Severity, make_finding
from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.screening.context import ScreeningContext, order_rule
from isotrack.clinical.screening.rules.supply import (
    is_oral_order,
    order_product,
    product_label,
)
from isotrack.clinical.snapshot import Weight
from isotrack.knowledge.model import Product


def _mg_per_kg(value: float) -> str:
    return f"{round(value, 2):g}"


@dataclass(frozen=True, slots=True)
class DoseCheck:
    """An order's daily dose with everything needed to judge it in mg/kg/day."""

    order: IsotretinoinOrder
    product: Product
    daily_mg: float
    weight: Weight
    low: float
    high: float
    absolute: float

    @property
    def mg_per_kg_day(self) -> float:
        return self.daily_mg / self.weight.kg

    def range_text(self) -> str:
        return (
            f"{self.product.name}: usual {_mg_per_kg(self.low)}–{_mg_per_kg(self.high)} "
            f"mg/kg/day, absolute maximum {_mg_per_kg(self.absolute)} mg/kg/day"
        )

    def dose_text(self) -> str:
        order = self.order
        doses = (
            " + ".join(f"{d:g}" for d in order.doses_mg) + " mg"
            if order.doses_mg
            else f"{order.dose_mg:g} mg × {order.times_per_day}/day"
        )
        return (
            f"{doses} = {self.daily_mg:g} mg/day "
            f"= {_mg_per_kg(self.mg_per_kg_day)} mg/kg/day at {self.weight.kg:g} kg "
            f"(weighed {self.weight.on.isoformat()})"
        )

    def detail(self, verdict: str) -> str:
        return (
            f"{verdict} Range: {self.range_text()}. Order: "
            f"{product_label(self.order, self.product)}, {self.dose_text()}."
        )

    def data(self) -> list[tuple[str, object]]:
        return [
            ("product", self.product.id),
            ("daily dose", f"{self.daily_mg:g} mg/day"),
            ("dose per kg", f"{_mg_per_kg(self.mg_per_kg_day)} mg/kg/day"),
            ("weight", f"{self.weight.kg:g} kg on {self.weight.on.isoformat()}"),
            (
                "product range",
                f"{_mg_per_kg(self.low)}–{_mg_per_kg(self.high)} mg/kg/day "
                f"(max {_mg_per_kg(self.absolute)})",
            ),
        ]


def oral_dosing(ctx: ScreeningContext) -> tuple[IsotretinoinOrder, Product | None] | None:
    """The order and its product when the oral dose rules apply; None for a topical
    product or no order (with a note for the topical case)."""
    order = ctx.order
    if order is None:
        return None
    if not is_oral_order(ctx):
        ctx.assumptions.append(
            "Dose rules not applied: the order is for topical isotretinoin, "
            "which has no mg/kg dose."
        )
        return None
    return order, order_product(ctx)


def dose_check(ctx: ScreeningContext) -> DoseCheck | None:
    """The mg/kg check of the order, or None when it cannot be made (the reason goes to
    DOSE-UNPARSEABLE or, for a missing weight, to the assessment's assumptions)."""
    found = oral_dosing(ctx)
    if found is None:
        return None
    order, product = found
    daily = order.daily_dose_mg
    if product is None or daily is None:
        return None
    low, high = product.usual_min_mg_per_kg_day, product.usual_max_mg_per_kg_day
    absolute = product.absolute_max_mg_per_kg_day
    if low is None or high is None or absolute is None:
        return None
    weight = ctx.recent_weight
    if weight is None:
        limit = ctx.kb.number("dose.weight_max_age_days")
        ctx.assumptions.append(
            f"mg/kg not checked: no recent weight (none in the {limit:g} days before "
            f"{ctx.on.isoformat()})."
        )
        return None
    return DoseCheck(order, product, daily, weight, low, high, absolute)


@order_rule("DOSE-ABOVE-RANGE")
def dose_above_range(ctx: ScreeningContext) -> Iterator[Finding]:
    check = dose_check(ctx)
    if check is None:
        return
    tolerance = ctx.kb.number("dose.tolerance_mg_per_kg_day")
    per_kg = check.mg_per_kg_day
    if per_kg > check.absolute + tolerance:
        severity, limit, word = Severity.CRITICAL, check.absolute, "absolute maximum"
    elif per_kg > check.high + tolerance:
        severity, limit, word = Severity.WARNING, check.high, "usual maximum"
    else:
        return
    yield make_finding(
        ctx.kb,
        "DOSE-ABOVE-RANGE",
        f"{check.daily_mg:g} mg/day = {_mg_per_kg(per_kg)} mg/kg/day "
        f"({check.weight.kg:g} kg, {check.weight.on.isoformat()}) is above the {word} "
        f"of {_mg_per_kg(limit)} mg/kg/day"[:SUMMARY_MAX],
        check.detail(
            f"The daily dose is above the product's {word} of {_mg_per_kg(limit)} mg/kg/day."
        ),
        severity=severity,
        data=check.data(),
    )


@order_rule("DOSE-BELOW-RANGE")
def dose_below_range(ctx: ScreeningContext) -> Iterator[Finding]:
    check = dose_check(ctx)
    if check is None:
        return
    tolerance = ctx.kb.number("dose.tolerance_mg_per_kg_day")
    per_kg = check.mg_per_kg_day
    if per_kg >= check.low - tolerance:
        return
    yield make_finding(
        ctx.kb,
        "DOSE-BELOW-RANGE",
        f"{check.daily_mg:g} mg/day = {_mg_per_kg(per_kg)} mg/kg/day "
        f"({check.weight.kg:g} kg, {check.weight.on.isoformat()}) is below the usual "
        f"minimum of {_mg_per_kg(check.low)} mg/kg/day"[:SUMMARY_MAX],
        check.detail(
            f"The daily dose is below the product's usual minimum of "
            f"{_mg_per_kg(check.low)} mg/kg/day: a low-dose regimen needs a longer course "
            "to reach the cumulative target."
        ),
        data=check.data(),
    )


@order_rule("DOSE-ONCE-DAILY")
def dose_once_daily(ctx: ScreeningContext) -> Iterator[Finding]:
    found = oral_dosing(ctx)
    if found is None:
        return
    order, product = found
    if product is None or order.times_per_day != 1 or not product.divided_doses:
        return
    if product.divided_doses <= order.times_per_day:
        return
    dose = f"{order.dose_mg:g} mg" if order.dose_mg is not None else "the dose"
    yield make_finding(
        ctx.kb,
        "DOSE-ONCE-DAILY",
        f"{dose} once a day: the {product.name} label gives {product.divided_doses} divided doses"[
            :SUMMARY_MAX
        ],
        f"Order: {product_label(order, product)}, {dose} once a day. The label gives the "
        f"daily dose in {product.divided_doses} divided doses; once-daily dosing is not "
        "established.",
        data=[("product", product.id), ("doses per day", order.times_per_day)],
    )


@order_rule("DOSE-UNPARSEABLE")
def dose_unparseable(ctx: ScreeningContext) -> Iterator[Finding]:
    found = oral_dosing(ctx)
    if found is None:
        return
    order, product = found
    missing = [
        what
        for what, absent in (
            ("the product", product is None),
            ("the dose in mg", order.dose_mg is None),
            ("the number of doses a day", order.times_per_day is None),
            (f"the route ({order.route!r})", not order.route_recognised),
        )
        if absent
    ]
    if not missing:
        return
    written = f' (order text: "{order.text}")' if order.text else ""
    dose_read = order.daily_dose_mg is not None and product is not None
    summary = (
        f"Route {order.route!r} could not be read: order screened as oral"
        if dose_read
        else f"Dose cannot be checked: {', '.join(missing)} could not be read"
    )
    route_note = (
        " The route is not one the reader knows: the order was screened as oral "
        "(dose, supply and refill checks ran); give the route as a coded oral route."
        if not order.route_recognised
        else ""
    )
    yield make_finding(
        ctx.kb,
        "DOSE-UNPARSEABLE",
        summary[:SUMMARY_MAX],
        f"The order does not give {' or '.join(missing)} in a form the reader knows"
        f"{written}; the daily dose is compared with the product's range only when it "
        f"can be read (evaluated {ctx.on.isoformat()}).{route_note}",
        data=[
            ("product", order.product or "(not identified)"),
            ("dose", f"{order.dose_mg:g} mg" if order.dose_mg is not None else "(none)"),
            ("doses per day", order.times_per_day or "(none)"),
            ("route", order.route or "(not stated)"),
        ],
    )
