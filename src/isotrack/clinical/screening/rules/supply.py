"""What is dispensed: the route and product of the order, the supply length,
refills, the supply still on hand from earlier dispenses, and switches between
products that are not interchangeable (facts.md §1, §7).

Route words are compared with the ``route`` of the knowledge-base products
("oral", "topical", "rectal"), ignoring case: the translators at the door map
coded routes (e.g. SNOMED 26643006 Oral route) to these words. A route the
translator could not read (``order.route_recognised`` False) is no route at
all here: the order is screened as oral, and DOSE-UNPARSEABLE says so.

The supply and refill rules belong to the pregnancy prevention programmes,
which cover oral isotretinoin only: they do not run for a topical product. Any
other order is screened as oral (the stricter reading), including an order for
a route with no product: ROUTE-UNSUPPORTED is reported beside the supply,
refill and dose checks, never instead of them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from isotrack.clinical.findings import SUMMARY_MAX, Finding, make_finding
from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.screening.context import ScreeningContext, order_rule
from isotrack.clinical.screening.on_hand import SupplyOnHand, supply_on_hand
from isotrack.clinical.snapshot import IsotretinoinCourse, SupplyRecord
from isotrack.errors import NotFoundError
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.model import Product

ORAL = "oral"
TOPICAL = "topical"


def _route_word(route: str | None) -> str | None:
    return route.strip().casefold() if route and route.strip() else None


def order_product(ctx: ScreeningContext) -> Product | None:
    """The knowledge-base product of the order, or None when it is not identified."""
    order = ctx.order
    if order is None or order.product is None:
        return None
    return ctx.kb.product(order.product)


def _written_route(order: IsotretinoinOrder) -> str | None:
    """The order's route word; None when not stated or not read."""
    return _route_word(order.route) if order.route_recognised else None


def order_route(ctx: ScreeningContext) -> str | None:
    """The route of the order as written, else the route of its product."""
    order = ctx.order
    if order is None:
        return None
    written = _written_route(order)
    if written is not None:
        return written
    product = order_product(ctx)
    return product.route if product is not None else None


def unsupported_route_reason(ctx: ScreeningContext) -> str | None:
    """Why no isotretinoin product exists for this order, or None when one does."""
    order = ctx.order
    if order is None:
        return None
    product = order_product(ctx)
    if product is not None and not product.available:
        return f"{product.name}: no such product exists ({product.notes})"
    written = _written_route(order)
    if product is not None and written is not None and written != product.route:
        return f"{product.name} is a {product.route} product, not given by the {written} route"
    available = sorted({p.route for p in ctx.kb.products if p.available})
    if written is not None and written not in available:
        return (
            f"route {order.route!r}: no isotretinoin product is given by this route "
            f"(products exist for: {', '.join(available)})"
        )
    return None


def is_oral_order(ctx: ScreeningContext) -> bool:
    """True for an order screened as oral: every order but one of a topical product
    (or of an unknown product on the topical route). An order for a route with no
    product is screened as oral too (the stricter reading): its supply, refills and
    dose are checked beside ROUTE-UNSUPPORTED."""
    if ctx.order is None:
        return False
    product = order_product(ctx)
    if product is not None:
        return product.route != TOPICAL
    return order_route(ctx) != TOPICAL


def product_label(order: IsotretinoinOrder, product: Product) -> str:
    """The product name, with a note when it was recognised by name only."""
    if order.product_by_text:
        return f"{product.name} [recognised by name only, no matching code]"
    return product.name


@order_rule("ROUTE-UNSUPPORTED")
def route_unsupported(ctx: ScreeningContext) -> Iterator[Finding]:
    reason = unsupported_route_reason(ctx)
    if reason is None or ctx.order is None:
        return
    route = ctx.order.route or "(not stated)"
    yield make_finding(
        ctx.kb,
        "ROUTE-UNSUPPORTED",
        f"No isotretinoin product exists for this order (route {route})"[:SUMMARY_MAX],
        f"Order route {route}; product {ctx.order.product or '(not identified)'}. {reason}.",
        data=[("route", route), ("product", ctx.order.product or "(not identified)")],
    )


def _supply_days_text(days: float) -> str:
    return f"{days:.1f}".removesuffix(".0")


@order_rule("SUPPLY-OVER-30-DAYS")
def supply_over_limit(ctx: ScreeningContext) -> Iterator[Finding]:
    order = ctx.order
    if order is None or not is_oral_order(ctx):
        return
    limit = ctx.kb.number("ppp.max_supply_days")
    reasons: list[str] = []
    data: list[tuple[str, object]] = []
    if order.supply_days is not None:
        data.append(("expected supply", f"{order.supply_days:g} days"))
        if order.supply_days > limit:
            reasons.append(f"expected supply duration {order.supply_days:g} days")
    # A range lasts longest at its low end: the supply is counted there.
    daily = order.lowest_daily_mg or order.daily_dose_mg
    if order.lowest_daily_mg is not None:
        data.append(("lowest daily dose the order allows", f"{order.lowest_daily_mg:g} mg/day"))
    regimen = order.regimen
    if regimen is not None and order.quantity is not None and order.lowest_daily_mg is None:
        # Capsules of several strengths: the days are the quantity ÷ the regimen's
        # capsules a day (30 mg + 25 mg is 2 capsules a day, not 55 ÷ 30).
        days = order.quantity / regimen.capsule_count
        data.append(("quantity", f"{order.quantity:g} capsules of {regimen.describe()} "
                     f"= {_supply_days_text(days)} days"))  # fmt: skip
        if order.quantity > limit * regimen.capsule_count:
            reasons.append(
                f"{order.quantity:g} capsules at {regimen.capsule_count} capsules a day last "
                f"{_supply_days_text(days)} days"
            )
    elif order.quantity is not None and order.strength_mg is not None and daily is not None:
        # quantity ÷ (daily ÷ strength) > limit, multiplied out to stay exact.
        days = order.quantity * order.strength_mg / daily
        data.append(
            (
                "quantity",
                f"{order.quantity:g} × {order.strength_mg:g} mg at {daily:g} mg/day "
                f"= {_supply_days_text(days)} days",
            )
        )
        if order.quantity * order.strength_mg > limit * daily:
            reasons.append(
                f"{order.quantity:g} capsules of {order.strength_mg:g} mg at {daily:g} mg/day "
                f"({daily / order.strength_mg:g} capsules a day) last "
                f"{_supply_days_text(days)} days"
            )
    elif order.quantity is not None:
        ctx.assumptions.append(
            "Supply from the quantity not checked: the order lacks the capsule strength "
            "or the daily dose."
        )
    if order.supply_days is None and order.quantity is None:
        ctx.assumptions.append(
            "Supply length not checked: the order gives neither a supply duration nor a quantity."
        )
    if not reasons:
        return
    yield make_finding(
        ctx.kb,
        "SUPPLY-OVER-30-DAYS",
        f"Supply over {limit:g} days: {reasons[0]}"[:SUMMARY_MAX],
        f"One isotretinoin prescription may cover at most {limit:g} days "
        f"(evaluated {ctx.on.isoformat()}). Order: {'; '.join(reasons)}.",
        data=data,
    )


@order_rule("REFILLS-NOT-ALLOWED")
def refills_not_allowed(ctx: ScreeningContext) -> Iterator[Finding]:
    """An unstated number of repeats counts as none (FHIR numberOfRepeatsAllowed
    defaults to 0)."""
    order = ctx.order
    if order is None or not is_oral_order(ctx) or not order.repeats:
        return
    yield make_finding(
        ctx.kb,
        "REFILLS-NOT-ALLOWED",
        f"Order allows {order.repeats} refill(s): isotretinoin allows none",
        f"The order allows {order.repeats} repeat(s) (evaluated {ctx.on.isoformat()}). "
        "Each isotretinoin prescription needs a new authorisation: no refills.",
        data=[("repeats allowed", order.repeats)],
    )


def _dispense_words(supply: SupplyRecord) -> str:
    days = "days supplied not recorded" if supply.days is None else f"{supply.days:g} days"
    quantity = f"{supply.quantity:g} capsules, " if supply.quantity is not None else ""
    of = f" of {supply.prescription}" if supply.prescription else ""
    return f"{supply.on.isoformat()}{of}: {quantity}{days}"


def on_hand_words(found: SupplyOnHand, limit: float) -> tuple[str, str]:
    """(summary, detail) of the supply on hand against the clinic's limit."""
    dispensed = "; ".join(_dispense_words(s) for s in (*found.counted, *found.unknown))
    if found.over(limit):
        summary = (
            f"Supply on hand: {math.floor(found.days)} days left from earlier dispenses "
            f"(clinic policy: at most {limit:g})"
        )
        detail = (
            f"On {found.on.isoformat()} the isotretinoin already dispensed still covers "
            f"{_supply_days_text(found.days)} days, up to {found.last_covered_day}: "
            f"an early or overlapping supply. Not before {found.due_on(limit).isoformat()} "
            f"under the clinic's limit of {limit:g} days. Dispenses: {dispensed}."
        )
    else:
        summary = "Supply on hand unknown: a recent dispense has no days supplied"
        detail = (
            f"On {found.on.isoformat()}: the days supplied of "
            f"{', '.join(s.on.isoformat() for s in found.unknown)} are not recorded, so "
            f"more than {limit:g} days may still be on hand. Dispenses: {dispensed}."
        )
    return summary[:SUMMARY_MAX], detail


def supply_on_hand_finding(kb: KnowledgeBase, found: SupplyOnHand) -> Finding:
    """The SUPPLY-ON-HAND finding for a supply over the clinic's limit or not known."""
    limit = kb.number("ppp.supply_on_hand_max_days")
    summary, detail = on_hand_words(found, limit)
    data: list[tuple[str, object]] = [
        ("supply on hand", f"{_supply_days_text(found.days)} days"),
        ("clinic policy", f"at most {limit:g} days on hand"),
    ]
    data += [("dispensed", _dispense_words(s)) for s in (*found.counted, *found.unknown)]
    return make_finding(kb, "SUPPLY-ON-HAND", summary, detail, data=data)


@order_rule("SUPPLY-ON-HAND")
def supply_still_on_hand(ctx: ScreeningContext) -> Iterator[Finding]:
    if ctx.order is None or not is_oral_order(ctx):
        return
    limit = ctx.kb.number("ppp.supply_on_hand_max_days")
    longest = ctx.kb.number("ppp.max_supply_days")
    found = supply_on_hand(ctx.snapshot.supplies, ctx.on, longest_days=longest, limit=limit)
    if found.over(limit) or found.unknown:
        yield supply_on_hand_finding(ctx.kb, found)


def _course_product(ctx: ScreeningContext) -> tuple[IsotretinoinCourse, Product] | None:
    """The current course if its product is known, else the most recent course with a
    known product (started on or before the evaluation date)."""
    current = ctx.current_course
    started = [c for c in ctx.snapshot.courses if c.start <= ctx.on]
    candidates = sorted(started, key=lambda c: c.start, reverse=True)
    if current is not None:
        candidates = [current, *[c for c in candidates if c is not current]]
    for course in candidates:
        if course.product is None:
            ctx.assumptions.append(
                f"The product of the isotretinoin course started {course.start.isoformat()} "
                "is not recorded: a switch of product could not be checked against it."
            )
            continue
        try:
            return course, ctx.kb.product(course.product)
        except NotFoundError:
            ctx.assumptions.append(
                f"The isotretinoin course started {course.start.isoformat()} names an unknown "
                f"product {course.product!r}: a switch of product could not be checked."
            )
    return None


@order_rule("PRODUCT-NOT-SUBSTITUTABLE")
def product_not_substitutable(ctx: ScreeningContext) -> Iterator[Finding]:
    order = ctx.order
    product = order_product(ctx)
    if order is None or product is None or product.route != ORAL or not is_oral_order(ctx):
        return
    found = _course_product(ctx)
    if found is None:
        return
    course, previous = found
    if previous.route != ORAL or previous.substitution_group == product.substitution_group:
        return
    which = "current" if course is ctx.current_course else "most recent"
    yield make_finding(
        ctx.kb,
        "PRODUCT-NOT-SUBSTITUTABLE",
        f"Product switch from {previous.substitution_group} (course from "
        f"{course.start.isoformat()}) to {product.substitution_group}: doses not "
        "interchangeable",
        f"Order: {product_label(order, product)} (group {product.substitution_group}). "
        f"The {which} isotretinoin course, started {course.start.isoformat()}, used "
        f"{previous.name} (group {previous.substitution_group}). Doses of these products "
        "are not interchangeable.",
        data=[
            ("ordered product", product.id),
            (f"{which} course product", f"{previous.id} (from {course.start.isoformat()})"),
        ],
    )
