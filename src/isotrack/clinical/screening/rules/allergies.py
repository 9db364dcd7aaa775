"""Allergies: to isotretinoin, other retinoids or vitamin A, and to the
excipients of the ordered product (facts.md §1, §4).

Only active allergy records count (not inactive or resolved). Text is matched
against the record's words padded with a space at each end (see
:func:`~isotrack.clinical.screening.rules.conditions.match_as_words`).

Excipients are product-aware: the allergens of the ordered product
(``excipient_allergens``) and of the ordered strength (``strength_allergens``,
e.g. tartrazine in Absorica 25 mg) are checked against the lists
``excipient-allergy-<allergen>``. When the product is not known, every
product's allergens are checked; when the strength is not known, every
strength's. A tree-nut allergy is not a peanut allergy (see the
``excipient-allergy-peanut`` list).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from isotrack.clinical.findings import Finding, make_finding
from isotrack.clinical.screening.context import ScreeningContext, order_rule
from isotrack.clinical.screening.rules.conditions import SUMMARY_LIMIT, words_match
from isotrack.clinical.snapshot import AllergyRecord
from isotrack.errors import NotFoundError
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.model import Product


@dataclass(frozen=True, slots=True)
class AllergyHit:
    record: AllergyRecord
    by_text: bool

    def describe(self) -> str:
        text = self.short
        if self.by_text:
            text += " [recognised by name only, no matching code]"
        return text

    @property
    def short(self) -> str:
        recorded = f" (recorded {self.record.recorded.isoformat()})" if self.record.recorded else ""
        return f"{self.record.concept.label}{recorded}"


def active_allergies(ctx: ScreeningContext, valueset_id: str) -> list[AllergyHit]:
    ctx.kb.valueset(valueset_id)  # an unknown id fails even when no allergy is recorded
    return [
        AllergyHit(record, found.by_text)
        for record, memo in ctx.active_allergy_records
        if (found := words_match(ctx, memo, valueset_id)).matched
    ]


def _clip(text: str, room: int) -> str:
    return text if len(text) <= room else text[: max(room - 1, 0)] + "…"


@order_rule("HYPERSENS-ISOTRETINOIN")
def hypersensitivity_isotretinoin(ctx: ScreeningContext) -> Iterator[Finding]:
    hits = active_allergies(ctx, "allergy-isotretinoin-retinoids-vitamin-a")
    if not hits:
        return
    prefix = "Allergy to isotretinoin, a retinoid or vitamin A: "
    listed = "; ".join(h.describe() for h in hits)
    yield make_finding(
        ctx.kb,
        "HYPERSENS-ISOTRETINOIN",
        prefix + _clip(hits[0].short, SUMMARY_LIMIT - len(prefix)),
        "Hypersensitivity to isotretinoin or any component is a contraindication (US and EU); "
        "Absorica's label adds vitamin A, and retinoids share the structure of vitamin A. "
        f"Active allergies: {listed}.",
        data=[("active allergy", h.describe()) for h in hits],
    )


def _oral_products(kb: KnowledgeBase) -> list[Product]:
    return [p for p in kb.products if p.available and p.route == "oral"]


def _strength_allergens(product: Product, strength_mg: float | None) -> set[str]:
    return {
        allergen
        for strength, allergens in product.strength_allergens.items()
        if strength_mg is None or float(strength) == strength_mg
        for allergen in allergens
    }


def _allergens_to_check(ctx: ScreeningContext) -> tuple[dict[str, list[str]], str]:
    """Allergen -> where it is (product names), and a sentence on what was checked."""
    order = ctx.order
    product: Product | None = None
    if order is not None and order.product is not None:
        try:
            product = ctx.kb.product(order.product)
        except NotFoundError:
            product = None
    strength = order.strength_mg if order is not None else None
    where: dict[str, list[str]] = {}
    if product is None:
        for each in _oral_products(ctx.kb):
            for allergen in {*each.excipient_allergens, *_strength_allergens(each, None)}:
                where.setdefault(allergen, []).append(each.name)
        return where, (
            "The ordered product was not identified, so the excipients of every oral "
            "isotretinoin product were checked."
        )
    for allergen in product.excipient_allergens:
        where.setdefault(allergen, []).append(product.name)
    for allergen in _strength_allergens(product, strength):
        where.setdefault(allergen, []).append(
            f"{product.name} {strength:g} mg" if strength is not None else product.name
        )
    checked = f"Checked the excipients of the ordered product, {product.name}"
    if strength is None:
        checked += " (strength not given, so every strength's)"
    else:
        checked += f" {strength:g} mg"
    return where, checked + "."


def _alternatives(kb: KnowledgeBase, allergens: set[str]) -> str:
    names = []
    for product in _oral_products(kb):
        if allergens & set(product.excipient_allergens):
            continue
        avoid = sorted(
            (s for s, listed in product.strength_allergens.items() if allergens & set(listed)),
            key=float,
        )
        names.append(product.name + (f" (not {', '.join(avoid)} mg)" if avoid else ""))
    if not names:
        return "Every product in the knowledge base lists one of these excipients."
    return "Products whose listed excipients do not include it: " + "; ".join(names) + "."


@order_rule("HYPERSENS-EXCIPIENT")
def hypersensitivity_excipient(ctx: ScreeningContext) -> Iterator[Finding]:
    where, checked = _allergens_to_check(ctx)
    found: dict[str, list[AllergyHit]] = {}
    for allergen in sorted(where):
        hits = active_allergies(ctx, f"excipient-allergy-{allergen}")
        if hits:
            found[allergen] = hits
    if not found:
        return
    first_hits = next(iter(found.values()))
    prefix = f"Excipient allergy ({', '.join(found)}): "
    parts = [
        f"{allergen} (in {', '.join(where[allergen])}): " + "; ".join(h.describe() for h in hits)
        for allergen, hits in found.items()
    ]
    yield make_finding(
        ctx.kb,
        "HYPERSENS-EXCIPIENT",
        prefix + _clip(first_hits[0].short, SUMMARY_LIMIT - len(prefix)),
        f"{checked} Active allergies to an excipient: {' | '.join(parts)}. "
        f"{_alternatives(ctx.kb, set(found))}",
        data=[
            (f"allergy to {allergen}", h.describe())
            for allergen, hits in found.items()
            for h in hits
        ],
    )
